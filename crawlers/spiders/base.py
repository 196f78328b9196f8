"""What the generic spiders share: the source entry they serve, page limits, the crawl state
(incremental paging, re-checks of known posts), deletion checks, failed requests, official
replies and the watch-list (unit tagging, and the filter of broad sources)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.items import GoneItem, PostItem, QuarantineItem
from crawlers.middlewares import QUARANTINED
from crawlers.state import CrawlState
from crawlers.watch import WatchMatcher
from yuqing.schema import SHANGHAI, TRACKING_PARAMS, canonical_url, post_id
from yuqing.settings import Source

GONE_STATUS = (404, 410)


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
        self._state: CrawlState | None = None

    # --- settings and state ----------------------------------------------------------------

    @property
    def tracking(self) -> tuple[str, ...]:
        return tuple(self.settings.getlist("YUQING_TRACKING_PARAMS") or TRACKING_PARAMS)

    @property
    def incremental(self) -> bool:
        return self.settings.getbool("YUQING_INCREMENTAL", False)

    @property
    def state(self) -> CrawlState | None:
        """The crawl state, if the crawl has one (`yuqing crawl` always does)."""
        if self._state is None and self.settings.get("YUQING_STATE_PATH"):
            self._state = CrawlState(Path(self.settings["YUQING_STATE_PATH"]))
        return self._state

    def closed(self, reason: str) -> None:
        if self._state is not None:
            self._state.close()

    def canonical(self, url: str) -> str:
        return canonical_url(url, self.tracking)

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

    # --- incremental crawling --------------------------------------------------------------

    def new_links(self, urls: Iterable[str]) -> tuple[list[str], bool]:
        """The links of a list page to follow, and whether to page on.

        Without incremental crawling (or `--full`), every link, and page on. Otherwise only
        links to posts not captured yet (known ones are revisited by `recheck_requests`), and
        page on unless every post of the page is known and older than the source's mark."""
        tracking = self.tracking
        urls = list(dict.fromkeys(canonical_url(u, tracking) for u in urls))
        state = self.state
        if not self.incremental or state is None:
            return urls, True
        ids = {u: post_id(u, tracking) for u in urls}
        known = state.known(ids.values())
        fresh = [u for u in urls if ids[u] not in known]
        mark = state.high_water(self.name)
        stop = (
            bool(urls)
            and not fresh
            and mark is not None
            and all(k.published_at is not None and k.published_at < mark for k in known.values())
        )
        if stop:
            self.crawler.stats.set_value("yuqing/stopped_at_known_page", True)
            self.logger.info("%s: a list page of known, older posts; not paging on", self.name)
        return fresh, not stop

    def recheck_requests(self, callback: Any) -> Iterator[scrapy.Request]:
        """Requests for the known posts published in the last `recheck_days` days, so a crawl
        notices new replies, edits and deletions."""
        days = self.settings.getint("YUQING_RECHECK_DAYS", 0)
        if self.state is None or days <= 0:
            return
        since = datetime.now(SHANGHAI) - timedelta(days=days)
        for url in self.state.recheck(self.name, since):
            self.crawler.stats.inc_value("yuqing/rechecked")
            yield self.detail_request(url, callback, priority=-1)

    # --- detail pages, deletions and failures ----------------------------------------------

    def detail_request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request for a post's own page: a 404/410 reaches the callback, to mark it gone."""
        meta = {"handle_httpstatus_list": list(GONE_STATUS), "yuqing_detail": True}
        return scrapy.Request(url, callback=callback, errback=self.failed, meta=meta, **kwargs)

    def gone(self, response: Response, text: str | None) -> GoneItem | None:
        """A GoneItem if the page answers 404/410, or shows a deletion marker in place of the
        post (the text selector found nothing, or only a short notice with the marker)."""
        if response.status in GONE_STATUS:
            return GoneItem(source=self.name, url=response.url, reason=f"HTTP {response.status}")
        markers = self.settings.getlist("YUQING_DELETED_MARKERS")
        if not markers or (text and len(text) > 80):
            return None
        page = text or " ".join(response.xpath("//body//text()").getall())
        for marker in markers:
            if marker in page:
                return GoneItem(source=self.name, url=response.url, reason=f"marker {marker}")
        return None

    def failed(self, failure: Failure) -> Iterator[QuarantineItem]:
        """A request that failed after the retries: quarantined with the reason, never fatal."""
        request = failure.request
        if failure.check(HttpError):
            status = failure.value.response.status
            reason, error = "http_error", f"HTTP {status}"
        else:
            reason, error = (
                "download_error",
                f"{failure.type.__name__}: {failure.getErrorMessage()}",
            )
        if request.meta.get(QUARANTINED):
            return  # a middleware quarantined it already (oversize, empty body)
        self.crawler.stats.inc_value(f"yuqing/errors/{reason}")
        yield QuarantineItem(source=self.name, url=request.url, reason=reason, error=error)

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
