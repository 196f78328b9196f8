"""A Scrapy extension that reports each page and post to a callback, for a progress display.

`yuqing crawl` passes the callback in as the YUQING_PROGRESS setting: it is called with the
source's name and one of "page", "post", "dropped", "done".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

Report = Callable[[str, str], None]


class Shared:
    """A callback carried in Scrapy's settings, which are deep-copied: copies share it."""

    def __init__(self, report: Report):
        self.report = report

    def __call__(self, source: str, event: str) -> None:
        self.report(source, event)

    def __deepcopy__(self, memo: dict[int, Any]) -> Shared:
        return self


class ProgressExtension:
    def __init__(self, report: Report):
        self.report = report

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        report = crawler.settings.get("YUQING_PROGRESS")
        if not callable(report):
            raise NotConfigured("YUQING_PROGRESS is not set: no progress display")
        ext = cls(report)
        for handler, signal in (
            (ext.page, signals.response_received),
            (ext.post, signals.item_scraped),
            (ext.dropped, signals.item_dropped),
            (ext.done, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return ext

    def page(self, spider: Any, **_: Any) -> None:
        self.report(spider.name, "page")

    def post(self, spider: Any, **_: Any) -> None:
        self.report(spider.name, "post")

    def dropped(self, spider: Any, **_: Any) -> None:
        self.report(spider.name, "dropped")

    def done(self, spider: Any, **_: Any) -> None:
        self.report(spider.name, "done")
