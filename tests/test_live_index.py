"""The live indexer: a worker process that stores each inbox batch as soon as it closes, while
the crawl's process goes on, and never outlives that process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from index.sqlite_store import SqliteStore
from nlp.lexicon import LexiconClassifier
from tests.conftest import ROOT
from tests.posts import make_post
from yuqing.live_index import LiveIndexer
from yuqing.pipeline import DataPaths


def _write_batch(paths: DataPaths, name: str, numbers: range) -> None:
    """As the crawler does: written as .part, renamed once whole."""
    paths.inbox.mkdir(parents=True, exist_ok=True)
    part = paths.inbox / f"{name}.part"
    part.write_text(
        "".join(make_post(n).model_dump_json() + "\n" for n in numbers), encoding="utf-8"
    )
    part.rename(part.with_suffix(".jsonl"))


def _open_index(data: Path, taxonomy, segmenter):
    return SqliteStore(data / "yuqing.sqlite3", segmenter), LexiconClassifier(taxonomy), 64


def _count(data: Path, segmenter) -> int:
    store = SqliteStore(data / "yuqing.sqlite3", segmenter)
    try:
        return store.count()
    finally:
        store.close()


@pytest.fixture
def live_setup(tmp_path, project_config, segmenter):
    """The data folder, with an empty store, and what the worker opens to index into it."""
    paths = DataPaths(tmp_path)
    SqliteStore(tmp_path / "yuqing.sqlite3", segmenter).setup()
    return paths, partial(_open_index, tmp_path, project_config.taxonomy, segmenter)


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_batches_are_stored_as_they_close_and_the_last_on_exit(live_setup, tmp_path, segmenter):
    paths, open_index = live_setup
    with LiveIndexer(paths, open_index) as live:
        _write_batch(paths, "20261101T090000000000-forum-a", range(0, 30))
        assert _wait(lambda: _count(tmp_path, segmenter) == 30)  # while the block still runs
        (paths.inbox / "20261101T090100000000-forum-a.part").write_text(
            make_post(99).model_dump_json() + "\n", encoding="utf-8"
        )  # an open batch: not the indexer's yet
        _write_batch(paths, "20261101T090200000000-forum-a", range(30, 45))
        assert _wait(lambda: _count(tmp_path, segmenter) == 45)
        _write_batch(paths, "20261101T090300000000-forum-a", range(45, 60))  # at the very end
    report = live.report
    assert (report.posts, report.files, report.created, report.error) == (60, 3, 60, None)
    assert 45 <= live.during_crawl <= 60  # the last batch came as the block ended
    assert report.themes["wages"] == 60 and report.sentiments["negative"] == 60
    assert _count(tmp_path, segmenter) == 60
    assert [p.name for p in paths.inbox.iterdir()] == ["20261101T090100000000-forum-a.part"]
    assert len(list(paths.processed.glob("*.jsonl"))) == 3


def test_a_store_that_cannot_open_leaves_the_batches_spooled(tmp_path):
    from index.base import StoreUnavailable

    def unavailable():
        raise StoreUnavailable("the store is down")

    paths = DataPaths(tmp_path)
    _write_batch(paths, "20261101T090000000000-forum-a", range(0, 5))
    with LiveIndexer(paths, unavailable) as live:
        pass
    assert live.report.error == "the store is down" and live.report.posts == 0
    assert len(list(paths.inbox.glob("*.jsonl"))) == 1


@contextmanager
def _deadline(seconds: int):
    """Fail, rather than hang, if the block takes longer."""

    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie waits for its parent to reap it: it runs no more.
    stat = Path(f"/proc/{pid}/stat")
    return stat.is_file() and stat.read_text().split(") ")[1].startswith("Z")


def test_sigterm_to_the_worker_ends_it_after_a_last_pass(live_setup, tmp_path, segmenter):
    """A service manager stopping the whole process group: the worker stores what is closed
    and exits, and the crawl's process neither hangs nor loses the report."""
    paths, open_index = live_setup
    with _deadline(120):
        with LiveIndexer(paths, open_index) as live:
            _write_batch(paths, "20261101T090000000000-forum-a", range(0, 30))
            assert _wait(lambda: _count(tmp_path, segmenter) == 30)
            _write_batch(paths, "20261101T090100000000-forum-a", range(30, 40))
            os.kill(live.pid, signal.SIGTERM)
            assert _wait(lambda: _gone(live.pid))
    assert (live.report.posts, live.report.error) == (40, None)
    assert not list(paths.inbox.iterdir())


def test_a_killed_worker_leaves_the_rest_spooled(live_setup, tmp_path, segmenter):
    paths, open_index = live_setup
    with _deadline(120):
        with LiveIndexer(paths, open_index) as live:
            _write_batch(paths, "20261101T090000000000-forum-a", range(0, 30))
            assert _wait(lambda: _count(tmp_path, segmenter) == 30)
            os.kill(live.pid, signal.SIGKILL)
            assert _wait(lambda: _gone(live.pid))
            _write_batch(paths, "20261101T090100000000-forum-a", range(30, 40))
    assert live.report.error == "live indexer exited with -9"
    assert [p.name for p in paths.inbox.iterdir()] == ["20261101T090100000000-forum-a.jsonl"]


WORKER_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from yuqing.live_index import LiveIndexer
    from yuqing.pipeline import IndexReport, DataPaths
    from index.sqlite_store import SqliteStore
    from nlp.lexicon import LexiconClassifier
    from nlp.segment import get_segmenter
    from yuqing.settings import load_config

    data = Path({data!r})
    config = load_config(Path({root!r}) / "configs", environ={{"YUQING_PSEUDONYM_KEY": "k"}})
    def open_index():
        store = SqliteStore(data / "yuqing.sqlite3", get_segmenter())
        return store, LexiconClassifier(config.taxonomy), 64
    with LiveIndexer(DataPaths(data), open_index) as live:
        (data / "worker.pid").write_text(str(live.pid))
        time.sleep(600)
    """
)


def test_the_worker_exits_when_the_crawl_process_is_killed(tmp_path):
    script = tmp_path / "crawl.py"
    script.write_text(WORKER_SCRIPT.format(root=str(ROOT), data=str(tmp_path)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)])
    try:
        assert _wait(lambda: (tmp_path / "worker.pid").is_file(), timeout=60)
        worker = int((tmp_path / "worker.pid").read_text())
        os.kill(worker, 0)  # alive while the crawl is
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        assert _wait(lambda: _gone(worker), timeout=30), "the live indexer outlived the crawl"
    finally:
        proc.kill()
