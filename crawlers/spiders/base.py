"""What both generic spiders share: the source entry they serve, and page limits."""

from __future__ import annotations

from typing import Any

import scrapy

from yuqing.settings import Source


class SourceSpider(scrapy.Spider):
    """A spider driven by one sources.yaml entry, passed in as `source`."""

    source: Source

    def __init__(self, source: Source | None = None, *args: Any, **kwargs: Any):
        if source is None:
            raise ValueError(
                f"{type(self).__name__} needs a `source` from configs/sources.yaml; run it with `yuqing crawl`."
            )
        super().__init__(*args, name=source.name, **kwargs)
        self.source = source
        self.start_urls = list(source.start_urls)
        self.list_pages = 0

    def _item_base(self) -> dict[str, Any]:
        return {"source": self.source.name, "platform": self.source.platform}

    def _page_budget_left(self) -> bool:
        limit = self.source.max_pages or self.settings.getint("YUQING_MAX_PAGES", 500)
        if self.list_pages >= limit:
            self.logger.info(
                "page limit %(limit)d reached for %(source)s", {"limit": limit, "source": self.name}
            )
            self.crawler.stats.inc_value("yuqing/page_limit_reached")
            return False
        self.list_pages += 1
        return True
