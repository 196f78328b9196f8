"""Downloader and spider middlewares: bad input never stops a crawl, and failures back off.

- `EncodingMiddleware` re-decodes a page whose declared charset is wrong (`crawlers.encoding`).
- `BadPageMiddleware` quarantines pages over `crawl.max_page_bytes` (Scrapy's DOWNLOAD_MAXSIZE
  cancels them) and empty bodies.
- `BackoffRetryMiddleware` is Scrapy's retry middleware with a delay before each retry:
  `crawl.retry_backoff` doubled per retry, or the server's Retry-After, at most
  `crawl.retry_backoff_max`.
- `ParseErrorMiddleware` (a spider middleware) quarantines a page whose callback raised.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import response_status_message

from crawlers import encoding
from crawlers.quarantine import quarantine_for

logger = logging.getLogger(__name__)

QUARANTINED = "yuqing_quarantined"  # request meta: already quarantined, the errback skips it


class EncodingMiddleware:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        declared = response.encoding
        found = encoding.detect(response.body, declared)
        if encoding.codec_name(declared) == found:
            return response
        self.stats.inc_value("yuqing/encoding_fixed")
        logger.info("%s declares %s but is %s", response.url, declared, found)
        return response.replace(encoding=found)


class BadPageMiddleware:
    def __init__(self, crawler: Crawler, max_bytes: int):
        self.crawler = crawler
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if not max_bytes:
            raise NotConfigured("DOWNLOAD_MAXSIZE must be set (crawl.max_page_bytes)")
        return cls(crawler, max_bytes)

    def _quarantine(self, request: Request, reason: str, error: str) -> None:
        request.meta[QUARANTINED] = True
        spider = self.crawler.spider
        quarantine_for(self.crawler).put(reason, source=spider.name, url=request.url, error=error)

    def process_response(self, request: Request, response: Response) -> Response:
        robots = request.meta.get("dont_obey_robotstxt")  # an empty robots.txt allows all
        if response.status == 200 and not response.body and not robots:
            self._quarantine(request, "empty_body", "the page's body is empty")
            raise IgnoreRequest(f"empty body at {request.url}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, DownloadCancelledError) and "max size" in str(exception):
            self._quarantine(
                request, "oversize", f"larger than {self.max_bytes} bytes: {exception}"
            )


def retry_after(response: Response, now: datetime | None = None) -> float | None:
    """Seconds the server asks to wait (Retry-After: seconds or an HTTP date), if it says."""
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    now = now or datetime.now(when.tzinfo)
    return max(0.0, (when - now).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any):
        super().__init__(settings)
        self.backoff = settings.getfloat("YUQING_RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("YUQING_RETRY_BACKOFF_MAX", 60.0)

    def delay(self, request: Request, response: Response | None = None) -> float:
        """Before retry n (1, 2, …): backoff × 2^(n-1), or Retry-After; at most backoff_max."""
        tries = request.meta.get("retry_times", 0)
        wanted = retry_after(response) if response is not None else None
        if wanted is None:
            wanted = self.backoff * 2**tries
        return min(wanted, self.backoff_max)

    async def _later(self, request: Request, retry: Request | None, wait: float) -> Any:
        if retry is not None and wait > 0:
            self.crawler.stats.inc_value("yuqing/retry_backoff_seconds", wait)
            await asyncio.sleep(wait)
        return retry

    async def process_response(self, request: Request, response: Response) -> Any:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = self.delay(request, response)
        retry = self._retry(request, response_status_message(response.status))
        return await self._later(request, retry, wait) or response

    async def process_exception(self, request: Request, exception: Exception) -> Any:
        if request.meta.get("dont_retry", False) or not isinstance(
            exception, self.exceptions_to_retry
        ):
            return None
        wait = self.delay(request)
        return await self._later(request, self._retry(request, exception), wait)


class ParseErrorMiddleware:
    """A callback that raises on a page quarantines the page; the crawl goes on."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: Exception
    ) -> list[Any] | None:
        if isinstance(exception, HttpError):
            return None
        self.crawler.stats.inc_value("yuqing/errors/parse_error")
        quarantine_for(self.crawler).put(
            "parse_error",
            source=self.crawler.spider.name,
            url=response.url,
            error=f"{type(exception).__name__}: {exception}",
        )
        return []
