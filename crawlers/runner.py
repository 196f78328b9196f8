"""Run one crawl over the configured sources in this process and report what it did."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawlers.distributed import redis_settings
from crawlers.spiders.board import BoardSpider
from crawlers.spiders.feed import FeedSpider
from yuqing.settings import CrawlSettings, Source

logger = logging.getLogger(__name__)

SPIDERS = {"board": BoardSpider, "feed": FeedSpider}


@dataclass
class CrawlReport:
    """Per-source figures from Scrapy's stats."""

    per_source: dict[str, dict[str, Any]] = field(default_factory=dict)

    def total(self, key: str) -> int:
        return sum(int(s.get(key, 0) or 0) for s in self.per_source.values())

    @property
    def pages_fetched(self) -> int:
        return self.total("response_received_count")

    @property
    def posts(self) -> int:
        return self.total("yuqing/posts")

    @property
    def quarantined(self) -> int:
        return self.total("yuqing/quarantined")


def scrapy_settings(
    crawl: CrawlSettings,
    output_dir: Path,
    quarantine_dir: Path,
    key: bytes,
    log_level: str = "WARNING",
) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.update(
        {
            "USER_AGENT": crawl.user_agent,
            "ROBOTSTXT_OBEY": True,
            "DOWNLOAD_DELAY": crawl.download_delay,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
            "AUTOTHROTTLE_START_DELAY": crawl.autothrottle_start_delay,
            "AUTOTHROTTLE_MAX_DELAY": crawl.autothrottle_max_delay,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
            "RETRY_TIMES": crawl.retry_times,
            "YUQING_MAX_PAGES": crawl.max_pages_per_source,
            "YUQING_OUTPUT_DIR": str(output_dir),
            "YUQING_QUARANTINE_DIR": str(quarantine_dir),
            "YUQING_PSEUDONYM_KEY": key.decode("utf-8"),
            "LOG_LEVEL": log_level,
            "LOG_INSTALL_ROOT_HANDLER": False,  # the CLI owns logging
        },
        priority="project",  # below a spider's custom_settings, so per-source overrides win
    )
    # Distributed mode: with crawl.redis_url, the queue and seen-set are shared in Redis.
    settings.update(redis_settings(crawl.redis_url), priority="project")
    return settings


def spider_class(source: Source) -> type:
    """The spider class for a source, carrying the source's own politeness overrides."""
    base = SPIDERS[source.type]
    custom: dict[str, Any] = {}
    if source.download_delay is not None:
        custom["DOWNLOAD_DELAY"] = source.download_delay
        custom["AUTOTHROTTLE_START_DELAY"] = source.download_delay
    if not custom:
        return base
    return type(
        f"{base.__name__}_{source.name.replace('-', '_')}", (base,), {"custom_settings": custom}
    )


def run_crawl(sources: list[Source], settings: ScrapySettings) -> CrawlReport:
    """Crawl every enabled source once, concurrently, and block until all finish.

    Twisted's reactor runs once per process, so call this at most once per process.
    """
    process = CrawlerProcess(settings)
    crawlers = {}
    for source in sources:
        if not source.enabled:
            continue
        crawler = process.create_crawler(spider_class(source))
        crawlers[source.name] = crawler
        process.crawl(crawler, source=source)
    if not crawlers:
        logger.warning("no enabled sources to crawl")
        return CrawlReport()
    process.start()
    return CrawlReport({name: c.stats.get_stats() for name, c in crawlers.items()})
