"""Incremental and resumable crawls of the demo site on 127.0.0.1, through `yuqing crawl`:
a crawl killed with SIGKILL and run again stores exactly what an uninterrupted crawl stores;
a later crawl stops paging at known posts, yet finds new posts, new replies, edits and
deletions."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from index.base import SearchQuery
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from tests.cli import command, environment, yuqing
from tests.demo_fixtures import point_at, served_demo
from yuqing.demosite import DemoReply
from yuqing.schema import SHANGHAI, post_id

pytestmark = pytest.mark.slow


@pytest.fixture
def site():
    with served_demo() as served:
        yield served


def _contents(data_dir: Path, segmenter) -> dict[str, tuple]:
    """Every stored post's id and content (what the site said; not when it was fetched, nor
    its story, whose id is that of the first of its posts to be indexed)."""
    store = SqliteStore(data_dir / "yuqing.sqlite3", segmenter)
    try:
        hits = store.search(SearchQuery(limit=10_000)).hits
        assert len(hits) == store.count()
    finally:
        store.close()
    return {
        h.post.id: (h.post.source, h.post.url, h.post.title, h.post.text, h.post.author,
                    h.post.published_at, h.post.reply, h.post.deleted)
        for h in hits
    }  # fmt: skip


def _spooled_lines(data_dir: Path) -> int:
    """Lines the crawl has written: in open (.part) and closed batches, indexed or not. The
    live indexer moves batches from inbox/ to processed/ meanwhile: a batch that moved between
    listing and reading is looked for again."""
    for _ in range(10):
        batches = [*data_dir.glob("inbox/*.part"), *data_dir.glob("inbox/*.jsonl")]
        batches += data_dir.glob("processed/*.jsonl")
        try:
            return sum(p.read_bytes().count(b"\n") for p in batches)
        except FileNotFoundError:
            continue
    raise AssertionError("the batches kept moving")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the crawl's live indexer), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:  # after the state, the parent's pid
            found.append(int(stat.parent.name))
    return found


def _wait_gone(pids: list[int], timeout: float = 60) -> None:
    """Wait until none of `pids` runs (exited, or a zombie nobody reaped)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            stat = Path(f"/proc/{pid}/stat")
            try:
                if stat.read_text().split(") ")[1].startswith("Z"):
                    break
            except FileNotFoundError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"process {pid} still runs after the crawl was killed")


