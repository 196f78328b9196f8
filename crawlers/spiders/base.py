"""What every generic spider shares: its sources.yaml entry, page limits, official replies and
the watch-list (unit tagging, and the filter of broad sources)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import scrapy

from crawlers.items import PostItem
from crawlers.watch import WatchMatcher
from yuqing.settings import Source


class SourceSpider(scrapy.Spider):
    """A spider driven by one sources.yaml entry, passed in as `source`."""

    source: Source

    def __init__(self, source: Source | None = None, *args: Any, **kwargs: Any):
        if source is None:
            raise ValueError(
                f"{type(self).__name__} needs a `source` from configs/sources.yaml; run it with `yuqing crawl`."
            )
        if source.needs_watchlist and source.watchlist is None:
            raise ValueError(
                f"source {source.name!r} filters or searches by the watch-list, but none was "
                "loaded; load sources with yuqing.settings.load_config (configs/units.yaml)."
            )
        super().__init__(*args, name=source.name, **kwargs)
        self.source = source
        self.start_urls = list(source.start_urls)
        self.list_pages = 0
        self.watch = WatchMatcher(source.watchlist) if source.watchlist else None
        reply_at = source.detail or source.fields
        self._has_replies = bool(reply_at and reply_at.reply_text)

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

    def _reply(
        self, status: str | None, text: str | None, by: str | None, at: datetime | None
    ) -> dict[str, Any]:
        """The reply fields of an item. A status that says unreplied wins over a placeholder
        reply box (暂无回复); a replied status without reply text means a broken selector."""
        stats = self.crawler.stats
        if status is not None and not any(w in status for w in self.source.replied_when):
            text = by = at = None
        elif status is not None and not text:
            stats.inc_value("yuqing/reply_text_missing")
            self.logger.warning(
                "%(source)s: the status says %(status)r but no reply text was found; check the "
                "reply selectors",
                {"source": self.name, "status": status},
            )
        return {"reply_text": text, "reply_by": by, "reply_at": at if text else None}

    def _post(self, **fields: Any) -> PostItem | None:
        """The item, tagged with the units it names; None if the watch-list filter drops it."""
        item = PostItem(**self._item_base(), **fields)
        stats = self.crawler.stats
        if self.watch is not None:
            found = self.watch.match(item.get("title"), item.get("text"))
            if self.source.filters_by_watchlist and not found.names_enterprise:
                stats.inc_value("yuqing/watchlist_filtered")
                self.logger.debug("dropped %(url)s: it does not name the enterprise", dict(item))
                return None
            item["units"] = found.units
        if self._has_replies:
            stats.inc_value("yuqing/replied" if item.get("reply_text") else "yuqing/unreplied")
        return item
