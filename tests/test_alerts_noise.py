"""False alarms: the spike test's computed alarm probability matches a simulation, and 90 days
of seeded Poisson noise with no spike raise at most one alert under the default rules."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import numpy as np

from alerts.backtest import backtest
from alerts.stats import false_alarms_per_day, rate_alarm_probability, rate_test
from index.sqlite_store import SqliteStore
from tests.test_alerts_demo import engine_for
from yuqing.schema import SHANGHAI, Classification, Post, content_sha256, post_id

FIRST = date(2026, 4, 1)  # 118 days with no sensitive period: 28 of baseline, then 90 checked
DAYS = 118
UNITS = ["第一采油厂", "第二采油厂", "钻井二公司", "炼化厂"]
SOURCES = ["forum-a", "board-b", "news-c"]


def noise(theme_ids: list[str], seed: int = 20260401) -> list[Post]:
    """Posts per day from constant Poisson rates per (theme, source): no spike anywhere."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    rates = {(t, s): rng.choice([0.1, 0.3, 0.5, 1.0, 2.0]) for t in theme_ids for s in SOURCES}
    posts = []
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        for (theme, source), rate in rates.items():
            for _ in range(nprng.poisson(rate)):
                n = len(posts)
                url = f"http://127.0.0.1/{source}/{n}.html"
                sentiment = rng.choices(["negative", "neutral", "positive"], [6, 3, 1])[0]
                when = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)))
                text = f"关于{theme}的第{n}个帖子，说说情况"
                posts.append(
                    Post(
                        id=post_id(url),
                        source=source,
                        platform="forum",
                        url=url,
                        title=f"帖子{n}",
                        text=text,
                        published_at=when.replace(tzinfo=SHANGHAI),
                        fetched_at=when.replace(tzinfo=SHANGHAI),
                        content_sha256=content_sha256(text),
                        units=[rng.choice(UNITS)] if rng.random() < 0.5 else [],
                        classification=Classification(themes=[theme], sentiment=sentiment),
                    )
                )
    return posts


def test_ninety_days_of_noise_raise_at_most_one_alert(tmp_path, project_config, segmenter):
    store = SqliteStore(tmp_path / "noise.sqlite3", segmenter)
    store.setup()
    posts = noise(project_config.taxonomy.theme_ids)
    store.upsert(posts)
    assert len(posts) > 2000  # 33 series at 0.1-2 a day
    engine = engine_for(project_config, store)
    events = backtest(engine, FIRST + timedelta(days=DAYS - 90), FIRST + timedelta(days=DAYS - 1))
    raised = [(day, e.alert["title"]) for day, e in events if e.kind != "update"]
    print(f"false alerts in 90 days of noise: {len(raised)} {raised}")
    assert len(raised) <= 1
    store.close()


def test_the_alarm_probability_matches_a_simulation():
    """Loose thresholds, so the probability is large enough to estimate by simulation."""
    rate, window, baseline = 1.0, 1.0, 28.0
    thresholds = {"min_count": 2, "min_ratio": 1.5, "max_p": 0.05}
    computed = rate_alarm_probability(rate, window, baseline, **thresholds)
    rng = np.random.default_rng(7)
    xs, ys = rng.poisson(rate * window, 20000), rng.poisson(rate * baseline, 20000)
    fired = 0
    for x, y in zip(xs, ys, strict=True):
        t = rate_test(int(x), int(y), window, baseline)
        fired += x >= 2 and t.ratio >= 1.5 and t.p_value <= 0.05
    simulated = fired / 20000
    assert abs(computed - simulated) < 4 * (computed * (1 - computed) / 20000) ** 0.5 + 1e-3
    assert 0.01 < computed < 0.2


def test_default_false_alarm_rate_is_small():
    """The figure in the README: 11 themes at 0.1-2 negative posts a day."""
    rates = [0.1, 0.3, 0.5, 1.0, 2.0, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0]
    per_day = false_alarms_per_day(rates, 1.0, 28.0, min_count=5, min_ratio=3.0, max_p=1e-4)
    assert 0 < per_day < 1e-3
