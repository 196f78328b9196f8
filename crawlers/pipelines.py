"""Validate each scraped item into a `Post` and hand it on through a file the next stage reads.

Valid posts are appended to a JSONL batch under YUQING_OUTPUT_DIR (the inbox that
`yuqing.pipeline` classifies and indexes), one flushed line each, then recorded in the crawl
state (`crawlers.state`): a crawl killed at any point leaves a `.part` batch holding every post
the state knows, which the next run moves into the inbox. At first capture the raw page is
kept as evidence (`crawlers.evidence`), committed before the state records the post; a known
post found gone becomes a tombstone line that the indexer applies to the stored post. An item
that fails validation goes to the quarantine with the reason; nothing is silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Self

from pydantic import ValidationError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawlers.evidence import EvidenceStore
from crawlers.items import GoneItem, QuarantineItem
from crawlers.quarantine import quarantine_for
from crawlers.state import CrawlState
from yuqing.schema import (
    SHANGHAI,
    TRACKING_PARAMS,
    OfficialReply,
    Post,
    canonical_url,
    post_id,
    pseudonymise,
)

logger = logging.getLogger(__name__)

TOMBSTONE = "tombstone"  # the key of a spool line that marks a stored post deleted


class InvalidItem(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def item_to_post(
    item: dict[str, Any],
    key: bytes,
    fetched_at: datetime,
    tracking: tuple[str, ...] | list[str] = TRACKING_PARAMS,
) -> Post:
    """The validated Post for a scraped item, or InvalidItem saying what is wrong."""
    url = item.get("url")
    text = (item.get("text") or "").strip()
    if not url:
        raise InvalidItem(
            "missing_url", "no URL: the source's selectors found no link for this entry"
        )
    if not text:
        raise InvalidItem(
            "missing_text", f"no text at {url}: check the source's `detail.text` selector"
        )
    for raw, parsed in (("published_raw", "published_at"), ("reply_raw", "reply_at")):
        if item.get(raw) and item.get(parsed) is None:
            raise InvalidItem("bad_date", f"unparseable date {item[raw]!r} at {url}")
    reply = None
    if item.get("reply_text"):
        reply = OfficialReply(
            text=item["reply_text"], replied_at=item.get("reply_at"), by=item.get("reply_by")
        )
    try:
        return Post(
            id=post_id(url, tracking),
            source=item["source"],
            platform=item["platform"],
            url=canonical_url(url, tracking),
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
        raise InvalidItem("invalid", f"invalid post at {url}: {e}") from e


def fields_sha256(post: Post) -> str:
    """A digest of what a re-crawl can change: a different one means the post was updated."""
    fields = post.model_dump(mode="json", include={"title", "text", "reply", "published_at"})
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()


class PostPipeline:
    def __init__(self, crawler: Crawler, output_dir: Path, key: bytes, state_path: Path):
        s = crawler.settings
        self.output_dir = output_dir
        self.key = key
        self.crawler = crawler
        self.stats = crawler.stats
        self.state_path = state_path
        self.evidence_dir = Path(s.get("YUQING_EVIDENCE_DIR") or output_dir.parent / "evidence")
        self.tracking = tuple(s.getlist("YUQING_TRACKING_PARAMS") or TRACKING_PARAMS)
        since = s.get("YUQING_SINCE")
        self.since = datetime.fromisoformat(since) if since else None
        # A batch closes (and the indexer may take it) after this many posts or seconds.
        self.batch_posts = s.getint("YUQING_BATCH_POSTS")
        self.batch_seconds = s.getfloat("YUQING_BATCH_SECONDS")
        self._out: IO[str] | None = None
        self._lines = 0
        self._opened = 0.0
        self.state: CrawlState | None = None
        self.evidence: EvidenceStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        for name in (
            "YUQING_OUTPUT_DIR",
            "YUQING_QUARANTINE_DIR",
            "YUQING_PSEUDONYM_KEY",
            "YUQING_STATE_PATH",
        ):
            if not s.get(name):
                raise NotConfigured(
                    f"{name} setting must be set to enable {cls.__name__}; run crawls with `yuqing crawl`."
                )
        pipeline = cls(
            crawler,
            Path(s["YUQING_OUTPUT_DIR"]),
            s["YUQING_PSEUDONYM_KEY"].encode("utf-8"),
            Path(s["YUQING_STATE_PATH"]),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._open_batch()
        self.state = CrawlState(self.state_path)
        self.evidence = EvidenceStore(self.evidence_dir)

    def close_spider(self) -> None:
        self._close_batch()
        if self.evidence is not None:
            self.evidence.close()
            self.evidence = None

    def _open_batch(self) -> None:
        stamp = datetime.now(SHANGHAI).strftime("%Y%m%dT%H%M%S%f")
        # Written as .part and renamed on close, so the indexer never reads half a batch.
        self._path = self.output_dir / f"{stamp}-{self.crawler.spider.name}.jsonl"
        self._out = open(self._path.with_suffix(".part"), "a", encoding="utf-8")
        self._lines, self._opened = 0, time.monotonic()

    def _close_batch(self) -> None:
        if self._out:
            self._out.close()
            self._out = None
        part = self._path.with_suffix(".part")
        if part.stat().st_size:
            part.rename(self._path)
        else:
            part.unlink()

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Move the source's mark only when its crawl finished: a stopped crawl keeps the old
        one, so the next crawl pages as far back as this one should have."""
        if self.state is None:
            return
        if reason == "finished":
            mark = self.state.finish(spider.name, datetime.now(SHANGHAI))
            self.stats.set_value("yuqing/high_water", mark.isoformat() if mark else None)
        self.state.close()
        self.state = None

    def _spool(self, line: dict[str, Any] | str) -> None:
        assert self._out is not None
        self._out.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
        self._out.flush()  # in the page cache before the state records it: a kill loses nothing
        self._lines += 1
        full = self._lines >= self.batch_posts
        if full or time.monotonic() - self._opened >= self.batch_seconds:
            # The line is in the closed batch whichever way the crawl ends from here.
            self._close_batch()
            self._open_batch()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, QuarantineItem):
            quarantine_for(self.crawler).put(
                item["reason"], source=item["source"], url=item.get("url"), error=item["error"]
            )
            raise DropItem(item["error"])
        if isinstance(item, GoneItem):
            return self._gone(item)
        return self._post(item)

    def _post(self, item: Any) -> Any:
        spider = self.crawler.spider
        raw = dict(item)
        now = datetime.now(SHANGHAI)
        try:
            post = item_to_post(raw, self.key, now, self.tracking)
        except InvalidItem as e:
            quarantine_for(self.crawler).put(
                e.reason, source=spider.name, url=raw.get("url"), error=str(e), item=raw
            )
            raise DropItem(str(e)) from e
        if self.since and post.published_at and post.published_at < self.since:
            self.stats.inc_value("yuqing/before_since")
            raise DropItem(f"{post.url} was published before --since")
        assert self.state is not None and self.evidence is not None
        known = self.state.get(post.id)
        digest = fields_sha256(post)
        if known and known.evidence_sha256:
            sha, captured = known.evidence_sha256, known.captured_at
        else:
            body = raw.get("raw") or b""
            sha = self.evidence.save(body) if body else None
            captured = now
        post = post.model_copy(update={"evidence_sha256": sha, "captured_at": captured})
        self._spool(post.model_dump_json())
        self.state.record(
            post_id=post.id,
            source=post.source,
            url=post.url,
            published_at=post.published_at,
            fields_sha256=digest,
            evidence_sha256=sha,
            captured_at=captured,
            seen_at=now,
        )
        self.stats.inc_value("yuqing/posts")
        if known is None:
            self.stats.inc_value("yuqing/new_posts")
        elif known.fields_sha256 != digest or known.deleted_at:
            self.stats.inc_value("yuqing/updated_posts")
        return item

    def _gone(self, item: GoneItem) -> Any:
        assert self.state is not None
        pid = post_id(item["url"], self.tracking)
        if self.state.get(pid) is None:
            quarantine_for(self.crawler).put(
                "gone_unknown",
                source=item["source"],
                url=item["url"],
                error=f"{item['reason']} for a post never captured",
            )
            raise DropItem(f"{item['url']} is gone and was never captured")
        when = self.state.mark_deleted(pid, datetime.now(SHANGHAI))
        self._spool(
            {TOMBSTONE: {"id": pid, "deleted_at": when.isoformat(), "reason": item["reason"]}}
        )
        self.stats.inc_value("yuqing/deleted")
        logger.info("%s is gone from its site (%s)", item["url"], item["reason"])
        return item
