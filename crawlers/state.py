"""What the crawler remembers between runs: every post it captured, and each source's mark.

One SQLite file, `data/crawl/state.sqlite3`. A post is recorded the moment its line is in the
inbox spool, so a crawl killed at any point knows exactly what it already has. A source's
high-water mark (the newest publication date it has seen) moves only when a crawl of the
source finishes; a killed crawl leaves the old mark, so the next crawl pages as far as before
and nothing between the two is skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS posts (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        published_at TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        fields_sha256 TEXT NOT NULL,
        evidence_sha256 TEXT,
        captured_at TEXT,
        deleted_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS posts_source ON posts (source, published_at)",
    """CREATE TABLE IF NOT EXISTS marks (
        source TEXT PRIMARY KEY, high_water TEXT, finished_at TEXT NOT NULL
    )""",
)


@dataclass(frozen=True)
class Known:
    """What the state holds about one captured post."""

    id: str
    url: str
    published_at: datetime | None
    fields_sha256: str
    evidence_sha256: str | None
    captured_at: datetime | None
    deleted_at: datetime | None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    """UTC ISO text, so that the stored dates compare as strings."""
    return value.astimezone(UTC).isoformat() if value else None


class CrawlState:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        for statement in SCHEMA:
            self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def known(self, ids: Iterable[str]) -> dict[str, Known]:
        ids = list(ids)
        out: dict[str, Known] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self._db.execute(
                "SELECT id, url, published_at, fields_sha256, evidence_sha256, captured_at, "
                f"deleted_at FROM posts WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                out[row[0]] = Known(
                    row[0], row[1], _dt(row[2]), row[3], row[4], _dt(row[5]), _dt(row[6])
                )
        return out

    def get(self, post_id: str) -> Known | None:
        return self.known([post_id]).get(post_id)

    def record(
        self,
        *,
        post_id: str,
        source: str,
        url: str,
        published_at: datetime | None,
        fields_sha256: str,
        evidence_sha256: str | None,
        captured_at: datetime | None,
        seen_at: datetime,
    ) -> None:
        """Remember a captured post (live again, if it had been deleted)."""
        self._db.execute(
            """INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
            ON CONFLICT (id) DO UPDATE SET url = excluded.url,
                published_at = excluded.published_at, last_seen = excluded.last_seen,
                fields_sha256 = excluded.fields_sha256, deleted_at = NULL,
                evidence_sha256 = coalesce(posts.evidence_sha256, excluded.evidence_sha256),
                captured_at = coalesce(posts.captured_at, excluded.captured_at)""",
            (post_id, source, url, _iso(published_at), _iso(seen_at), _iso(seen_at),
             fields_sha256, evidence_sha256, _iso(captured_at)),
        )  # fmt: skip

    def mark_deleted(self, post_id: str, when: datetime) -> datetime:
        """Record that the post is gone; return when it was first found gone."""
        self._db.execute(
            "UPDATE posts SET deleted_at = coalesce(deleted_at, ?), last_seen = ? WHERE id = ?",
            (_iso(when), _iso(when), post_id),
        )
        known = self.get(post_id)
        return known.deleted_at if known and known.deleted_at else when

    def recheck(self, source: str, since: datetime) -> list[str]:
        """URLs of the source's live posts published (or first seen) since `since`."""
        rows = self._db.execute(
            "SELECT url FROM posts WHERE source = ? AND deleted_at IS NULL "
            "AND coalesce(published_at, first_seen) >= ? ORDER BY coalesce(published_at, first_seen) DESC",
            (source, _iso(since)),
        )
        return [url for (url,) in rows]

    def high_water(self, source: str) -> datetime | None:
        row = self._db.execute("SELECT high_water FROM marks WHERE source = ?", (source,))
        found = row.fetchone()
        return _dt(found[0]) if found else None

    def finish(self, source: str, when: datetime) -> datetime | None:
        """A crawl of the source finished: move its mark to the newest post seen so far."""
        (newest,) = self._db.execute(
            "SELECT max(published_at) FROM posts WHERE source = ?", (source,)
        ).fetchone()
        self._db.execute(
            "INSERT INTO marks VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
            "high_water = excluded.high_water, finished_at = excluded.finished_at",
            (source, newest, _iso(when)),
        )
        return _dt(newest)

    def summary(self) -> dict[str, dict[str, object]]:
        """Per source: posts known, posts deleted, the mark and the last finished crawl."""
        out: dict[str, dict[str, object]] = {}
        for source, posts, deleted in self._db.execute(
            "SELECT source, count(*), count(deleted_at) FROM posts GROUP BY source"
        ):
            out[source] = {"posts": posts, "deleted": deleted}
        for source, mark, finished in self._db.execute("SELECT * FROM marks"):
            out.setdefault(source, {"posts": 0, "deleted": 0})
            out[source].update(high_water=mark, finished_at=finished)
        return out
