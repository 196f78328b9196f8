"""Real Scrapy crawls of the demo site on 127.0.0.1, run through the `yuqing` CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from index.sqlite_store import SqliteStore
from yuqing import demosite
from yuqing.schema import post_id, pseudonymise
from yuqing.settings import load_config

pytestmark = pytest.mark.slow
KEY = "crawl-test-key"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SOURCES = len(load_config(CONFIGS, environ={"YUQING_PSEUDONYM_KEY": KEY}).sources)


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "YUQING_PSEUDONYM_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def site():
    corpus = demosite.generate(seed=11)
    server, base_url = demosite.serve_in_thread(corpus)
    yield corpus, server, base_url
    server.shutdown()
    server.server_close()


def _config_for(config_dir: Path, base_url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    settings = config_dir / "settings.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("port: 8765", f"port: {port}"),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory, segmenter):
    """One full crawl of the demo site into a fresh SQLite store, then a second one."""
    corpus, server, base_url = site
    root = tmp_path_factory.mktemp("crawl")
    config_dir = root / "configs"
    import shutil

    shutil.copytree(Path(__file__).resolve().parents[1] / "configs", config_dir)
    _config_for(config_dir, base_url)
    data_dir = root / "data"
    first = run_cli("--config-dir", str(config_dir), "--data-dir", str(data_dir), "crawl")
    second = run_cli(
        "--config-dir", str(config_dir), "--data-dir", str(data_dir), "crawl", "--full"
    )
    store = SqliteStore(data_dir / "yuqing.sqlite3", segmenter)
    yield corpus, server, base_url, first, second, store, data_dir
    store.close()


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_crawl_collects_every_post_once(crawled):
    corpus, _, base_url, first, _, store, _ = crawled
    assert first.returncode == 0, first.stderr
    n = len(corpus.posts)
    assert f"{n} posts, 0 quarantined" in first.stdout
    batches = re.search(
        rf"Index \(sqlite\): {n} posts from (\d+) batch\(es\): {n} created", first.stdout
    )
    assert batches, first.stdout
    # Batches close every crawl.batch_posts (50) posts; most were indexed while crawling.
    assert int(batches[1]) >= SOURCES + 1
    live = re.search(r"\((\d+) of them indexed while the crawl ran\)", first.stdout)
    assert live and 0 < int(live[1]) <= n, first.stdout
    assert store.count() == n
    for expected in corpus.posts:
        post = store.get(post_id(base_url + expected.path))
        assert post is not None, expected.path
        assert post.title == expected.title
        assert _norm(post.text) == _norm(expected.text)
        assert post.published_at == expected.published_at.replace(second=0, microsecond=0)
        assert post.author == pseudonymise(expected.author, KEY.encode())
        assert expected.author not in post.model_dump_json()
        assert post.classification and post.classification.themes and post.classification.sentiment


def test_recrawl_updates_and_never_duplicates(crawled):
    corpus, _, _, _, second, store, data_dir = crawled
    n = len(corpus.posts)
    assert second.returncode == 0, second.stderr
    assert re.search(rf"{n} posts from \d+ batch\(es\): 0 created, {n} updated", second.stdout)
    assert store.count() == n
    assert not list((data_dir / "inbox").glob("*"))  # all batches left the spool
    batches = list((data_dir / "processed").glob("*.jsonl"))
    lines = [b.read_bytes().count(b"\n") for b in batches]
    assert sum(lines) == 2 * n and max(lines) <= 50  # two crawls, batches of at most 50


def test_gbk_board_is_decoded(crawled):
    corpus, _, base_url, _, _, store, _ = crawled
    retirees = [p for p in corpus.posts if p.board == "retirees"]
    assert len(retirees) == 60
    for expected in retirees:
        assert store.get(post_id(base_url + expected.path)).title == expected.title


def test_message_board_replies_and_complaint_responses(crawled):
    corpus, _, base_url, _, _, store, _ = crawled
    platforms = {"message": "message_board", "complaint": "complaint"}
    messages = [p for p in corpus.posts if p.kind in platforms]
    for kind in platforms:
        assert sum(bool(p.reply) for p in messages if p.kind == kind) > 10
    for expected in messages:
        post = store.get(post_id(base_url + expected.path))
        assert post.platform == platforms[expected.kind]
        if expected.reply is None:
            assert post.reply is None
            continue
        assert post.reply.by == expected.reply.org
        assert _norm(post.reply.text) == _norm(expected.reply.text)
        assert post.reply.replied_at == expected.reply.replied_at.replace(second=0, microsecond=0)


def test_feed_items(crawled):
    corpus, _, base_url, _, _, store, _ = crawled
    news = [p for p in corpus.posts if p.kind == "news"]
    assert len(news) == 40
    for expected in news:
        post = store.get(post_id(base_url + expected.path))
        assert (post.source, post.platform) == ("demo-news", "news")
        assert post.published_at == expected.published_at.replace(microsecond=0)


def test_robots_txt_is_obeyed(crawled):
    _, server, _, _, _, _, _ = crawled
    assert server.hits["/robots.txt"] >= 2
    assert server.admin_hits == 0


def test_bad_selector_quarantines_items(site, config_dir, tmp_path):
    _, _, base_url = site
    _config_for(config_dir, base_url)
    sources = config_dir / "sources.yaml"
    text = sources.read_text(encoding="utf-8").replace(
        'text: "div.msg-content"', 'text: "div.no-such-thing"'
    )
    sources.write_text(text, encoding="utf-8")
    data_dir = tmp_path / "data"
    proc = run_cli(
        "--config-dir",
        str(config_dir),
        "--data-dir",
        str(data_dir),
        "crawl",
        "--source",
        "demo-leader-board",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Crawl: " in proc.stdout and " 0 posts, 90 quarantined" in proc.stdout
    [quarantine] = (data_dir / "quarantine").glob("*.jsonl")
    records = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 90
    assert "check the source's `detail.text` selector" in records[0]["error"]
    assert "author" not in records[0]["item"]  # the raw handle is never kept


def test_unknown_source_is_a_usage_error(config_dir):
    proc = run_cli("--config-dir", str(config_dir), "crawl", "--source", "nope")
    assert proc.returncode == 2
    assert (
        "unknown source(s): nope. Known: demo-complaints, demo-forum, demo-leader-board, demo-news."
        in proc.stderr
    )
