"""`yuqing sources check` against the demo site on 127.0.0.1: health from the last crawl, and
which selectors still match (robots.txt obeyed)."""

from __future__ import annotations

import json

import pytest

from crawlers.health import source_health
from index.records import SqliteRecords
from tests.cli import environment, yuqing
from tests.demo_fixtures import point_at, served_demo
from yuqing.settings import load_config

pytestmark = pytest.mark.slow


@pytest.fixture
def site():
    with served_demo() as served:
        yield served


def test_sources_check_reports_health_and_selectors(site, config_dir, tmp_path):
    corpus, server, base_url = site
    point_at(config_dir, base_url)
    data_dir = tmp_path / "data"
    never = yuqing(config_dir, data_dir, "sources", "check", "--json")
    assert never.returncode == 0, never.stderr
    assert {r["last_crawl"] for r in json.loads(never.stdout)} == {None}

    crawl = yuqing(config_dir, data_dir, "crawl", "--source", "demo-leader-board")
    assert crawl.returncode == 0, crawl.stderr
    proc = yuqing(config_dir, data_dir, "sources", "check", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["source"]: r for r in json.loads(proc.stdout)}
    assert set(rows) == {s.name for s in load_config(config_dir, environ=environment()).sources}
    board = rows["demo-leader-board"]
    messages = len(corpus.of_kind("message"))
    assert board["last_status"] == "ok" and board["last_crawl"]
    assert (board["posts"], board["new_posts"], board["errors"]) == (messages, messages, 0)
    assert board["quarantined"] == 0 and board["quarantined_total"] == 0
    assert board["selectors"]["unmatched"] == [] and board["selectors"]["error"] is None
    assert board["selectors"]["matches"]["list.item_links"] == 20
    assert board["selectors"]["matches"]["detail.text"] == 1
    forum = rows["demo-forum"]
    assert forum["last_crawl"] is None and forum["posts"] == 0
    assert forum["selectors"]["matches"]["list.index_links"] > 0
    assert rows["demo-news"]["selectors"]["matches"]["feed entries"] == 40
    assert server.admin_hits == 0

    # The site changed its markup: the check names the selector that matches nothing.
    sources = config_dir / "sources.yaml"
    text = sources.read_text(encoding="utf-8").replace('"h1.msg-title"', '"h1.subject"')
    sources.write_text(text, encoding="utf-8")
    broken = yuqing(config_dir, data_dir, "sources", "check", "--source", "demo-leader-board")
    assert broken.returncode == 1
    assert "MATCHED NOTHING: detail.title" in broken.stdout
    assert f"{messages} posts (0 deleted)" in broken.stdout

    # The dashboard calls the same function with the record store.
    config = load_config(config_dir, data_dir=data_dir, environ={"YUQING_PSEUDONYM_KEY": "k"})
    records = SqliteRecords(data_dir / "yuqing.sqlite3")
    [row] = [r for r in source_health(config, records) if r["source"] == "demo-leader-board"]
    assert row["posts"] == messages and row["last_status"] == "ok"
