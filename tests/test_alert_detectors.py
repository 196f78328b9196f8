"""Each detector fires on what it is for, injected into seeded noise, and stays quiet on the
noise alone: a spike in one unit, a jump in the negative share, a new unit, a story that spreads
across sources. A spike seen per theme, per unit and per source is one alert."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from alerts.calendar import Custom
from alerts.config import Rule
from alerts.detectors import DETECTORS, window_for
from alerts.engine import data_start
from index.sqlite_store import SqliteStore
from tests.test_alerts_demo import engine_for
from tests.test_alerts_noise import DAYS, FIRST, noise
from yuqing.schema import SHANGHAI, Classification, Post, content_sha256, post_id

CHECK = datetime.combine(FIRST + timedelta(days=DAYS), time(0), SHANGHAI)  # after the last day
LAST_DAY = CHECK - timedelta(days=1)


def extra(n: int, theme: str, sentiment: str, *, unit=None, source="forum-a", story=None) -> Post:
    url = f"http://127.0.0.1/extra/{theme}/{sentiment}/{unit}/{source}/{story}/{n}.html"
    when = LAST_DAY + timedelta(hours=8, minutes=n)
    text = f"第{n}条：{unit or ''}的问题一直没人管"
    return Post(
        id=post_id(url),
        source=source,
        platform="forum",
        url=url,
        title=f"反映{n}",
        text=text,
        published_at=when,
        fetched_at=when,
        content_sha256=content_sha256(text),
        units=[unit] if unit else [],
        story_id=story,
        classification=Classification(themes=[theme], sentiment=sentiment),
    )


@pytest.fixture
def store(tmp_path, project_config, segmenter):
    store = SqliteStore(tmp_path / "noise.sqlite3", segmenter)
    store.setup()
    store.upsert(noise(project_config.taxonomy.theme_ids))
    yield store
    store.close()


def fire(store, **rule) -> list:
    r = Rule.model_validate({"name": "t", **rule})
    return DETECTORS[r.detector](store, r, window_for(r, CHECK, data_start(store)))


def test_the_noise_alone_fires_no_detector(store) -> None:
    assert fire(store, detector="spike", by=["theme", "unit"], max_p=1e-4) == []
    assert (
        fire(store, detector="share", by=["theme"], min_count=6, min_increase=0.4, max_p=1e-4) == []
    )
    assert fire(store, detector="new", by=["unit"], min_count=3) == []
    assert fire(store, detector="story", min_count=3, min_sources=3) == []


def test_a_spike_in_one_unit_is_one_alert(store, project_config) -> None:
    spike = [extra(i, "hardship", "negative", unit="炼化厂") for i in range(8)]
    store.upsert(spike)
    (found,) = fire(store, detector="spike", by=["theme", "unit"], max_p=1e-4)
    assert found.scope == {"theme": "hardship", "unit": "炼化厂", "source": None, "story_id": None}
    assert found.observed >= 8 and found.p_value <= 1e-4 and found.ratio >= 3
    events = engine_for(project_config, store).evaluate(CHECK)
    assert [(e.kind, e.alert["scope"]["theme"]) for e in events] == [("new", "hardship")]
    assert events[0].alert["rule"] in ("theme-spike", "unit-spike")
    alert = events[0].alert
    assert {p.id for p in spike} <= set(alert["post_ids"])
    assert alert["department"] == "retiree-centre"  # 归口: hardship


def test_a_share_jump(store) -> None:
    """legacy: mostly neutral posts (three a day) for four weeks, then a day of negative ones."""
    calm = [extra(i, "legacy", "neutral") for i in range(3)]
    store.upsert(
        [
            p.model_copy(
                update={"id": f"{p.id}-{d}", "published_at": p.published_at - timedelta(days=d)}
            )
            for d in range(1, 29)
            for p in calm
        ]
    )
    store.upsert([extra(i, "legacy", "negative") for i in range(8)])
    found = fire(store, detector="share", by=["theme"], min_count=6, min_increase=0.4, max_p=1e-4)
    assert [c.scope["theme"] for c in found] == ["legacy"]
    assert found[0].detail["share"] - found[0].detail["baseline_share"] >= 0.4


def test_a_new_unit(store) -> None:
    store.upsert([extra(i, "welfare", "negative", unit="新成立的物业公司") for i in range(3)])
    (found,) = fire(store, detector="new", by=["unit"], min_count=3)
    assert found.scope["unit"] == "新成立的物业公司" and found.observed == 3 and found.expected == 0
    assert fire(store, detector="new", by=["unit"], min_count=4) == []


def test_a_story_across_sources(store) -> None:
    posts = [
        extra(i, "wages", "negative", source=s, story="s-1")
        for i, s in enumerate(["forum-a", "board-b"] * 2)
    ]
    store.upsert(posts)
    assert fire(store, detector="story", min_count=3, min_sources=3) == []  # two sources
    store.upsert([extra(9, "wages", "neutral", source="news-c", story="s-1")])
    (found,) = fire(store, detector="story", min_count=3, min_sources=3)
    assert found.scope["story_id"] == "s-1" and found.detail["sources"] == 3
    assert found.observed == 5


def test_a_sensitive_period_lowers_the_bar(store, project_config) -> None:
    store.upsert([extra(i, "wages", "negative", unit="炼化厂") for i in range(3)])  # 4 that day
    engine = engine_for(project_config, store)
    assert engine.evaluate(CHECK, save=False) == []
    period = Custom(name="巡视", start=LAST_DAY.date(), end=CHECK.date())
    engine.calendar = engine.calendar.model_copy(update={"custom": [period]})
    events = engine.evaluate(CHECK, save=False)
    assert [(e.alert["rule"], e.alert["sensitive_period"]) for e in events] == [
        ("unit-spike", "巡视")
    ]
