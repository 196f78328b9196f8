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


def test_compiled_selectors_find_what_parsel_finds():
    """`extract` applies the configured selectors as compiled XPath; what it finds must be
    what parsel's `css`/`xpath` (the documented selector language) find."""
    from parsel import Selector

    from crawlers import extract

    html = """<html><body><h1 class="t x">标题 <b>一</b></h1>
    <div class="post first"><p>第一段</p><p>第二段<br>换行</p><!-- 注释 --></div>
    <ul><li><a href="/a?x=1">甲</a></li><li><a href=" /b ">乙</a></li><li>无链接</li></ul>
    </body></html>"""
    page = Selector(text=html)
    for selector in (
        "h1.t",
        "h1.t::text",
        "div.post.first",
        "div.post p",
        "li a::attr(href)",
        "li",
        "xpath://div[contains(@class, 'post')]/p[2]",
        "xpath://h1/@class",
        "span.missing",
    ):
        parsel = extract.select(page, selector)
        want = [extract._node_text(s.root) for s in parsel]
        assert extract.text(page, selector) == (want[0] if want else None), selector
        assert extract.texts(page, selector, 10) == [" ".join(t.split("\n")) for t in want if t]
    assert extract.links(page, "li a::attr(href)") == ["/a?x=1", "/b"]
    assert extract.text(page, "div.post") == "第一段\n第二段\n换行"