def test_killed_crawl_resumes_without_loss_or_duplicates(site, config_dir, tmp_path, segmenter):
    corpus, _, base_url = site
    point_at(config_dir, base_url)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference = yuqing(config_dir, whole, "crawl")
    assert reference.returncode == 0, reference.stderr

    proc = subprocess.Popen(
        command(config_dir, killed, "crawl"),
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _spooled_lines(killed) < 60 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the crawl ended before it could be killed"
    indexer = _children(proc.pid)
    assert indexer, "no live indexer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _wait_gone(indexer)  # the live indexer stores the closed batches, then exits
    spooled = _spooled_lines(killed)
    assert 60 <= spooled < len(corpus.posts)  # killed mid-run
    stored = len(_contents(killed, segmenter)) if (killed / "yuqing.sqlite3").exists() else 0
    assert stored <= spooled  # never more than the crawl wrote

    rerun = yuqing(config_dir, killed, "crawl")
    assert rerun.returncode == 0, rerun.stderr
    assert "recovered" in rerun.stderr
    assert not list((killed / "inbox").glob("*"))  # every batch indexed, none left behind
    got, want = _contents(killed, segmenter), _contents(whole, segmenter)
    assert len(want) == len(corpus.posts)
    assert got == want


def test_terminated_crawl_records_its_runs_and_indexes_what_it_found(
    site, config_dir, tmp_path, segmenter
):
    """SIGTERM (as a service manager sends; Ctrl-C is handled alike) stops the crawl cleanly:
    each source gets its `crawl_run` record, the stopped ones `interrupted`, and every post
    the crawl found is indexed."""
    corpus, _, base_url = site
    point_at(config_dir, base_url)
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        command(config_dir, data_dir, "crawl"),
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while _spooled_lines(data_dir) < 60 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the crawl ended before it could be stopped"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr

    runs = {
        run["source"]: run for run in SqliteRecords(data_dir / "yuqing.sqlite3").list("crawl_run")
    }
    assert set(runs) == {"demo-forum", "demo-news", "demo-leader-board", "demo-complaints"}
    stopped = [run for run in runs.values() if run["status"] == "interrupted"]
    assert stopped and all(run["finish_reason"] == "shutdown" for run in stopped)
    assert all(run["finished_at"] >= run["started_at"] for run in runs.values())
    assert f"{stopped[0]['source']}: interrupted" in stdout
    posts = sum(run["posts"] for run in runs.values())
    assert 60 <= posts < len(corpus.posts)
    store = SqliteStore(data_dir / "yuqing.sqlite3", segmenter)
    try:
        assert store.count() == posts
    finally:
        store.close()
    assert not list((data_dir / "inbox").glob("*"))


def _new_message(corpus, now: datetime):
    newest = corpus.of_kind("message")[0]
    return replace(
        newest,
        id="m99999",
        path=newest.path.replace(newest.id, "m99999"),
        title="新留言：采暖费报销一直没有落实",
        text="去年的采暖费报销到现在还没有落实，问了好几次都说再等等，请领导督促一下。",
        published_at=now - timedelta(hours=2),
        reply=None,
    )


def test_incremental_crawl_finds_new_posts_replies_edits_and_deletions(
    site, config_dir, tmp_path, segmenter
):
    corpus, server, base_url = site
    point_at(config_dir, base_url)
    data_dir = tmp_path / "data"
    first = yuqing(config_dir, data_dir, "crawl")
    assert first.returncode == 0, first.stderr
    pages_first = server.hits.total()

    now = datetime.now(SHANGHAI)
    recent = [p for p in corpus.of_kind("message") if p.published_at > now - timedelta(days=6)]
    unreplied = next(p for p in recent if p.reply is None)
    deleted = next(p for p in recent if p is not unreplied)
    edited = next(p for p in corpus.of_kind("forum") if p.published_at > now - timedelta(days=6))
    fresh = _new_message(corpus, now)
    site_ = server.site
    reply = DemoReply("第三采油厂工会", "已转相关部门核实办理。", now - timedelta(hours=1))
    site_.by_path[unreplied.path] = replace(unreplied, reply=reply)
    site_.by_path[edited.path] = replace(edited, text=edited.text + "\n补充：问题仍未解决。")
    del site_.by_path[deleted.path]  # now 404
    site_.by_path[fresh.path] = fresh
    site_.messages = (fresh, *site_.messages)

    second = yuqing(config_dir, data_dir, "crawl")
    assert second.returncode == 0, second.stderr
    pages_second = server.hits.total() - pages_first
    assert pages_second < pages_first / 2  # paging stopped at known posts
    assert (
        "demo-leader-board: ok" in second.stdout and "(1 new, 1 updated, 1 gone)" in second.stdout
    )
    assert "(0 new, 1 updated, 0 gone)" in second.stdout  # the edited forum post
    assert "1 marked deleted" in second.stdout

    store = SqliteStore(data_dir / "yuqing.sqlite3", segmenter)
    try:
        assert store.count() == len(corpus.posts) + 1
        got = store.get(post_id(base_url + fresh.path))
        assert got is not None and got.title == fresh.title and got.captured_at
        answered = store.get(post_id(base_url + unreplied.path))
        assert answered.reply is not None and answered.reply.by == "第三采油厂工会"
        assert "问题仍未解决" in store.get(post_id(base_url + edited.path)).text
        gone = store.get(post_id(base_url + deleted.path))
        assert gone.deleted and gone.deleted_at and gone.title == deleted.title
        assert store.search(SearchQuery(deleted=True)).total == 1
    finally:
        store.close()

    full = yuqing(config_dir, data_dir, "crawl", "--full")  # ignores the marks
    assert full.returncode == 0, full.stderr
    assert server.hits.total() - pages_first - pages_second >= pages_first - 5
