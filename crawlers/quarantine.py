"""The quarantine: what a crawl could not read, with the reason, in `data/quarantine/*.jsonl`.

Nothing bad stops a crawl and nothing is silently dropped: a page too large, an empty body,
HTML a callback chokes on, an entry without text or with a date nobody can parse, each becomes
one JSON line `{"time", "source", "url", "reason", "error", "item"}` and counts in Scrapy's stats
as `yuqing/quarantined` and `yuqing/quarantined/<reason>`. Author handles are never written.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuqing.schema import SHANGHAI

if TYPE_CHECKING:  # the dashboard reads the quarantine without loading Scrapy
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# The reasons, for the report and the docs.
REASONS = {
    "missing_url": "no link for the entry",
    "missing_text": "no text: the `detail.text` selector matched nothing",
    "bad_date": "a date that no known format parses",
    "invalid": "fields that do not validate into a post",
    "oversize": "a page larger than `crawl.max_page_bytes`",
    "empty_body": "a page with an empty body",
    "parse_error": "a page the spider failed to parse",
    "http_error": "an error status, after the retries",
    "download_error": "no answer, after the retries (timeout, refused connection)",
    "gone_unknown": "a 404/410 or deleted page for a post never captured",
    "index_reject": "a spooled line the indexer could not read",
    "unreadable": "a quarantine line that is not a record (torn or edited)",
}
_PRIVATE = ("author", "raw")  # never written: the raw handle, and the page bytes


class Quarantine:
    """Appends quarantined items of one spider run to one JSONL file, created on first use."""

    def __init__(self, directory: Path, name: str, stats: Any):
        self.path = directory / name
        self.stats = stats

    def put(
        self,
        reason: str,
        *,
        source: str,
        url: str | None,
        error: str,
        item: dict[str, Any] | None = None,
    ) -> None:
        record = {
            "time": datetime.now(SHANGHAI).isoformat(),
            "source": source,
            "url": url,
            "reason": reason,
            "error": error,
            "item": {k: v for k, v in (item or {}).items() if k not in _PRIVATE},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.stats.inc_value("yuqing/quarantined")
        self.stats.inc_value(f"yuqing/quarantined/{reason}")
        logger.warning("quarantined %s from %s (%s): %s", url, source, reason, error)


def quarantine_for(crawler: Crawler) -> Quarantine:
    """The crawler's quarantine (one per spider run), shared by the pipeline and middlewares."""
    found = getattr(crawler, "_yuqing_quarantine", None)
    if found is None:
        stamp = datetime.now(SHANGHAI).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{crawler.spider.name}.jsonl"
        directory = Path(crawler.settings["YUQING_QUARANTINE_DIR"])
        found = Quarantine(directory, name, crawler.stats)
        crawler._yuqing_quarantine = found
    return found


def source_of_file(path: Path) -> str | None:
    """The source a quarantine file belongs to: a crawl's files are `<stamp>-<source>.jsonl`
    (the stamp has no '-'); the indexer's rejects (`index-rejects.jsonl`) belong to none."""
    stamp, _, source = path.stem.partition("-")
    return source if stamp[:1].isdigit() and source else None


def _record(line: str, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if not isinstance(data, dict):  # a torn or edited line: listed, never skipped
        return {
            "time": None,
            "source": source_of_file(path),
            "url": None,
            "reason": "unreadable",
            "error": "unreadable line",
            "item": {},
            "raw": line.strip()[:2000],
        }
    if "reason" in data:
        return data
    if "raw" in data:  # the indexer's rejects: {"file", "line", "error", "raw"}
        return {
            "time": None,
            "source": None,
            "url": None,
            "reason": "index_reject",
            "error": data.get("error"),
            "item": {"file": data.get("file"), "line": data.get("line")},
        }
    item = data.get("item") or {}  # before reasons were recorded: {"error", "item"}
    return {
        "time": None,
        "source": item.get("source") or source_of_file(path),
        "url": item.get("url"),
        "reason": "invalid",
        "error": data.get("error"),
        "item": item,
    }


def quarantined_items(data_dir: Path, limit: int | None = 100) -> dict[str, Any]:
    """The newest `limit` quarantined items (source, url, reason, time, error, and the file and
    line each came from) and the count of every quarantined item by reason, from
    `data_dir/quarantine/`. A line that is not a record is listed as `unreadable`."""
    directory = data_dir / "quarantine"
    items: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                record = _record(line, path)
                counts[record["reason"]] += 1
                record["file"], record["line"] = path.name, n
                items.append(record)
    items.sort(key=lambda r: r.get("time") or "", reverse=True)
    return {
        "total": sum(counts.values()),
        "by_reason": dict(counts.most_common()),
        "items": items if limit is None else items[:limit],
    }
