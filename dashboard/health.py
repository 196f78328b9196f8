"""Sources health: each source's last crawl run, posts and errors, and what was quarantined.

Reads the crawl stage's records (RecordStore kind "crawl_run") and the JSONL files under
`<data_dir>/quarantine/` directly; every value is read defensively, as runs from older
versions may lack fields.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.records import RecordStore
from yuqing.pipeline import DataPaths
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
    """The quarantined items, newest file first, at most `limit`."""
    folder = DataPaths(Path(data_dir)).quarantine
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
    items: list[QuarantinedItem] = []
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                items.append(_item(path, n, line))
                if len(items) >= limit:
                    return items
    return items


def _item(path: Path, n: int, line: str) -> QuarantinedItem:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = {"error": "unreadable line", "raw": line}
    if not isinstance(record, dict):
        record = {"raw": line}
    item = record.get("item") if isinstance(record.get("item"), dict) else {}
    source = str(item.get("source") or record.get("source") or _source_from_name(path))
    return QuarantinedItem(
        file=path.name,
        line=n,
        source=source,
        error=str(record.get("error") or record.get("reason") or ""),
        url=str(item.get("url") or record.get("url") or ""),
        title=str(item.get("title") or ""),
        raw=line.strip()[:2000],
    )


def _source_from_name(path: Path) -> str:
    # Crawl batches are named <stamp>-<source>.jsonl (the stamp has no '-'); index rejects
    # (index-rejects.jsonl) come from no one source.
    stamp, _, source = path.stem.partition("-")
    return source if stamp[:1].isdigit() and source else "(index)"


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
