"""The five detectors. Each reads the store through the `Store` protocol (`top`, `search`), so
it works on SQLite and Elasticsearch alike, and returns `Candidate`s: what fired, where, and the
query that finds the posts behind it.

spike   negative posts per scope (theme, unit, source) in the window against the baseline
        (`stats.rate_test`), with a minimum count and a minimum ratio.
share   the negative share of a scope's posts against its baseline share (`stats.share_test`).
new     a scope with negative posts in the window and none in the whole baseline.
severe  a single post naming a death, injury, accident or a threat of self-harm.
story   one story_id told by posts from `min_sources` or more sources in the window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.config import Rule
from alerts.stats import rate_test, share_test
from index.base import SearchQuery, Store
from yuqing.schema import Post

FIELDS = {"theme": "themes", "unit": "units", "source": "source"}
FILTERS = {"theme": "themes", "unit": "units", "source": "sources", "story_id": "story_ids"}
TOP_SIZE = 1000
PAGE = 500
NEGATIVE = ("negative",)
# A severe word right after one of these is a statement of safety (零伤亡, 无死亡), not an event.
_DENIALS = ("零", "无", "未", "没有", "杜绝", "防止", "避免", "不发生")


@dataclass(frozen=True)
class Candidate:
    """One detector's finding in one scope, before dedup and consolidation."""

    rule: Rule
    scope: dict[str, str | None]
    observed: int
    expected: float | None
    ratio: float | None
    p_value: float | None
    window_start: datetime
    window_end: datetime
    query: SearchQuery  # the posts behind the finding
    detail: dict[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    baseline_start: datetime | None  # None: the store's history is too short for a baseline

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    @property
    def baseline_days(self) -> float:
        return (self.start - self.baseline_start) / timedelta(days=1) if self.baseline_start else 0


def window_for(rule: Rule, at: datetime, data_start: datetime | None) -> Window:
    """The rule's window ending at `at`, and its baseline just before it, cut to the history."""
    start = at - timedelta(hours=rule.window_hours)
    base = start - timedelta(days=rule.baseline_days)
    if data_start is not None and data_start > base:
        base = data_start
    covered = data_start is not None and (start - base) >= timedelta(days=rule.min_baseline_days)
    return Window(start, at, base if covered else None)


def rule_query(rule: Rule, sentiments: tuple[str, ...] = NEGATIVE) -> SearchQuery:
    return SearchQuery(
        themes=tuple(rule.themes),
        units=tuple(rule.units),
        sources=tuple(rule.sources),
        platforms=tuple(rule.platforms),
        sentiments=sentiments,
        limit=1,
    )


def narrow(query: SearchQuery, dim: str, value: str) -> SearchQuery:
    return replace(query, **{FILTERS[dim]: (value,)})


def scoped(query: SearchQuery, scope: dict[str, str | None]) -> SearchQuery:
    for dim, value in scope.items():
        if value is not None:
            query = narrow(query, dim, value)
    return query


def counts(store: Store, query: SearchQuery, dims: list[str]) -> dict[tuple[str, ...], int]:
    """Matching posts per combination of `dims` values (a post counts in each of its themes)."""
    buckets = store.top(query, FIELDS[dims[0]], TOP_SIZE)
    if len(dims) == 1:
        return {(b.key,): b.count for b in buckets}
    out: dict[tuple[str, ...], int] = {}
    for b in buckets:
        for key, n in counts(store, narrow(query, dims[0], b.key), dims[1:]).items():
            out[(b.key, *key)] = n
    return out


def total(store: Store, query: SearchQuery) -> int:
    return store.search(replace(query, limit=1)).total


def _between(query: SearchQuery, start: datetime, end: datetime) -> SearchQuery:
    return replace(query, since=start, until=end)


def _scope(rule: Rule, key: tuple[str, ...]) -> dict[str, str | None]:
    scope: dict[str, str | None] = {"theme": None, "unit": None, "source": None, "story_id": None}
    scope.update(zip(rule.by, key, strict=True))
    return scope


def _grouped(
    store: Store, rule: Rule, w: Window
) -> Iterator[tuple[dict[str, str | None], int, SearchQuery]]:
    """(scope, negative posts in the window, the scope's query) for scopes with enough posts."""
    base = rule_query(rule)
    for key, n in counts(store, _between(base, w.start, w.end), list(rule.by)).items():
        if n >= rule.min_count:
            scope = _scope(rule, key)
            yield scope, n, scoped(base, scope)


def spike(store: Store, rule: Rule, w: Window) -> list[Candidate]:
    if w.baseline_start is None:
        return []
    found = []
    for scope, n, query in _grouped(store, rule, w):
        y = total(store, _between(query, w.baseline_start, w.start))
        t = rate_test(n, y, w.days, w.baseline_days)
        if t.ratio >= rule.min_ratio and t.p_value <= rule.max_p:
            found.append(
                Candidate(
                    rule, scope, n, t.expected, t.ratio, t.p_value, w.start, w.end,
                    _between(query, w.start, w.end), {"baseline": y},
                )
            )  # fmt: skip
    return found


def share(store: Store, rule: Rule, w: Window) -> list[Candidate]:
    if w.baseline_start is None:
        return []
    found = []
    for scope, n, query in _grouped(store, rule, w):
        every = replace(query, sentiments=())
        total_now = total(store, _between(every, w.start, w.end))
        base_neg = total(store, _between(query, w.baseline_start, w.start))
        base_all = total(store, _between(every, w.baseline_start, w.start))
        now, before, p = share_test(n, total_now, base_neg, base_all)
        if now - before >= rule.min_increase and p <= rule.max_p:
            found.append(
                Candidate(
                    rule, scope, n, round(before * total_now, 3), round(now / before, 2), p,
                    w.start, w.end, _between(query, w.start, w.end),
                    {"share": round(now, 3), "baseline_share": round(before, 3), "posts": total_now},
                )
            )  # fmt: skip
    return found


def new(store: Store, rule: Rule, w: Window) -> list[Candidate]:
    if w.baseline_start is None:
        return []
    found = []
    for scope, n, query in _grouped(store, rule, w):
        if total(store, _between(query, w.baseline_start, w.start)) == 0:
            found.append(
                Candidate(
                    rule, scope, n, 0.0, None, None, w.start, w.end,
                    _between(query, w.start, w.end), {"baseline": 0},
                )
            )  # fmt: skip
    return found


def posts_in(store: Store, query: SearchQuery) -> Iterator[Post]:
    """Every matching post, newest first, paged with search_after."""
    query = replace(query, limit=PAGE, sort="newest", after=None)
    while True:
        result = store.search(query)
        yield from (h.post for h in result.hits)
        if result.next_after is None:
            return
        query = replace(query, after=result.next_after)


def severe_match(rule: Rule) -> Callable[[str], str | None]:
    """A function giving the first severe term or pattern a text contains (not after a denial)."""
    patterns = [re.compile(re.escape(t)) for t in rule.terms]
    patterns += [re.compile(p) for p in rule.patterns]

    def match(text: str) -> str | None:
        for pattern in patterns:
            for m in pattern.finditer(text):
                before = text[max(0, m.start() - 3) : m.start()]
                if not any(before.endswith(d) for d in _DENIALS):
                    return m.group(0)
        return None

    return match


def severe(store: Store, rule: Rule, w: Window) -> list[Candidate]:
    match = severe_match(rule)
    found = []
    query = _between(rule_query(rule, sentiments=()), w.start, w.end)
    for post in posts_in(store, query):
        term = match(post.full_text())
        if term is None:
            continue
        scope = {
            "theme": post.themes[0] if post.themes else None,
            "unit": post.units[0] if post.units else None,
            "source": post.source,
            "story_id": post.story_id,
        }
        found.append(
            Candidate(
                rule, scope, 1, None, None, None, w.start, w.end, query,
                {"post_id": post.id, "term": term},
            )
        )  # fmt: skip
    return found


def story(store: Store, rule: Rule, w: Window) -> list[Candidate]:
    found = []
    query = _between(rule_query(rule, sentiments=()), w.start, w.end)
    for b in store.top(query, "story_id", TOP_SIZE):
        if b.count < rule.min_count:
            continue
        in_story = narrow(query, "story_id", b.key)
        sources = store.top(in_story, "source", TOP_SIZE)
        if len(sources) >= rule.min_sources:
            scope = {"theme": None, "unit": None, "source": None, "story_id": b.key}
            detail = {"sources": len(sources), "source_names": ", ".join(s.key for s in sources)}
            found.append(
                Candidate(rule, scope, b.count, None, None, None, w.start, w.end, in_story, detail)
            )
    return found


DETECTORS: dict[str, Callable[[Store, Rule, Window], list[Candidate]]] = {
    "spike": spike,
    "share": share,
    "new": new,
    "severe": severe,
    "story": story,
}
