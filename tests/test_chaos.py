"""Real crawls of the demo site in chaos mode (yuqing.demosite.chaos), through `yuqing crawl`.

One server, one corpus. First a normal crawl into store A; then chaos is switched on and the
site is crawled into a fresh store B (a first crawl of a misbehaving site) and again into A
(a re-crawl, where posts that have gone since must be marked deleted, not lost).

What the crawl must do, fault by fault (see the chaos module): a slow page, a transient 500, a
dropped connection and broken HTML are retried or parsed, and the post is stored once with its
exact text; a deleted post (404, 410 or a 该帖已被删除 page), an empty body, a page whose
declared charset is wrong and a 5 MB page are quarantined with the reason, never stored wrong.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from index.sqlite_store import SqliteStore
from tests.cli import yuqing
from tests.test_crawl import _config_for
from yuqing import demosite
from yuqing.demosite import chaos
from yuqing.demosite.corpus import DemoPost
from yuqing.schema import post_id

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _crawl(config_dir: Path, data_dir: Path, *args: str) -> dict:
    proc = yuqing(config_dir, data_dir, "crawl", *args)
    return {"proc": proc, "data_dir": data_dir}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, segmenter):
    corpus = demosite.generate(seed=13)
    plan = chaos.plan(corpus, seed=5)
    server, base_url = demosite.serve_in_thread(corpus)
    root = tmp_path_factory.mktemp("chaos")
    config_dir = root / "configs"
    shutil.copytree(ROOT / "configs", config_dir)
    _config_for(config_dir, base_url)
    try:
        normal = _crawl(config_dir, root / "a")
        server.chaos = plan
        server.attempts.clear()
        fresh = _crawl(config_dir, root / "b")
        fresh["attempts"] = Counter(server.attempts)
        fresh["faults"] = Counter(server.faults_served)
        server.attempts.clear()
        # --full: revisit every listed post, not only those of the last `crawl.recheck_days`
        # (test_crawl_resume covers the incremental re-check of recent posts).
        recrawl = _crawl(config_dir, root / "a", "--full")
    finally:
        server.shutdown()
        server.server_close()
    stores = {
        "a": SqliteStore(root / "a" / "yuqing.sqlite3", segmenter),
        "b": SqliteStore(root / "b" / "yuqing.sqlite3", segmenter),
    }
    yield {
        "corpus": corpus,
        "plan": plan,
        "base": base_url,
        "normal": normal,
        "fresh": fresh,
        "recrawl": recrawl,
        "stores": stores,
    }
    for store in stores.values():
        store.close()


def _fault(plan: chaos.ChaosPlan, post: DemoPost) -> str | None:
    return plan.faults.get(post.path)


def _quarantined(data_dir: Path) -> dict[str, str]:
    """URL -> reason of every quarantined record, from the crawl's and the indexer's files."""
    found = {}
    for path in sorted((data_dir / "quarantine").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            item = record.get("item") or record.get("post") or {}
            url = record.get("url") or item.get("url")
            reason = record.get("error") or record.get("reason") or ""
            if url:
                found[url] = str(reason)
    return found


def test_crawls_finish_in_every_mode(runs):
    for name in ("normal", "fresh", "recrawl"):
        proc = runs[name]["proc"]
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr[-3000:])
        assert "Crawl: " in proc.stdout
    n = len(runs["corpus"].posts)
    assert f"{n} posts, 0 quarantined" in runs["normal"]["proc"].stdout
    assert runs["stores"]["a"].count() >= n


def test_every_retrievable_post_is_stored_once_with_its_text(runs):
    corpus, plan, base, store = runs["corpus"], runs["plan"], runs["base"], runs["stores"]["b"]
    retrievable = [p for p in corpus.posts if _fault(plan, p) in (None, *chaos.RETRIEVABLE)]
    assert {_fault(plan, p) for p in retrievable} == {None, *chaos.RETRIEVABLE}
    for expected in retrievable:
        post = store.get(post_id(base + expected.path))
        assert post is not None, (expected.path, _fault(plan, expected))
        assert post.title == expected.title
        assert _norm(post.text) == _norm(expected.text), expected.path
        assert post.published_at.replace(second=0) == expected.published_at.replace(second=0)
        if expected.reply is not None:
            assert _norm(post.reply.text) == _norm(expected.reply.text)
    lines = Counter()
    for batch in (runs["fresh"]["data_dir"] / "processed").glob("*.jsonl"):
        lines.update(json.loads(x)["url"] for x in batch.read_text(encoding="utf-8").splitlines())
    assert lines and max(lines.values()) == 1  # no post written twice by the crawl


def test_transient_failures_were_retried(runs):
    plan, attempts = runs["plan"], runs["fresh"]["attempts"]
    served = runs["fresh"]["faults"]
    for fault, failures in plan.failures.items():
        details = plan.paths(fault)
        assert details
        for path in details:
            assert attempts[path] == failures + 1, (path, fault)
        lists = [t for (t, f) in served if f == fault and t not in plan.faults]
        assert lists, f"no list page had {fault}: choose another chaos seed"
        for target in lists:
            assert attempts[target] == failures + 1, (target, fault)
    for path in plan.paths("slow"):
        assert attempts[path] == 1


def test_deleted_and_empty_pages_are_quarantined_with_a_reason(runs):
    plan, base = runs["plan"], runs["base"]
    quarantined = _quarantined(runs["fresh"]["data_dir"])
    for path in plan.paths("deleted", "empty"):
        assert quarantined.get(base + path), (path, plan.faults[path])
        assert runs["stores"]["b"].get(post_id(base + path)) is None


def test_gone_posts_are_quarantined_with_the_status(runs):
    plan, base = runs["plan"], runs["base"]
    quarantined = _quarantined(runs["fresh"]["data_dir"])
    for path in plan.paths("gone404", "gone410"):
        reason = quarantined.get(base + path, "")
        status = "404" if plan.faults[path] == "gone404" else "410"
        assert status in reason or "delet" in reason.lower(), (path, reason)


def test_oversize_page_is_quarantined_not_stored(runs):
    plan, base = runs["plan"], runs["base"]
    quarantined = _quarantined(runs["fresh"]["data_dir"])
    for path in plan.paths("huge"):
        assert runs["stores"]["b"].get(post_id(base + path)) is None
        assert re.search(r"size|large|bytes|MB|oversize", quarantined.get(base + path, ""), re.I)


def test_wrong_charset_is_never_stored_garbled(runs):
    corpus, plan, base = runs["corpus"], runs["plan"], runs["base"]
    quarantined = _quarantined(runs["fresh"]["data_dir"])
    by_path = {p.path: p for p in corpus.posts}
    for path in plan.paths("wrong_charset"):
        post = runs["stores"]["b"].get(post_id(base + path))
        if post is None:
            assert quarantined.get(base + path), path
        else:
            assert _norm(post.text) == _norm(by_path[path].text), path


def test_nothing_is_lost(runs):
    corpus, base = runs["corpus"], runs["base"]
    quarantined = _quarantined(runs["fresh"]["data_dir"])
    store = runs["stores"]["b"]
    missing = [
        p.path
        for p in corpus.posts
        if store.get(post_id(base + p.path)) is None and base + p.path not in quarantined
    ]
    assert not missing


def test_recrawl_keeps_gone_posts_marked_deleted(runs):
    corpus, plan, base, store = runs["corpus"], runs["plan"], runs["base"], runs["stores"]["a"]
    gone = set(plan.paths("gone404", "gone410", "deleted"))
    assert store.count() == len(corpus.posts)
    for expected in corpus.posts:
        post = store.get(post_id(base + expected.path))
        assert post is not None and post.text  # the record of what was said stays
        assert bool(post.deleted) == (expected.path in gone), expected.path
