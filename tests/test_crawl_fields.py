"""The fields the crawler adds (evidence, capture time, deletion time) round-trip in both
stores, and a tombstone marks a stored post deleted in either."""

from __future__ import annotations

from datetime import timedelta

from index.base import SearchQuery
from tests.test_store_contract import BASE, make_post, store  # noqa: F401  (the fixture)
from yuqing.pipeline import Gone, apply_tombstones


def test_evidence_and_deletion_round_trip(store):  # noqa: F811
    post = make_post(1, "工资", "工资拖欠三个月", ["wages"], "negative", day=1)
    post = post.model_copy(update={"evidence_sha256": "ab" * 32, "captured_at": BASE})
    other = make_post(2, "食堂", "食堂饭菜不错", ["welfare"], "positive", day=2)
    store.upsert([post, other])
    assert store.get(post.id) == post
    gone_at = BASE + timedelta(days=3)
    marked = apply_tombstones(store, [Gone(id=post.id, deleted_at=gone_at, reason="HTTP 404")])
    store.upsert(marked)
    got = store.get(post.id)
    assert got.deleted and got.deleted_at == gone_at
    assert (got.text, got.evidence_sha256, got.captured_at) == (post.text, "ab" * 32, BASE)
    assert [h.post.id for h in store.search(SearchQuery(deleted=True)).hits] == [post.id]
    assert apply_tombstones(store, [Gone(id=post.id, deleted_at=BASE, reason="again")]) == []
