"""Validate each scraped item into a `Post` and hand it on through a file the next stage reads.

Valid posts are appended to a JSONL batch under YUQING_OUTPUT_DIR (the inbox that
`yuqing.pipeline` classifies and indexes). An item that fails validation goes to
YUQING_QUARANTINE_DIR with the reason, and is counted; nothing is silently dropped.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Self

from pydantic import ValidationError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from yuqing.schema import SHANGHAI, OfficialReply, Post, post_id, pseudonymise

logger = logging.getLogger(__name__)


class InvalidItem(ValueError):
    pass


def item_to_post(item: dict[str, Any], key: bytes, fetched_at: datetime) -> Post:
    """The validated Post for a scraped item, or InvalidItem saying what is wrong."""
    url = item.get("url")
    text = (item.get("text") or "").strip()
    if not url:
        raise InvalidItem("no URL: the source's selectors found no link for this entry")
    if not text:
        raise InvalidItem(f"no text at {url}: check the source's `detail.text` selector")
    reply = None
    if item.get("reply_text"):
        reply = OfficialReply(
            text=item["reply_text"], replied_at=item.get("reply_at"), by=item.get("reply_by")
        )
    try:
        return Post(
            id=post_id(url),
            source=item["source"],
            platform=item["platform"],
            url=url,
            title=(item.get("title") or "").strip(),
            text=text,
            author=pseudonymise(item.get("author"), key),
            published_at=item.get("published_at"),
            fetched_at=fetched_at,
            reply=reply,
            content_sha256=item["content_sha256"],
            units=item.get("units") or [],
        )
    except ValidationError as e:
        raise InvalidItem(f"invalid post at {url}: {e}") from e


class PostPipeline:
    def __init__(self, crawler: Crawler, output_dir: Path, quarantine_dir: Path, key: bytes):
        self.output_dir = output_dir
        self.quarantine_dir = quarantine_dir
        self.key = key
        self.crawler = crawler
        self.stats = crawler.stats
        self._out: IO[str] | None = None
        self._quarantine: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        for name in ("YUQING_OUTPUT_DIR", "YUQING_QUARANTINE_DIR", "YUQING_PSEUDONYM_KEY"):
            if not s.get(name):
                raise NotConfigured(
                    f"{name} setting must be set to enable {cls.__name__}; run crawls with `yuqing crawl`."
                )
        return cls(
            crawler,
            Path(s["YUQING_OUTPUT_DIR"]),
            Path(s["YUQING_QUARANTINE_DIR"]),
            s["YUQING_PSEUDONYM_KEY"].encode("utf-8"),
        )

    def open_spider(self) -> None:
        spider = self.crawler.spider
        stamp = datetime.now(SHANGHAI).strftime("%Y%m%dT%H%M%S%f")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        # Written as .part and renamed on close, so the indexer never reads half a batch.
        self._path = self.output_dir / f"{stamp}-{spider.name}.jsonl"
        self._out = open(self._path.with_suffix(".part"), "a", encoding="utf-8")
        self._quarantine = open(
            self.quarantine_dir / f"{stamp}-{spider.name}.jsonl", "a", encoding="utf-8"
        )

    def close_spider(self) -> None:
        for handle in (self._out, self._quarantine):
            if handle:
                handle.close()
        part = self._path.with_suffix(".part")
        if part.stat().st_size:
            part.rename(self._path)
        else:
            part.unlink()
        quarantine = self.quarantine_dir / self._path.name
        if quarantine.exists() and not quarantine.stat().st_size:
            quarantine.unlink()

    def process_item(self, item: Any) -> Any:
        spider = self.crawler.spider
        raw = dict(item)
        try:
            post = item_to_post(raw, self.key, datetime.now(SHANGHAI))
        except InvalidItem as e:
            self.stats.inc_value("yuqing/quarantined")
            logger.warning(
                "quarantined an item from %(source)s: %(error)s",
                {"source": spider.name, "error": e},
            )
            raw.pop("author", None)  # never keep the raw handle, even in quarantine
            record = {"error": str(e), "item": raw}
            self._quarantine.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            self._quarantine.flush()
            raise DropItem(str(e)) from e
        self._out.write(post.model_dump_json() + "\n")
        self._out.flush()
        self.stats.inc_value("yuqing/posts")
        return item
