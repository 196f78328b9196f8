"""Run one crawl over the configured sources in this process and report what it did."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawlers.distributed import redis_settings
from crawlers.progress import Shared
from crawlers.spiders.board import BoardSpider, MessageBoardSpider
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.json_api import JsonApiSpider
from crawlers.spiders.search import SearchSpider
from yuqing.settings import CrawlSettings, Source

logger = logging.getLogger(__name__)

SPIDERS = {
    "board": BoardSpider,
    "message_board": MessageBoardSpider,
    "feed": FeedSpider,
    "json": JsonApiSpider,
    "search": SearchSpider,
}


def source_figures(stats: dict[str, Any]) -> dict[str, Any]:
    """One source's figures from its Scrapy stats, and its status: "interrupted" when a
    SIGTERM or Ctrl-C stopped it (Scrapy's finish reason "shutdown"), "failed" when it stopped
    early otherwise or fetched nothing, "errors" when requests failed, else "ok"."""

    def n(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    errors = sum(int(v or 0) for k, v in stats.items() if k.startswith("yuqing/errors/"))
    errors += n("log_count/ERROR")
    pages = n("response_received_count")
    reason = stats.get("finish_reason")
    if reason == "shutdown":
        status = "interrupted"
    elif reason != "finished" or not pages:
        status = "failed"
    else:
        status = "errors" if errors else "ok"
    return {
        "pages": pages,
        "posts": n("yuqing/posts"),
        "new_posts": n("yuqing/new_posts"),
        "updated_posts": n("yuqing/updated_posts"),
        "deleted_posts": n("yuqing/deleted"),
        "quarantined": n("yuqing/quarantined"),
        "quarantined_by_reason": {
            k.removeprefix("yuqing/quarantined/"): v
            for k, v in stats.items()
            if k.startswith("yuqing/quarantined/")
        },
        "errors": errors,
        "status": status,
        "finish_reason": reason,
    }


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

    def figures(self) -> dict[str, dict[str, Any]]:
        return {name: source_figures(stats) for name, stats in self.per_source.items()}


def scrapy_settings(
    crawl: CrawlSettings,
    output_dir: Path,
    quarantine_dir: Path,
    key: bytes,
    log_level: str = "WARNING",
    *,
    state_path: Path | None = None,
    evidence_dir: Path | None = None,
    full: bool = False,
    since: datetime | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setmodule("crawlers.settings", priority="project")
    data = output_dir.parent
    settings.update(
        {
            "USER_AGENT": crawl.user_agent,
            "ROBOTSTXT_OBEY": True,
            "DOWNLOAD_DELAY": crawl.download_delay,
            "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
            "AUTOTHROTTLE_START_DELAY": crawl.autothrottle_start_delay,
            "AUTOTHROTTLE_MAX_DELAY": crawl.autothrottle_max_delay,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
            "RETRY_TIMES": crawl.retry_times,
            "YUQING_RETRY_BACKOFF": crawl.retry_backoff,
            "YUQING_RETRY_BACKOFF_MAX": crawl.retry_backoff_max,
            "YUQING_MAX_PAGES": crawl.max_pages_per_source,
            "YUQING_OUTPUT_DIR": str(output_dir),
            "YUQING_QUARANTINE_DIR": str(quarantine_dir),
            "YUQING_STATE_PATH": str(state_path or data / "crawl" / "state.sqlite3"),
            "YUQING_EVIDENCE_DIR": str(evidence_dir or data / "evidence"),
            "YUQING_PSEUDONYM_KEY": key.decode("utf-8"),
            "YUQING_INCREMENTAL": crawl.incremental and not full,
            "YUQING_RECHECK_DAYS": crawl.recheck_days,
            "YUQING_BATCH_POSTS": crawl.batch_posts,
            "YUQING_BATCH_SECONDS": crawl.batch_seconds,
            "YUQING_TRACKING_PARAMS": list(crawl.tracking_params),
            "YUQING_DELETED_MARKERS": list(crawl.deleted_markers),
            "YUQING_SINCE": since.isoformat() if since else None,
            "YUQING_PROGRESS": Shared(progress) if progress else None,
            # The progress display's extension only when there is one to feed.
            "EXTENSIONS": {"crawlers.progress.ProgressExtension": 500} if progress else {},
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
