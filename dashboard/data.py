"""What the dashboard shows, as plain data: queries against any `Store`, turned into frames.

Nothing here imports Streamlit, so tests call these functions on a real store. Days are
Asia/Shanghai calendar days; a range is `since` (inclusive) to `until` (exclusive).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import pandas as pd

from dashboard.filters import Filters
from index import queries
from index.base import SearchQuery, SearchResult, Store
from yuqing.schema import SHANGHAI, Post

logger = logging.getLogger(__name__)

RANGE_CHOICES = (7, 30, 60, 90)  # days the overview can look back
DEFAULT_RANGE = 60
NEGATIVE = "negative"
UNCLASSIFIED = "unclassified"  # shown for posts without a sentiment


@dataclass(frozen=True)
class Overview:
    """The overview page's numbers for one range of days."""

    since: date
    until: date
    total: int  # posts published in the range
    negative: int
    negative_share: float | None  # None when the range has no posts
    per_day: pd.DataFrame  # day, count: every day of the range, zeros included
    sentiment_per_day: pd.DataFrame  # day, sentiment, count: days with posts only
    negative_share_per_day: pd.DataFrame  # day, negative, total, share: days with posts
    theme_mix: pd.DataFrame  # theme, name, count: most mentioned first
    theme_per_day: pd.DataFrame = field(  # day, theme, name, count: days with posts
        default_factory=lambda: pd.DataFrame(columns=["day", "theme", "name", "count"])
    )

    def top_theme(self, skip: str | None = None) -> str | None:
        """The Chinese name of the most mentioned theme other than `skip` (the fallback)."""
        named = self.theme_mix[self.theme_mix["theme"] != skip]
        return None if named.empty else str(named.iloc[0]["name"])


@dataclass(frozen=True)
class ResultRow:
    """One search hit, flattened for display. Title and snippet are untrusted text."""

    id: str
    day: str
    source: str
    platform: str
    themes: list[str]  # theme ids
    theme_names: list[str]  # the same themes, by their Chinese names
    sentiment: str
    title: str
    snippet: str
    url: str
    cues: dict[str, list[str]] = field(default_factory=dict)  # why each tag was given
    units: list[str] = field(default_factory=list)
    story_id: str | None = None
    deleted: bool = False
    replied: bool = False
    case_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchPage:
    total: int
    page: int  # 1-based, clamped to the pages there are
    page_count: int  # at least 1
    rows: list[ResultRow]


def day_window(days: int, today: date | None = None) -> tuple[date, date]:
    """The last `days` calendar days up to and including `today` (Asia/Shanghai)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    today = today or datetime.now(SHANGHAI).date()
    return today - timedelta(days=days - 1), today + timedelta(days=1)


def midnight(day: date) -> datetime:
    """The start of `day` in Asia/Shanghai."""
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def overview_frames(
    store: Store,
    since: date,
    until: date,
    theme_names: Mapping[str, str] | None = None,
) -> Overview:
    """Posts per day, negative share per day and the theme mix for `since` ≤ day < `until`.

    A post with several themes counts once per theme in the theme mix, and once elsewhere.
    """
    names = theme_names or {}
    query = SearchQuery(since=midnight(since), until=midnight(until))
    by_sentiment = store.counts_by_day(query, by_theme=False)
    days = queries.negative_share_by_day(by_sentiment)
    totals = {d.day: d.total for d in days}

    sentiment_per_day = pd.DataFrame(
        [(r.day, r.sentiment or UNCLASSIFIED, r.count) for r in by_sentiment],
        columns=["day", "sentiment", "count"],
    )
    every_day = [(since + timedelta(days=i)).isoformat() for i in range((until - since).days)]
    per_day = pd.DataFrame(
        {"day": every_day, "count": [totals.get(d, 0) for d in every_day]},
        columns=["day", "count"],
    )
    shares = pd.DataFrame(
        [(d.day, d.negative, d.total, d.share) for d in days],
        columns=["day", "negative", "total", "share"],
    )
    by_theme = store.counts_by_day(query, by_theme=True)
    theme_mix = pd.DataFrame(
        [(b.key, names.get(b.key, b.key), b.count) for b in queries.theme_mix(by_theme)],
        columns=["theme", "name", "count"],
    )
    theme_per_day = (
        pd.DataFrame(
            [(r.day, r.theme, names.get(r.theme, r.theme), r.count) for r in by_theme if r.theme],
            columns=["day", "theme", "name", "count"],
        )
        .groupby(["day", "theme", "name"], as_index=False)["count"]
        .sum()
    )
    total = sum(d.total for d in days)
    negative = sum(d.negative for d in days)
    logger.debug("overview %s..%s: %d posts, %d negative", since, until, total, negative)
    return Overview(
        since=since,
        until=until,
        total=total,
        negative=negative,
        negative_share=negative / total if total else None,
        per_day=per_day,
        sentiment_per_day=sentiment_per_day,
        negative_share_per_day=shares,
        theme_mix=theme_mix,
        theme_per_day=theme_per_day,
    )


def search_posts(
    store: Store,
    text: str = "",
    themes: Sequence[str] = (),
    sentiments: Sequence[str] = (),
    page: int = 1,
    page_size: int = 10,
    theme_names: Mapping[str, str] | None = None,
    filters: Filters | None = None,
) -> SearchPage:
    """One page of the posts that match `text` and the filters (or `filters`, every filter
    the store has), newest first.

    A `page` past the last one gives the last page, so a narrower search never lands on an
    empty page.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, not {page_size}")
    names = theme_names or {}
    if filters is None:
        filters = Filters(text=text, themes=tuple(themes), sentiments=tuple(sentiments))
    base = filters.query()

    def fetch(number: int) -> SearchResult:
        return store.search(replace(base, limit=page_size, offset=(number - 1) * page_size))

    page = max(1, page)
    result = fetch(page)
    page_count = max(1, math.ceil(result.total / page_size))
    if page > page_count:
        page = page_count
        result = fetch(page)
    rows = [result_row(hit.post, hit.snippet, names) for hit in result.hits]
    return SearchPage(total=result.total, page=page, page_count=page_count, rows=rows)


def result_row(post: Post, snippet: str, names: Mapping[str, str]) -> ResultRow:
    return ResultRow(
        id=post.id,
        day=post.day or "",
        source=post.source,
        platform=post.platform,
        themes=list(post.themes),
        theme_names=[names.get(t, t) for t in post.themes],
        sentiment=post.sentiment or UNCLASSIFIED,
        title=post.title,
        snippet=_without_title(snippet, post.title),
        url=post.url,
        cues=dict(post.classification.cues) if post.classification else {},
        units=list(post.units),
        story_id=post.story_id,
        deleted=post.deleted,
        replied=post.replied,
        case_ids=list(post.annotations.case_ids) if post.annotations else [],
    )


def explain(cues: Mapping[str, Sequence[str]], theme_names: Mapping[str, str]) -> list[str]:
    """One line per tag: the tag's name, then the cues that caused it."""
    lines = []
    for key, found in cues.items():
        label = "情感 sentiment" if key == "sentiment" else theme_names.get(key, key)
        lines.append(f"{label}: {' '.join(found)}")
    return lines


def _without_title(snippet: str, title: str) -> str:
    """The snippet without the title it starts with when it is the post's opening words."""
    title = title.replace("\n", " ")
    if title and snippet.startswith(title + " "):
        return snippet[len(title) :].lstrip()
    return snippet
