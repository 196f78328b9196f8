"""Each source's health, for `yuqing sources check` and the dashboard's sources page.

`source_health(config, records)` joins what the crawl state knows (posts captured, deleted,
the high-water mark) with the latest `crawl_run` record of each source (kept by `yuqing crawl`
in the record store, which the caller passes in) and the quarantine files.
`quarantined_items(data_dir, limit)` lists the quarantine, newest first, with counts by reason.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from crawlers.quarantine import quarantined_items
from crawlers.state import CrawlState
from yuqing.settings import Config

__all__ = ["CRAWL_RUN", "quarantined_items", "source_health"]

CRAWL_RUN = "crawl_run"  # the record kind of one source's crawl


class Records(Protocol):
    def list(
        self, kind: str, *, where: dict[str, Any] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]: ...


def source_health(config: Config, records: Records | None) -> list[dict[str, Any]]:
    """One dict per configured source: name, type, enabled, last_crawl, last_status, posts,
    deleted, high_water, and the last run's pages, new_posts, updated_posts, errors and
    quarantined, plus every quarantined item of the source (quarantined_total)."""
    state_path = config.data_dir / "crawl" / "state.sqlite3"
    known: dict[str, dict[str, Any]] = {}
    if state_path.exists():
        state = CrawlState(state_path)
        try:
            known = state.summary()
        finally:
            state.close()
    runs = records.list(CRAWL_RUN) if records is not None else []  # newest first
    last: dict[str, dict[str, Any]] = {}
    for run in runs:
        last.setdefault(run.get("source"), run)
    quarantined = Counter(
        item.get("source") for item in quarantined_items(config.data_dir, None)["items"]
    )
    out = []
    for source in config.sources:
        run = last.get(source.name, {})
        seen = known.get(source.name, {})
        out.append(
            {
                "source": source.name,
                "type": source.type,
                "enabled": source.enabled,
                "last_crawl": run.get("finished_at") or seen.get("finished_at"),
                "last_status": run.get("status"),
                "posts": seen.get("posts", 0),
                "deleted": seen.get("deleted", 0),
                "high_water": seen.get("high_water"),
                "pages": run.get("pages"),
                "new_posts": run.get("new_posts"),
                "updated_posts": run.get("updated_posts"),
                "errors": run.get("errors"),
                "quarantined": run.get("quarantined"),
                "quarantined_total": quarantined.get(source.name, 0),
            }
        )
    return out
