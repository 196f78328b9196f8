"""Sources health: each source's last crawl run, posts and errors, and what was quarantined.

Reads the crawl stage's records (RecordStore kind "crawl_run") and the quarantine through
`crawlers.quarantine`, the reader `yuqing crawl --report` uses; every value of a run is read
defensively, as runs from older versions may lack fields.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawlers.quarantine import quarantined_items as read_quarantine
from index.records import RecordStore
from yuqing.settings import Config

logger = logging.getLogger(__name__)

KIND = "crawl_run"
MAX_QUARANTINED = 500  # items shown, newest files first


@dataclass(frozen=True)
class SourceHealth:
    source: str
    enabled: bool  # listed and enabled in sources.yaml (False: disabled or no longer listed)
    runs: int
    last_started: str | None
    last_finished: str | None
    last_status: str | None
    last_posts: int
    last_new_posts: int
    last_errors: int
    total_errors: int
    quarantined: int  # items in the quarantine files for this source

    @property
    def ok(self) -> bool:
        return (
            self.runs > 0 and self.last_errors == 0 and self.last_status in (None, "ok", "finished")
        )


@dataclass(frozen=True)
class QuarantinedItem:
    file: str
    line: int
    source: str
    error: str
    url: str
    title: str
    raw: str  # the record as stored, for the officer to inspect (untrusted text)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _errors(run: dict[str, Any]) -> int:
    errors = run.get("errors")
    return len(errors) if isinstance(errors, list) else _int(errors)


def quarantined_items(data_dir: Path, limit: int = MAX_QUARANTINED) -> list[QuarantinedItem]:
    """The quarantined items as `yuqing crawl --report` lists them, newest first, at most
    `limit`."""
    found = read_quarantine(Path(data_dir), limit)
    return [_item(record) for record in found["items"]]


def _item(record: dict[str, Any]) -> QuarantinedItem:
    item = record.get("item") if isinstance(record.get("item"), dict) else {}
    shown = {k: v for k, v in record.items() if k not in ("file", "line", "raw")}
    raw = record.get("raw") or json.dumps(shown, ensure_ascii=False, default=str)
    return QuarantinedItem(
        file=str(record.get("file") or ""),
        line=int(record.get("line") or 0),
        source=str(record.get("source") or "(index)"),
        error=str(record.get("error") or record.get("reason") or ""),
        url=str(record.get("url") or item.get("url") or ""),
        title=str(item.get("title") or ""),
        raw=raw[:2000],
    )


def source_health(config: Config, records: RecordStore) -> list[SourceHealth]:
    """One row per source in sources.yaml, and per source seen in crawl runs, by name."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for run in records.list(KIND):
        runs.setdefault(str(run.get("source") or "?"), []).append(run)
    quarantined: dict[str, int] = {}
    for item in quarantined_items(config.data_dir, limit=100_000):
        quarantined[item.source] = quarantined.get(item.source, 0) + 1
    enabled = {s.name: s.enabled for s in config.sources}
    rows = []
    for name in sorted(set(enabled) | set(runs)):
        mine = sorted(runs.get(name, []), key=lambda r: str(r.get("started_at") or ""))
        last = mine[-1] if mine else {}
        rows.append(
            SourceHealth(
                source=name,
                enabled=enabled.get(name, False),
                runs=len(mine),
                last_started=last.get("started_at"),
                last_finished=last.get("finished_at"),
                last_status=last.get("status"),
                last_posts=_int(last.get("posts")),
                last_new_posts=_int(last.get("new_posts")),
                last_errors=_errors(last) if last else 0,
                total_errors=sum(_errors(r) for r in mine),
                quarantined=quarantined.get(name, 0),
            )
        )
    return rows
