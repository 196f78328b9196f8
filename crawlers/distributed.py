"""Distributed crawling: several `yuqing crawl` processes share one request queue in Redis.

With `crawl.redis_url` set, Scrapy's scheduler and duplicate filter are scrapy-redis's: every
process pushes the requests it finds to one queue per source and pops the next one from it,
and a request fingerprint seen by any process is seen by all, so each page is fetched by
exactly one of them. Each process validates and writes the posts it fetched to its own inbox
batch, as a single crawl does.

One crawl is one *run*: processes that share a run share the queue and the seen-set. The run is
`YUQING_CRAWL_RUN` from the environment (start every process of one crawl with the same value,
e.g. the scheduler's timestamp), or else the current UTC hour. A later run starts from a fresh
seen-set, so a re-crawl fetches every page again. Keys are `yuqing:RUN:SOURCE:requests` and
`yuqing:RUN:SOURCE:dupefilter`; they are kept while processes come and go (one process
finishing must not wipe the queue the others still use) and expire `KEY_TTL_SECONDS` after the
last process of the run has closed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

RUN_ENV = "YUQING_CRAWL_RUN"
KEY_TTL_SECONDS = 24 * 3600
IDLE_CHECKS = 2


def crawl_run(environ: dict[str, str] | None = None) -> str:
    """The id shared by the processes of one distributed crawl."""
    environ = os.environ if environ is None else environ
    return environ.get(RUN_ENV) or datetime.now(UTC).strftime("%Y%m%dT%H")


def redis_settings(redis_url: str | None, run: str | None = None) -> dict[str, Any]:
    """Scrapy settings that put the scheduler's queue and seen-set in Redis; {} without a URL."""
    if not redis_url:
        return {}
    prefix = f"yuqing:{run or crawl_run()}:%(spider)s"
    return {
        "SCHEDULER": "crawlers.distributed.ExpiringScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        "SPIDER_MIDDLEWARES": {"crawlers.distributed.SharedQueueMiddleware": 0},
    }


class SharedQueueMiddleware:
    """What a process sharing a queue does differently from a lone crawl.

    Start requests go through the shared seen-set too, so one process alone fetches each
    (Scrapy marks a spider's default start requests `dont_filter`; every process would fetch a
    feed's posts once more). And a process that finds the shared queue empty waits
    `IDLE_CHECKS` idle checks (Scrapy's are 5 s apart) before it closes: a process that started
    just after another, or whose peers are still fetching pages that link to more, gets work.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.idle = 0
        crawler.signals.connect(self._idle, signal=signals.spider_idle)
        crawler.signals.connect(self._busy, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in start:
            if isinstance(item, Request) and item.dont_filter:
                item = item.replace(dont_filter=False)
            yield item

    def _busy(self) -> None:
        self.idle = 0

    def _idle(self) -> None:
        self.idle += 1
        if self.idle < IDLE_CHECKS:
            raise DontCloseSpider


class ExpiringScheduler(Scheduler):
    """scrapy-redis's scheduler, whose keys expire once the run's last process has closed.

    It also counts its stats without the `spider` argument Scrapy 2.13+ deprecates.
    """

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def close(self, reason: str) -> None:
        super().close(reason)
        for key in (self.queue.key, self.df.key):
            self.server.expire(key, KEY_TTL_SECONDS)
        logger.info(
            "closed the shared queue of %(spider)s (%(left)d requests left)",
            {"spider": self.spider.name, "left": len(self.queue)},
        )
