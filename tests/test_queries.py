"""index/queries.py on both stores, against answers computed here from the posts themselves."""

from __future__ import annotations

from collections import Counter

from index import queries
from index.base import Bucket, SearchQuery, hot_words, index_words
from tests.test_store_contract import ALL, full, store  # noqa: F401  (fixtures)
from yuqing.schema import SHANGHAI


def top(counter: Counter, size: int = 10) -> list[Bucket]:
    return [Bucket(k, n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))][:size]


def test_summary_matches_a_count_by_hand(full, segmenter):  # noqa: F811
    s = queries.summary(full)
    rated = [p for p in ALL if p.sentiment]
    assert s.total == len(rated)
    assert s.negative == sum(p.sentiment == "negative" for p in rated)
    assert s.negative_share == s.negative / s.total
    day = lambda p: (p.published_at or p.fetched_at).astimezone(SHANGHAI).date().isoformat()  # noqa: E731
    per_day = Counter(day(p) for p in rated)
    negative_per_day = Counter(day(p) for p in rated if p.sentiment == "negative")
    assert s.days == [queries.DayShare(d, negative_per_day[d], per_day[d]) for d in sorted(per_day)]
    assert s.themes == top(Counter(t for p in rated for t in p.themes), 100)
    assert s.units == top(Counter(u for p in ALL for u in p.units))
    assert s.sources == top(Counter(p.source for p in ALL))
    assert s.stories == top(Counter(p.story_id for p in ALL if p.story_id))
    words = Counter(w for p in ALL for w in hot_words(index_words(p.full_text(), segmenter)))
    assert s.hot_words == top(words)
    assert s.hot_words  # the fixture has words worth counting


def test_summary_of_a_filtered_query(full):  # noqa: F811
    s = queries.summary(full, SearchQuery(sentiments=("negative",)))
    assert s.total == s.negative == sum(p.sentiment == "negative" for p in ALL)
    assert all(d.share == 1.0 for d in s.days)
    assert queries.summary(full, SearchQuery("没有这个词")).total == 0
