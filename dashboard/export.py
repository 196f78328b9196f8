"""Search results as CSV or Excel files, every export recorded in the audit log.

Exports walk the result with `search_after` cursors, so a large export costs the same per
page as a small one; at most `MAX_ROWS` posts go into one file.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from openpyxl import Workbook

from dashboard import audit
from dashboard.auth import User, require
from dashboard.filters import Filters
from dashboard.links import post_url
from index.base import Store
from index.records import RecordStore
from yuqing.schema import Post

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
PAGE = 500
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = (
    "id", "published", "source", "platform", "title", "text", "url", "themes", "sentiment",
    "units", "story_id", "replied", "reply", "deleted", "case_ids", "dashboard_link",
)  # fmt: skip


def iter_posts(store: Store, filters: Filters, limit: int = MAX_ROWS) -> Iterator[Post]:
    after = None
    sent = 0
    while sent < limit:
        result = store.search(filters.query(limit=min(PAGE, limit - sent), after=after))
        for hit in result.hits:
            yield hit.post
        sent += len(result.hits)
        after = result.next_after
        if after is None or not result.hits:
            return


def row(post: Post, base_url: str, names: Mapping[str, str]) -> list[Any]:
    when = post.published_at or post.fetched_at
    return [
        post.id,
        when.isoformat(),
        post.source,
        post.platform,
        post.title,
        post.text,
        post.url,
        "、".join(names.get(t, t) for t in post.themes),
        post.sentiment or "",
        "、".join(post.units),
        post.story_id or "",
        "yes" if post.replied else "no",
        post.reply.text if post.reply else "",
        "yes" if post.deleted else "no",
        " ".join(post.annotations.case_ids) if post.annotations else "",
        post_url(base_url, post.id),
    ]


def _safe_cell(value: Any) -> Any:
    # A crawled text starting with = + - @ would be a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([[_safe_cell(v) for v in r] for r in rows])
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese


def to_xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("posts")
    sheet.append(list(COLUMNS))
    for r in rows:
        sheet.append([_safe_cell(v) for v in r])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(
    store: Store,
    records: RecordStore,
    actor: User,
    filters: Filters,
    fmt: str,
    base_url: str,
    names: Mapping[str, str] | None = None,
) -> bytes:
    """The matching posts as a `fmt` ("csv" or "xlsx") file; officers and admins only.
    The audit log gets the user, the query, the number of posts and the format."""
    require(actor, "officer", "export posts")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    rows = [row(p, base_url, names or {}) for p in iter_posts(store, filters)]
    data = to_csv(rows) if fmt == "csv" else to_xlsx(rows)
    audit.record(
        records, "export", actor.name, query=filters.describe(), count=len(rows), format=fmt
    )
    return data
