"""Boards: forums, Tieba-like boards, complaint sites and message boards.

An optional board index links to list pages; list pages link to detail pages and to the
next list page; a detail page holds one post and, on message boards, the official reply.
Known posts of the last `crawl.recheck_days` days are revisited for replies, edits and
deletions; with `crawl.incremental`, paging stops at a page of known, older posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers import extract
from crawlers.dates import parse_datetime
from crawlers.items import PostItem
from crawlers.spiders.base import SourceSpider
from yuqing.schema import content_sha256


class BoardSpider(SourceSpider):
    name = "board"

    async def start(self) -> Any:
        callback = self.parse_index if self.source.listing.index_links else self.parse_list
        for url in self.start_urls:
            yield scrapy.Request(url, callback=callback, errback=self.failed)
        for request in self.recheck_requests(self.parse_detail):
            yield request

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        for href in extract.links(response, self.source.listing.index_links):
            yield response.follow(href, callback=self.parse_list, errback=self.failed)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        if not self._page_budget_left():
            return
        listing = self.source.listing
        hrefs = [response.urljoin(h) for h in extract.links(response, listing.item_links)]
        follow, page_on = self.new_links(hrefs)
        for url in follow:
            yield self.detail_request(url, self.parse_detail)
        if page_on:
            for href in extract.links(response, listing.next_page)[:1]:
                yield response.follow(href, callback=self.parse_list, errback=self.failed)

    def parse_detail(self, response: Response) -> Iterator[Any]:
        d = self.source.detail
        text = extract.text(response, d.text) if response.status == 200 else None
        if gone := self.gone(response, text):
            yield gone
            return
        published_raw = extract.text(response, d.published_at)
        reply_raw = extract.text(response, d.reply_at)
        yield PostItem(
            **self._item_base(),
            url=response.url,
            title=extract.text(response, d.title) or "",
            text=text,
            author=extract.text(response, d.author),
            published_raw=published_raw,
            published_at=parse_datetime(published_raw),
            reply_text=extract.text(response, d.reply_text),
            reply_by=extract.text(response, d.reply_by),
            reply_raw=reply_raw,
            reply_at=parse_datetime(reply_raw),
            content_sha256=content_sha256(response.body),
            raw=response.body,
        )
