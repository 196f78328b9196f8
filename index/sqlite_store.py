"""The embedded default store: one SQLite file, FTS5 over jieba words.

FTS5's unicode61 tokenizer splits on the spaces that `index_words` put between jieba's
words, so a query matches whole words, as in Elasticsearch's whitespace-analysed field.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from index.base import (
    DayCount,
    SearchHit,
    SearchQuery,
    SearchResult,
    UpsertResult,
    from_document,
    query_terms,
    snippet,
    to_document,
)
from nlp.segment import Segmenter
from yuqing.schema import Post

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: the word index has seg (phrases) and seg_fine (words)
SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    platform TEXT NOT NULL,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    sentiment TEXT,
    content_sha256 TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_ts ON posts (ts);
CREATE TABLE IF NOT EXISTS post_themes (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    PRIMARY KEY (post_id, theme)
);
CREATE INDEX IF NOT EXISTS post_themes_theme ON post_themes (theme);
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5 (seg, seg_fine, tokenize = 'unicode61');
"""


class SqliteStore:
    name = "sqlite"

    def __init__(self, path: Path | str, segmenter: Segmenter):
        self.path = Path(path)
        self.segmenter = segmenter
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by threads (Streamlit reruns), serialised by a lock.
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._lock = threading.Lock()

    def setup(self) -> None:
        """Create the tables; a file from an older schema gets its word index rebuilt."""
        with self._lock, self._db:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            has_fts = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'posts_fts'"
            ).fetchone()
            rebuild = bool(has_fts) and version < SCHEMA_VERSION
            if rebuild:
                self._db.execute("DROP TABLE posts_fts")
            self._db.executescript(SCHEMA)
            if rebuild:
                self._rebuild_word_index()
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _rebuild_word_index(self) -> None:
        rows = self._db.execute("SELECT rowid, doc FROM posts").fetchall()
        logger.info("rebuilding the word index of %d posts in %s", len(rows), self.path)
        for rowid, body in rows:
            doc = to_document(from_document(json.loads(body)), self.segmenter)
            self._db.execute(
                "INSERT INTO posts_fts (rowid, seg, seg_fine) VALUES (?, ?, ?)",
                (rowid, doc["seg"], doc["seg_fine"]),
            )

    def close(self) -> None:
        self._db.close()

    def upsert(self, posts: Iterable[Post]) -> UpsertResult:
        result = UpsertResult()
        with self._lock, self._db:
            for post in posts:
                doc = to_document(post, self.segmenter)
                body = json.dumps(doc, ensure_ascii=False, sort_keys=True)
                row = self._db.execute(
                    "SELECT rowid, doc FROM posts WHERE id = ?", (post.id,)
                ).fetchone()
                if row and row[1] == body:
                    result.unchanged += 1
                    continue
                values = (
                    post.id,
                    post.source,
                    post.platform,
                    _ts(doc),
                    doc["day"],
                    post.sentiment,
                    post.content_sha256,
                    body,
                )
                if row:
                    self._db.execute(
                        "UPDATE posts SET source=?2, platform=?3, ts=?4, day=?5, sentiment=?6, content_sha256=?7, doc=?8 WHERE id=?1",
                        values,
                    )
                    rowid = row[0]
                    self._db.execute("DELETE FROM posts_fts WHERE rowid = ?", (rowid,))
                    self._db.execute("DELETE FROM post_themes WHERE post_id = ?", (post.id,))
                    result.updated += 1
                else:
                    rowid = self._db.execute(
                        "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values
                    ).lastrowid
                    result.created += 1
                self._db.execute(
                    "INSERT INTO posts_fts (rowid, seg, seg_fine) VALUES (?, ?, ?)",
                    (rowid, doc["seg"], doc["seg_fine"]),
                )
                self._db.executemany(
                    "INSERT INTO post_themes VALUES (?, ?)", [(post.id, t) for t in doc["themes"]]
                )
        return result

    def get(self, post_id: str) -> Post | None:
        with self._lock:
            row = self._db.execute("SELECT doc FROM posts WHERE id = ?", (post_id,)).fetchone()
        return from_document(json.loads(row[0])) if row else None

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM posts").fetchone()[0]

    def search(self, query: SearchQuery) -> SearchResult:
        terms = query_terms(query.text, self.segmenter)
        where, params = self._where(query, terms)
        with self._lock:
            total = self._db.execute(
                f"SELECT count(*) FROM posts p WHERE {where}", params
            ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT doc FROM posts p WHERE {where} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
        hits = []
        for (body,) in rows:
            post = from_document(json.loads(body))
            hits.append(SearchHit(post, snippet(post, terms)))
        return SearchResult(total, hits)

    def counts_by_day(
        self, query: SearchQuery | None = None, by_theme: bool = True
    ) -> list[DayCount]:
        query = query or SearchQuery()
        where, params = self._where(query, query_terms(query.text, self.segmenter))
        where += " AND p.sentiment IS NOT NULL"  # as Elasticsearch's terms aggregation
        if by_theme:
            sql = (
                "SELECT p.day, t.theme, p.sentiment, count(*) FROM posts p "
                f"JOIN post_themes t ON t.post_id = p.id WHERE {where}"
            )
            if query.themes:  # count only the asked-for themes of multi-theme posts
                sql += f" AND t.theme IN ({','.join('?' * len(query.themes))})"
                params = [*params, *query.themes]
            sql += " GROUP BY p.day, t.theme, p.sentiment"
        else:
            sql = f"SELECT p.day, NULL, p.sentiment, count(*) FROM posts p WHERE {where} GROUP BY p.day, p.sentiment"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return sorted(DayCount(*row) for row in rows)

    @staticmethod
    def _where(query: SearchQuery, terms: list[list[str]]) -> tuple[str, list[Any]]:
        clauses, params = ["1"], []
        if terms:
            # One word: any of its forms (seg_fine); a phrase: words in order (seg).
            match = " AND ".join(
                ("seg_fine" if len(words) == 1 else "seg") + ' : "' + " ".join(words) + '"'
                for words in terms
            )
            clauses.append("p.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
            params.append(match)
        for column, values in (
            ("p.sentiment", query.sentiments),
            ("p.source", query.sources),
            ("p.platform", query.platforms),
        ):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if query.themes:
            marks = ",".join("?" * len(query.themes))
            clauses.append(f"p.id IN (SELECT post_id FROM post_themes WHERE theme IN ({marks}))")
            params.extend(query.themes)
        if query.since:
            clauses.append("p.ts >= ?")
            params.append(query.since.timestamp())
        if query.until:
            clauses.append("p.ts < ?")
            params.append(query.until.timestamp())
        return " AND ".join(clauses), params


def _ts(doc: dict[str, Any]) -> float:
    return datetime.fromisoformat(doc["date"]).timestamp()
