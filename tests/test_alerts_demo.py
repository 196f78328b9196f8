"""The demo corpus's injected spike fires exactly the alert it should, and nothing else, on
SQLite and on Elasticsearch; severe posts, dedup, updates, cooldown and officers' steps."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from alerts.backtest import MemoryRecords, backtest
from alerts.calendar import load_calendar
from alerts.config import load_alerts
from alerts.engine import KIND, Engine
from alerts.history import acknowledge, resolve
from crawlers.watch import WatchMatcher
from index.base import Store
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from yuqing import demosite
from yuqing.demosite.corpus import DemoCorpus, midnight, with_post
from yuqing.pipeline import classify_posts
from yuqing.routing import load_departments
from yuqing.schema import OfficialReply, Post, content_sha256, post_id, pseudonymise
from yuqing.services import classifier_for
from yuqing.settings import Config

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:8765"
SOURCES = {"forum": "demo-forum", "news": "demo-news", "message": "demo-leader-board"}
SOURCES["complaint"] = "demo-complaints"
PLATFORMS = {"forum": "forum", "news": "news", "message": "message_board"}
PLATFORMS["complaint"] = "complaint"
TODAY = date(2026, 6, 20)  # a snapshot outside every sensitive period


def demo_posts(corpus: DemoCorpus, config: Config) -> list[Post]:
    """The demo corpus as the crawler would store it (with the watch-list's units), classified
    by the configured classifier."""
    posts = []
    watch = WatchMatcher(config.watchlist)
    for p in corpus.posts:
        url = BASE + p.path
        reply = None
        if p.reply is not None:
            reply = OfficialReply(text=p.reply.text, replied_at=p.reply.replied_at, by=p.reply.org)
        posts.append(
            Post(
                id=post_id(url),
                source=SOURCES[p.kind],
                platform=PLATFORMS[p.kind],
                url=url,
                title=p.title,
                text=p.text,
                author=pseudonymise(p.author, b"test"),
                published_at=p.published_at,
                fetched_at=midnight(corpus.today),
                reply=reply,
                content_sha256=content_sha256(p.text),
                units=watch.match(p.title, p.text).units,
            )
        )
    return classify_posts(posts, classifier_for(config))


def engine_for(config: Config, store: Store, records=None) -> Engine:
    deps = load_departments(config.config_dir, config.taxonomy.theme_ids)
    return Engine(
        store,
        records if records is not None else MemoryRecords(),
        load_alerts(config.config_dir, config.taxonomy.theme_ids, deps),
        load_calendar(config.config_dir),
        deps,
        {t.id: t.name for t in config.taxonomy.themes},
    )


def fill(store: Store, corpus: DemoCorpus, config: Config) -> None:
    store.setup()
    store.upsert(demo_posts(corpus, config))


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, project_config, segmenter):
    corpus = demosite.generate(7, TODAY)
    store = SqliteStore(tmp_path_factory.mktemp("demo") / "yuqing.sqlite3", segmenter)
    fill(store, corpus, project_config)
    yield corpus, store
    store.close()


def spike_ids(corpus: DemoCorpus) -> set[str]:
    return {post_id(BASE + p.path) for p in corpus.posts if p.id in corpus.spike["ids"]}


def assert_only_the_spike(corpus: DemoCorpus, events) -> None:
    """One alert, the wage spike, raised once (later events may only be its updates). Its posts
    all name one unit, so it is the unit's spike; the theme's spike folds into it."""
    assert [e.kind for _, e in events][:1] == ["new"]
    assert all(e.kind == "update" for _, e in events[1:])
    scope = (corpus.spike["theme"], corpus.spike["unit"])
    assert {
        (e.alert["id"], e.alert["rule"], e.alert["scope"]["theme"], e.alert["scope"]["unit"])
        for _, e in events
    } == {(events[0][1].alert["id"], "unit-spike", *scope)}
    day, event = events[0]
    assert corpus.spike["start"] <= day <= corpus.spike["end"]
    alert = event.alert
    assert len(set(alert["post_ids"]) & spike_ids(corpus)) >= 0.8 * len(alert["post_ids"])
    assert alert["observed"] >= 5 and alert["ratio"] >= 3 and alert["p_value"] <= 1e-4
    assert alert["expected"] < alert["observed"] / 3
    assert alert["department"] == "hr" and alert["status"] == "open"
    assert len(alert["top_posts"]) == 3
    assert {p["id"] for p in alert["top_posts"]} <= set(alert["post_ids"])
    url = alert["dashboard_url"]
    assert url.startswith("http://127.0.0.1:8501/search?") and "themes=wages" in url
    assert re.search(r"&sentiments=negative&since=\d{4}-\d\d-\d\d&until=\d{4}-\d\d-\d\d$", url)
    assert alert["top_words"] and alert["title"].startswith("【负面声量激增】")


def test_backtest_on_the_demo_fires_the_spike_and_nothing_else(demo_store, project_config):
    corpus, store = demo_store
    events = backtest(engine_for(project_config, store), TODAY - timedelta(days=60), TODAY)
    assert_only_the_spike(corpus, events)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("today", [date(2026, 2, 25), date(2026, 3, 20), date(2026, 10, 13)])
def test_the_spike_alone_in_sensitive_periods_and_other_seeds(
    tmp_path, project_config, segmenter, seed, today
):
    """春节, 两会 and 国庆 fall in these windows: stricter thresholds, still no false alert."""
    corpus = demosite.generate(seed, today)
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    fill(store, corpus, project_config)
    events = backtest(engine_for(project_config, store), today - timedelta(days=60), today)
    store.close()
    assert_only_the_spike(corpus, events)


@pytest.mark.elasticsearch
def test_the_spike_on_elasticsearch(es_client, es_index, project_config, segmenter):
    from index.es_store import ElasticsearchStore
    from index.records import ElasticsearchRecords

    corpus = demosite.generate(7, TODAY)
    store = ElasticsearchStore(es_client, es_index, segmenter, refresh=True)
    fill(store, corpus, project_config)
    records = ElasticsearchRecords(es_client, f"{es_index}-records")
    records.setup()
    try:
        engine = engine_for(project_config, store, records)
        events = backtest(engine, TODAY - timedelta(days=60), TODAY)
        assert_only_the_spike(corpus, events)
        (stored,) = records.list(KIND)
        assert stored["id"] == events[0][1].alert["id"]
        assert stored["history"][0]["event"] == "fired"
        acknowledge(records, stored["id"], "王科长", "已转人力资源部")
        assert records.get(KIND, stored["id"])["acked_by"] == "王科长"
    finally:
        es_client.indices.delete(index=f"{es_index}-records", ignore_unavailable=True)


def test_a_severe_post_alerts_once_at_once(tmp_path, project_config, segmenter):
    corpus, post = with_post(
        demosite.generate(7, TODAY),
        "forum",
        "实在撑不下去了",
        "工资八个月没发，我真的不想活了，明天就去厂门口。",
        "某职工",
        board="staff",
        published_at=midnight(TODAY) + timedelta(hours=9),
    )
    drill = with_post(corpus, "news", "开展安全演练", "实现零伤亡，杜绝死亡事故。", "记者")[0]
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    fill(store, drill, project_config)
    records = SqliteRecords(tmp_path / "records.sqlite3")
    records.setup()
    engine = engine_for(project_config, store, records)
    at = midnight(TODAY) + timedelta(hours=9, minutes=30)
    events = [e for e in engine.evaluate(at) if e.alert["detector"] == "severe"]
    assert [e.alert["post_ids"] for e in events] == [[post_id(BASE + post.path)]]
    alert = events[0].alert
    assert alert["severity"] == "critical" and "不想活了" in alert["summary"]
    assert alert["dashboard_url"].endswith("/post?post=" + alert["post_ids"][0])
    assert alert["department"] == "hr" and events[0].message.title.startswith("[严重·预警]")
    later = [
        e for e in engine.evaluate(at + timedelta(minutes=15)) if e.alert["detector"] == "severe"
    ]
    assert later == []  # the same post never alerts twice
    assert records.get(KIND, alert["id"])["status"] == "open"


def test_one_spike_one_alert_updates_when_it_grows_then_cooldown(
    tmp_path, project_config, segmenter
):
    corpus = demosite.generate(7, TODAY)
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    fill(store, corpus, project_config)
    records = SqliteRecords(tmp_path / "records.sqlite3")
    records.setup()
    engine = engine_for(project_config, store, records)
    start = midnight(corpus.spike["start"])
    kinds = []
    for hour in range(0, 3 * 24, 6):  # every six hours over the spike's three days
        kinds += [(e.kind, e.alert["id"]) for e in engine.evaluate(start + timedelta(hours=hour))]
    ids = {i for _, i in kinds}
    assert len(ids) == 1 and kinds[0][0] == "new"
    assert all(k == "update" for k, _ in kinds[1:])
    doc = records.get(KIND, kinds[0][1])
    assert [h["event"] for h in doc["history"]] == ["fired"] + ["update"] * (len(kinds) - 1)
    acknowledge(records, doc["id"], "王科长", "已转人力资源部")
    doc = records.get(KIND, doc["id"])
    assert doc["status"] == "acknowledged" and doc["acked_by"] == "王科长" and doc["acked_at"]
    resolve(records, doc["id"], "王科长", "已补发")
    doc = records.get(KIND, doc["id"])
    assert doc["status"] == "resolved"
    assert [h["event"] for h in doc["history"]][-2:] == ["acknowledged", "resolved"]
    assert doc["history"][-1]["by"] == "王科长" and doc["history"][-1]["detail"] == "已补发"
    with pytest.raises(KeyError):
        acknowledge(records, "no-such-alert", "王科长")
    # Long after its cooldown, the same spike in a replay is raised again, as a new episode.
    i = next(i for i, r in enumerate(engine.config.rules) if r.name == doc["rule"])
    rule = engine.config.rules[i]
    engine.config.rules[i] = rule.model_copy(update={"cooldown_hours": 0, "window_hours": 72})
    again = engine.evaluate(midnight(TODAY) + timedelta(hours=1))
    assert [e.kind for e in again if e.alert["id"] == doc["id"]] == ["refire"]
    assert records.get(KIND, doc["id"])["status"] == "open"
