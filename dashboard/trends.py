"""The overview's numbers beyond `data.overview_frames`: the previous period, trends by unit
and platform, hot words and the largest stories. Plain functions over any `Store`.

One query per line of a trend, run in parallel threads (Elasticsearch answers them at once;
SQLite takes them in turn).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd

from dashboard.data import Overview, midnight, overview_frames
from index import queries
from index.base import Bucket, SearchQuery, Store

logger = logging.getLogger(__name__)

TOP_UNITS = 5  # units drawn as trend lines
TOP_PLATFORMS = 6
TOP_WORDS = 30
TOP_STORIES = 10


@dataclass(frozen=True)
class Story:
    story_id: str
    posts: int
    title: str  # the newest post's title (untrusted text)
    post_id: str


@dataclass(frozen=True)
class Trends:
    base: Overview
    previous_total: int
    previous_negative: int
    posts_today: int
    posts_week: int  # the last 7 days, today included
    unit_per_day: pd.DataFrame  # day, unit, count (top units)
    platform_per_day: pd.DataFrame  # day, platform, count
    units: list[Bucket]
    platforms: list[Bucket]
    hot_words: list[Bucket]
    stories: list[Story]

    @property
    def previous_share(self) -> float | None:
        return self.previous_negative / self.previous_total if self.previous_total else None

    @property
    def share_change(self) -> float | None:
        """The negative share's change against the previous period, in share points."""
        now, before = self.base.negative_share, self.previous_share
        return None if now is None or before is None else now - before


def _per_day(store: Store, query: SearchQuery, field: str, values: list[str]) -> pd.DataFrame:
    def one(value: str) -> list[tuple[str, str, int]]:
        rows = store.counts_by_day(replace(query, **{field: (value,)}), by_theme=False)
        return [(d.day, value, d.total) for d in queries.negative_share_by_day(rows)]

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(values)))) as pool:
        found = [row for rows in pool.map(one, values) for row in rows]
    return pd.DataFrame(found, columns=["day", "value", "count"])


def _stories(store: Store, query: SearchQuery, buckets: list[Bucket]) -> list[Story]:
    stories = []
    for b in buckets:
        hit = store.search(replace(query, story_ids=(b.key,), limit=1)).hits
        if hit:
            stories.append(Story(b.key, b.count, hit[0].post.title, hit[0].post.id))
    return stories


def build(
    store: Store,
    since: date,
    until: date,
    theme_names: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Trends:
    """Everything the overview draws for since ≤ day < until; `today` is the range's last day."""
    today = today or until - timedelta(days=1)
    query = SearchQuery(since=midnight(since), until=midnight(until))
    length = until - since
    previous = SearchQuery(since=midnight(since - length), until=midnight(since))
    with ThreadPoolExecutor(max_workers=6) as pool:
        base = pool.submit(overview_frames, store, since, until, theme_names)
        before = pool.submit(store.counts_by_day, previous, False)
        units = pool.submit(store.top, query, "units", TOP_UNITS)
        platforms = pool.submit(store.top, query, "platform", TOP_PLATFORMS)
        words = pool.submit(store.top, query, "words", TOP_WORDS)
        stories = pool.submit(store.top, query, "story_id", TOP_STORIES)
        unit_buckets, platform_buckets = units.result(), platforms.result()
        unit_days = pool.submit(_per_day, store, query, "units", [b.key for b in unit_buckets])
        platform_days = pool.submit(
            _per_day, store, query, "platforms", [b.key for b in platform_buckets]
        )
        story_list = pool.submit(_stories, store, query, stories.result())
        overview = base.result()
        days_before = queries.negative_share_by_day(before.result())
    per_day = dict(zip(overview.per_day["day"], overview.per_day["count"], strict=True))
    week = {(today - timedelta(days=i)).isoformat() for i in range(7)}
    return Trends(
        base=overview,
        previous_total=sum(d.total for d in days_before),
        previous_negative=sum(d.negative for d in days_before),
        posts_today=int(per_day.get(today.isoformat(), 0)),
        posts_week=int(sum(n for d, n in per_day.items() if d in week)),
        unit_per_day=unit_days.result().rename(columns={"value": "unit"}),
        platform_per_day=platform_days.result().rename(columns={"value": "platform"}),
        units=unit_buckets,
        platforms=platform_buckets,
        hot_words=words.result(),
        stories=story_list.result(),
    )
