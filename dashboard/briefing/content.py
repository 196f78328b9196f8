"""What a briefing says: one period's numbers against the period before, as plain data.

Every count carries the dashboard search that lists its posts, and every quoted post its
post page, so a reader can check each figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dashboard import alert_desk as alerts
from dashboard import cases
from dashboard.data import midnight
from dashboard.filters import Filters
from dashboard.links import post_url
from index import queries
from index.base import SearchQuery, Store
from index.records import RecordStore
from yuqing.schema import SHANGHAI

PERIODS = {"day": 1, "week": 7}
TOP = 5
QUOTES = 5


@dataclass(frozen=True)
class Count:
    label: str
    count: int
    url: str  # the search that lists these posts


@dataclass(frozen=True)
class Quote:
    title: str
    text: str  # untrusted: the writers escape it
    day: str
    source: str
    url: str  # its post page


@dataclass(frozen=True)
class Briefing:
    period: str
    since: date
    until: date  # exclusive
    generated_at: datetime
    base_url: str
    total: Count
    negative: Count
    previous_total: Count
    previous_negative: Count
    themes: list[Count]
    units: list[Count]
    stories: list[Count]
    quotes: list[Quote]
    per_day: list[tuple[str, str, int]]  # day, sentiment, count (the period and the one before)
    alerts: list[dict] = field(default_factory=list)
    case_counts: dict[str, int] = field(default_factory=dict)
    new_cases: list[dict] = field(default_factory=list)
    overdue_cases: list[dict] = field(default_factory=list)

    @property
    def title(self) -> str:
        last = self.until - timedelta(days=1)
        span = f"{self.since}" if self.since == last else f"{self.since} – {last}"
        return f"舆情简报 Public-opinion briefing, {span}"

    @staticmethod
    def share(negative: Count, total: Count) -> float | None:
        return negative.count / total.count if total.count else None

    @property
    def negative_share(self) -> float | None:
        return self.share(self.negative, self.total)

    @property
    def previous_share(self) -> float | None:
        return self.share(self.previous_negative, self.previous_total)


def period_window(period: str, day: date) -> tuple[date, date]:
    """The period ending with `day` (inclusive): since, until (exclusive)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return day - timedelta(days=PERIODS[period] - 1), day + timedelta(days=1)


def _in(timestamp: str | None, since: date, until: date) -> bool:
    if not timestamp:
        return False
    day = datetime.fromisoformat(timestamp).date()
    return since <= day < until


def build(
    store: Store,
    records: RecordStore,
    period: str,
    day: date,
    base_url: str,
    theme_names: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Briefing:
    names = theme_names or {}
    since, until = period_window(period, day)
    before = since - (until - since)
    window = Filters(since=since.isoformat(), until=until.isoformat())
    earlier = Filters(since=before.isoformat(), until=since.isoformat())
    query = window.query()

    def count(label: str, filters: Filters, n: int) -> Count:
        return Count(label, n, filters.url(base_url))

    rows = store.counts_by_day(
        SearchQuery(since=midnight(before), until=midnight(until)), by_theme=False
    )
    days = queries.negative_share_by_day(rows)
    now_days = [d for d in days if d.day >= since.isoformat()]
    old_days = [d for d in days if d.day < since.isoformat()]
    neg = Filters(sentiments=("negative",), since=window.since, until=window.until)
    old_neg = Filters(sentiments=("negative",), since=earlier.since, until=earlier.until)
    themes = queries.theme_mix(store.counts_by_day(query, by_theme=True))[:TOP]
    units = store.top(query, "units", TOP)
    stories = store.top(query, "story_id", TOP)
    story_counts = []
    for b in stories:
        hit = store.search(SearchQuery(story_ids=(b.key,), limit=1)).hits
        title = hit[0].post.title if hit else b.key
        story_counts.append(
            count(
                title, Filters(story_ids=(b.key,), since=window.since, until=window.until), b.count
            )
        )
    quoted = store.search(neg.query(limit=QUOTES)).hits
    every_case = cases.list_cases(records)
    return Briefing(
        period=period,
        since=since,
        until=until,
        generated_at=now or datetime.now(SHANGHAI),
        base_url=base_url,
        total=count("posts", window, sum(d.total for d in now_days)),
        negative=count("negative posts", neg, sum(d.negative for d in now_days)),
        previous_total=count("posts, period before", earlier, sum(d.total for d in old_days)),
        previous_negative=count(
            "negative posts, period before", old_neg, sum(d.negative for d in old_days)
        ),
        themes=[
            count(
                names.get(b.key, b.key),
                Filters(themes=(b.key,), since=window.since, until=window.until),
                b.count,
            )
            for b in themes
        ],
        units=[
            count(b.key, Filters(units=(b.key,), since=window.since, until=window.until), b.count)
            for b in units
        ],
        stories=story_counts,
        quotes=[
            Quote(
                h.post.title,
                h.post.text[:200],
                h.post.day or "",
                h.post.source,
                post_url(base_url, h.post.id),
            )
            for h in quoted
        ],
        per_day=[(r.day, r.sentiment or "unclassified", r.count) for r in rows],
        alerts=[a for a in alerts.list_alerts(records) if _in(a.get("fired_at"), since, until)],
        case_counts=cases.counts(records, day),
        new_cases=[c for c in every_case if _in(c.get("opened_at"), since, until)],
        overdue_cases=[c for c in every_case if cases.is_overdue(c, day)],
    )
