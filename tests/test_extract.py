"""The selectors of sources.yaml, applied by `crawlers.extract`."""

from __future__ import annotations

import pytest
from parsel import Selector

from crawlers import extract


def _parsel(page: Selector, selector: str) -> list:
    """What parsel itself finds for a sources.yaml selector: the reference."""
    if selector.startswith(extract.XPATH_PREFIX):
        found = page.xpath(selector.removeprefix(extract.XPATH_PREFIX).strip())
    else:
        found = page.css(selector)
    return [s.root for s in found]


def test_compiled_selectors_find_what_parsel_finds():
    """`extract` applies the configured selectors as compiled XPath; it must find exactly the
    nodes and strings parsel's `css`/`xpath` (the documented selector language) find, on HTML
    and XML, and fail as parsel does."""
    html = """<html><body><h1 class="t x">标题 <b>一</b></h1>
    <div class="post first"><p>第一段</p><p>第二段<br>换行</p><!-- 注释 --></div>
    <ul><li><a href="/a?x=1">甲</a></li><li><a href=" /b ">乙</a></li><li>无链接</li></ul>
    </body></html>"""
    xml = """<rss><channel><item><title>标题一</title><pubDate>Mon, 02 Nov 2026</pubDate>
    <link>http://127.0.0.1/n/1</link></item><item><title>标题二</title></item></channel></rss>"""
    cases = [
        (Selector(text=html), "h1.t"),
        (Selector(text=html), "h1.t::text"),
        (Selector(text=html), "div.post.first"),
        (Selector(text=html), "div.post p"),
        (Selector(text=html), "li a::attr(href)"),
        (Selector(text=html), "li"),
        (Selector(text=html), "xpath://div[contains(@class, 'post')]/p[2]"),
        (Selector(text=html), "xpath://h1/@class"),
        (Selector(text=html), "xpath://a[re:test(@href, '^/a')]/text()"),
        (Selector(text=html), "span.missing"),
        (Selector(text=xml, type="xml"), "item pubDate"),
        (Selector(text=xml, type="xml"), "item > title::text"),
        (Selector(text=xml, type="xml"), "xpath://item[link]/title"),
    ]
    for page, selector in cases:
        assert extract.find(page, selector) == _parsel(page, selector), selector
    found = extract.find(Selector(text=xml, type="xml"), "item pubDate")
    assert len(found) == 1  # the XML translator keeps the element's case
    page = Selector(text=html)
    assert extract.links(page, "li a::attr(href)") == ["/a?x=1", "/b"]
    assert extract.text(page, "div.post") == "第一段\n第二段\n换行"
    assert extract.texts(page, "li", 10) == ["甲", "乙", "无链接"]
    assert extract.text(page, "xpath:count(//li)") == "3.0"
    for bad in ("xpath://li[", "xpath://li[nosuch:f()]"):
        with pytest.raises(ValueError, match="XPath error"):
            _parsel(page, bad)
        with pytest.raises(ValueError, match="XPath error"):
            extract.find(page, bad)
        with pytest.raises(ValueError, match="XPath error"):
            extract.text(page, bad)
