"""Boards: forums, Tieba-like boards, complaint sites and message boards.

An optional board index links to list pages; list pages link to detail pages and to the
next list page; a detail page holds one post, its comments (跟帖) and, on message boards,
the official reply. Known posts of the last `crawl.recheck_days` days are revisited for
replies, edits and deletions; with `crawl.incremental`, paging stops at a page of known,
older posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers import extract
from crawlers.dates import parse_datetime
from crawlers.spiders.base import SourceSpider
from yuqing.schema import content_sha256

COMMENTS_HEADING = "【跟帖】"


def with_comments(text: str | None, comments: list[str]) -> str | None:
    """The post's text, then its comments under a heading, one per line."""
    if not text or not comments:
        return text
    return "\n".join([text, COMMENTS_HEADING, *comments])


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
        comments = extract.texts(response, d.comments, d.max_comments)
        if comments:
            self.crawler.stats.inc_value("yuqing/comments", len(comments))
        reply_raw = extract.text(response, d.reply_at)
        reply = self._reply(
            extract.text(response, d.status),
            extract.text(response, d.reply_text),
            extract.text(response, d.reply_by),
            parse_datetime(reply_raw),
        )
        reply["reply_raw"] = reply_raw if reply["reply_text"] else None
        item = self._post(
            url=response.url,
            title=extract.text(response, d.title) or "",
            text=with_comments(text, comments),
            author=extract.text(response, d.author),
            published_raw=published_raw,
            published_at=parse_datetime(published_raw),
            content_sha256=content_sha256(response.body),
            raw=response.body,
            **reply,
        )
        if item is not None:
            yield item


class MessageBoardSpider(BoardSpider):
    """Leadership message boards (领导留言板) and petition sites: a message and the official
    reply, with who replied and when; `detail.status` (已回复/未回复) where the page shows it."""

    name = "message_board"
