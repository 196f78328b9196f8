"""Raw pages kept as evidence: gzip bytes in one SQLite file, keyed by their sha256.

`data/evidence/evidence.sqlite3` holds each page exactly as it was fetched, gzip-compressed,
under the sha256 of its bytes; the same bytes are stored once however often they are captured.
A page is committed before the crawl state records its post, so a crawl killed at any point
has the evidence of every post it knows. One file rather than a file per page: creating a file
(and its folder) costs the crawl a filesystem metadata operation per page, 0.1–0.7 ms on a
busy disk, where a row costs about 30 µs.

Evidence written by earlier versions, `data/evidence/ab/abcdef….gz` files, still loads.
`yuqing evidence POST_ID` writes a post's page back out.
"""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
from pathlib import Path
from typing import Self

FILENAME = "evidence.sqlite3"

SCHEMA = """CREATE TABLE IF NOT EXISTS pages (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    gzip BLOB NOT NULL
)"""


def legacy_path(root: Path, sha256: str) -> Path:
    """Where versions before the SQLite file kept a page: `ab/abcdef….gz`."""
    return root / sha256[:2] / f"{sha256}.gz"


def _checked(raw: bytes, sha256: str) -> bytes:
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise ValueError(f"evidence {sha256} is corrupt: its bytes hash differently")
    return raw


def read_page(root: Path, sha256: str) -> bytes | None:
    """The page stored under `sha256` in `root`, read without writing anything there; None if
    it is not stored. A page whose bytes no longer hash to `sha256` raises ValueError."""
    path = root / FILENAME
    row = None
    if path.is_file():
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            row = db.execute("SELECT gzip FROM pages WHERE sha256 = ?", (sha256,)).fetchone()
        finally:
            db.close()
    if row is not None:
        return _checked(gzip.decompress(row[0]), sha256)
    legacy = legacy_path(root, sha256)
    if legacy.is_file():
        return _checked(gzip.decompress(legacy.read_bytes()), sha256)
    return None


class EvidenceStore:
    """Writes the pages of one evidence folder (`read_page` reads them). Several processes
    may write it at once."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(root / FILENAME, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self, raw: bytes) -> str:
        """Store `raw` (once) and return its sha256; committed when this returns."""
        sha = hashlib.sha256(raw).hexdigest()
        if not self.has(sha):
            self._db.execute(
                "INSERT OR IGNORE INTO pages VALUES (?, ?, ?)",
                (sha, len(raw), gzip.compress(raw, compresslevel=6, mtime=0)),
            )
        return sha

    def has(self, sha256: str) -> bool:
        row = self._db.execute("SELECT 1 FROM pages WHERE sha256 = ?", (sha256,)).fetchone()
        return row is not None

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM pages").fetchone()[0]
