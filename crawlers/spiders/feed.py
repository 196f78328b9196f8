"""News feeds: RSS 2.0 and Atom. Each entry is a post; its text is the entry's content."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response
from w3lib.html import remove_tags

from crawlers.dates import parse_datetime
from crawlers.items import PostItem
from crawlers.spiders.base import SourceSpider
from yuqing.schema import content_sha256


def _first(node: Selector, *names: str) -> str | None:
    for name in names:
        value = node.xpath(f"string(./*[local-name()='{name}'])").get()
        if value and value.strip():
            return value.strip()
    return None


class FeedSpider(SourceSpider):
    name = "feed"

    async def start(self) -> Any:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def parse(self, response: Response) -> Iterator[PostItem]:
        self._page_budget_left()
        response.selector.remove_namespaces()
        entries = response.xpath("//item | //entry")
        if not entries:
            self.logger.warning("no RSS items or Atom entries in %(url)s", {"url": response.url})
            self.crawler.stats.inc_value("yuqing/feed_empty")
        for entry in entries:
            raw = entry.get().encode("utf-8")  # the entry as the feed gave it
            link = _first(entry, "link") or entry.xpath("./link/@href").get()
            body = _first(entry, "encoded", "content", "description", "summary")
            published_raw = _first(entry, "pubDate", "published", "updated", "date")
            item = self._post(
                url=response.urljoin(link) if link else None,
                title=_first(entry, "title") or "",
                text=remove_tags(body).strip() if body else None,
                author=_first(entry, "author", "creator"),
                published_raw=published_raw,
                published_at=parse_datetime(published_raw),
                content_sha256=content_sha256(raw),
                raw=response.body,  # evidence: the whole feed, stored once per version
            )
            if item is not None:
                yield item
