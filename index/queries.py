"""The questions the dashboard and alerts ask of a store, answered the same way on both.

Everything here goes through the `Store` protocol, so it works on SQLite and Elasticsearch
alike; the contract suite checks the stores, and `tests/test_queries.py` checks this module
on both.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from index.base import Bucket, DayCount, SearchQuery, Store

logger = logging.getLogger(__name__)

NEGATIVE = "negative"


@dataclass(frozen=True)
class DayShare:
    """One day's posts and how many of them are negative."""

    day: str
    negative: int
    total: int

    @property
    def share(self) -> float:
        return self.negative / self.total if self.total else 0.0


@dataclass(frozen=True)
class Summary:
    """An overview of the posts matching one query."""

    total: int
    negative: int
    by_day: list[DayCount]  # day × theme × sentiment: the trend, split both ways
    by_day_sentiment: list[DayCount]  # day × sentiment: each post once
    days: list[DayShare]  # negative share per day (days with posts)
    themes: list[Bucket] = field(default_factory=list)  # a post counts once per theme
    units: list[Bucket] = field(default_factory=list)
    sources: list[Bucket] = field(default_factory=list)
    hot_words: list[Bucket] = field(default_factory=list)
    stories: list[Bucket] = field(default_factory=list)  # largest stories first

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.total if self.total else None


def negative_share_by_day(rows: list[DayCount]) -> list[DayShare]:
    """Per-day negative share from `counts_by_day(by_theme=False)` rows."""
    totals: Counter[str] = Counter()
    negatives: Counter[str] = Counter()
    for row in rows:
        totals[row.day] += row.count
        if row.sentiment == NEGATIVE:
            negatives[row.day] += row.count
    return [DayShare(day, negatives[day], totals[day]) for day in sorted(totals)]


def theme_mix(rows: list[DayCount]) -> list[Bucket]:
    """Posts per theme, most first, from `counts_by_day(by_theme=True)` rows."""
    counts: Counter[str] = Counter()
    for row in rows:
        if row.theme is not None:
            counts[row.theme] += row.count
    return [Bucket(k, n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def summary(store: Store, query: SearchQuery | None = None, size: int = 10) -> Summary:
    """Trend, negative share, theme mix, top units and sources, hot words and the largest
    stories of the posts that match `query` (all posts when None)."""
    query = query or SearchQuery()
    by_day = store.counts_by_day(query, by_theme=True)
    by_day_sentiment = store.counts_by_day(query, by_theme=False)
    days = negative_share_by_day(by_day_sentiment)
    return Summary(
        total=sum(d.total for d in days),
        negative=sum(d.negative for d in days),
        by_day=by_day,
        by_day_sentiment=by_day_sentiment,
        days=days,
        themes=theme_mix(by_day),
        units=store.top(query, "units", size),
        sources=store.top(query, "source", size),
        hot_words=store.top(query, "words", size),
        stories=store.top(query, "story_id", size),
    )
