"""The SQLite store's schema, the SQL it builds from a `SearchQuery`, and hot-word counting.

`posts` is narrow (the columns queries filter, sort and group on), so scans and counts stay
cheap; the documents live in `post_docs`, and officers' annotations in `post_annotations`,
keyed by post id, which no upsert or rebuild touches. Themes and units have side tables
(`post_themes`, `post_units`) keyed by the post's `pk`, which is also the rowid of its row in
the FTS5 table `posts_fts`. Hot words are numbered (`words`), and each post's numbers are one
blob in `post_words`: `top_words` adds them up with numpy, several times faster than GROUP BY
over a row per post and word.
"""

from __future__ import annotations

import sqlite3
import struct
from datetime import datetime
from typing import Any

import numpy as np

from index.base import TOP_FIELDS, SearchQuery, epoch_ms

# 2: the word index has seg (phrases) and seg_fine (words)
# 3: ts_ms, units, story_id, deleted, replied, hot words, annotations; docs apart from posts
SCHEMA_VERSION = 3

PRAGMAS = (
    "PRAGMA journal_mode = WAL",  # readers go on while a write or a migration runs
    "PRAGMA temp_store = MEMORY",  # GROUP BY's temporary trees
    "PRAGMA cache_size = -65536",  # KiB
    "PRAGMA journal_size_limit = 67108864",  # bytes of WAL kept after a big write
)

# Rows keyed by a post's `pk` (posts_fts: by rowid), deleted with the post.
PK_TABLES = ("post_themes", "post_units", "post_words")
# Rebuilt from the documents by a migration. post_annotations is not among them.
DERIVED_TABLES = (*PK_TABLES, "posts_fts", "words")
SIDE_TABLES = {"themes": ("post_themes", "theme"), "units": ("post_units", "unit")}

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS posts (
        pk INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        platform TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        day TEXT NOT NULL,
        sentiment TEXT,
        story_id TEXT,
        deleted INTEGER NOT NULL,
        replied INTEGER NOT NULL,
        doc_sha TEXT NOT NULL
    )""",
    # The order of search and its cursors, and a covering index for a date window's counts.
    """CREATE INDEX IF NOT EXISTS posts_date ON posts (
        ts_ms, id, day, sentiment, source, platform, story_id, deleted, replied
    )""",
    "CREATE INDEX IF NOT EXISTS posts_story ON posts (story_id)",
    "CREATE TABLE IF NOT EXISTS post_docs (pk INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS post_annotations (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    *(
        f"""CREATE TABLE IF NOT EXISTS {table} (
            pk INTEGER NOT NULL, {column} TEXT NOT NULL, PRIMARY KEY (pk, {column})
        ) WITHOUT ROWID"""
        for table, column in SIDE_TABLES.values()
    ),
    *(
        f"CREATE INDEX IF NOT EXISTS {table}_{column} ON {table} ({column})"
        for table, column in SIDE_TABLES.values()
    ),
    "CREATE TABLE IF NOT EXISTS words (wid INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS post_words (pk INTEGER PRIMARY KEY, wids BLOB NOT NULL)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5 (seg, seg_fine, tokenize = 'unicode61')",
]

_OLD = "SELECT pk FROM posts WHERE ts_ms < ?"
PURGE = (  # each with the cutoff in epoch milliseconds; the posts rows go last
    f"DELETE FROM posts_fts WHERE rowid IN ({_OLD})",
    *(f"DELETE FROM {table} WHERE pk IN ({_OLD})" for table in (*PK_TABLES, "post_docs")),
    "DELETE FROM post_annotations WHERE id IN (SELECT id FROM posts WHERE ts_ms < ?)",
    "DELETE FROM posts WHERE ts_ms < ?",
)  # unused words stay until a migration
INSERT_POST = "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def post_row(pk: int, doc: dict[str, Any], doc_sha: str) -> tuple[Any, ...]:
    """The `posts` row of a document, in INSERT_POST's order."""
    ts_ms = millis(datetime.fromisoformat(doc["date"]))
    return (pk, doc["id"], doc["source"], doc["platform"], ts_ms, doc["day"], doc["sentiment"],
            doc["story_id"], int(doc["deleted"]), int(doc["replied"]), doc_sha)  # fmt: skip


ALL = "1"  # the WHERE clause of a query without text or filters
_POST = """SELECT d.doc, a.body FROM posts p JOIN post_docs d ON d.pk = p.pk
    LEFT JOIN post_annotations a ON a.id = p.id"""
GET = f"{_POST} WHERE p.id = ?"


def millis(when: datetime) -> int:
    """Epoch milliseconds, computed as `SearchResult.cursor` computes a post's date."""
    return epoch_ms(when)


def _marks(values: tuple[Any, ...] | list[Any]) -> str:
    return ",".join("?" * len(values))


def where(query: SearchQuery, terms: list[list[str]]) -> tuple[str, list[Any]]:
    """The WHERE clause over `posts p` for the query's words and filters, and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if terms:
        # One word: any of its forms (seg_fine); a phrase: words in order (seg).
        match = " AND ".join(
            ("seg_fine" if len(words) == 1 else "seg") + ' : "' + " ".join(words) + '"'
            for words in terms
        )
        clauses.append("p.pk IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
        params.append(match)
    for column, values in (
        ("sentiment", query.sentiments),
        ("source", query.sources),
        ("platform", query.platforms),
        ("story_id", query.story_ids),
    ):
        if values:
            clauses.append(f"p.{column} IN ({_marks(values)})")
            params.extend(values)
    for field, values in (("themes", query.themes), ("units", query.units)):
        if values:
            table, column = SIDE_TABLES[field]
            clauses.append(f"p.pk IN (SELECT pk FROM {table} WHERE {column} IN ({_marks(values)}))")
            params.extend(values)
    for column, flag in (("deleted", query.deleted), ("replied", query.replied)):
        if flag is not None:
            clauses.append(f"p.{column} = ?")
            params.append(int(flag))
    if query.since:
        clauses.append("p.ts_ms >= ?")
        params.append(millis(query.since))
    if query.until:
        clauses.append("p.ts_ms < ?")
        params.append(millis(query.until))
    return " AND ".join(clauses) or ALL, params


def search_sql(query: SearchQuery, clause: str, params: list[Any]) -> tuple[str, list[Any]]:
    """A page of matching posts (doc, annotations) in the query's order, after its cursor."""
    direction, before = ("DESC", "<") if query.sort == "newest" else ("ASC", ">")
    params = list(params)
    if query.after is not None:
        clause += f" AND (p.ts_ms, p.id) {before} (?, ?)"
        params.extend(query.after)
    sql = f"{_POST} WHERE {clause} ORDER BY p.ts_ms {direction}, p.id {direction} LIMIT ?"
    params.append(query.limit)
    if query.after is None and query.offset:
        sql += " OFFSET ?"
        params.append(query.offset)
    return sql, params


def top_sql(field: str, clause: str, params: list[Any], size: int) -> tuple[str, list[Any]]:
    """(key, count) of the `size` most frequent values of `field` among the matching posts;
    `words` is counted by `top_words`."""
    order = f"ORDER BY n DESC, key LIMIT {int(size)}"
    if field in SIDE_TABLES:
        table, column = SIDE_TABLES[field]
        if clause == ALL:
            return f"SELECT {column} AS key, count(*) AS n FROM {table} GROUP BY key {order}", []
        sql = (
            f"SELECT s.{column} AS key, count(*) AS n FROM posts p "
            f"CROSS JOIN {table} s ON s.pk = p.pk WHERE {clause} GROUP BY key {order}"
        )
        return sql, params
    sql = (
        f"SELECT p.{field} AS key, count(*) AS n FROM posts p "
        f"WHERE {clause} AND p.{field} IS NOT NULL GROUP BY key {order}"
    )
    return sql, params


def counts_sql(
    query: SearchQuery, clause: str, params: list[Any], by_theme: bool
) -> tuple[str, list[Any]]:
    """(day, theme or NULL, sentiment, count) rows of the matching posts."""
    clause += " AND p.sentiment IS NOT NULL"  # as Elasticsearch's terms aggregation
    if not by_theme:
        sql = (
            "SELECT p.day, NULL, p.sentiment, count(*) FROM posts p "
            f"WHERE {clause} GROUP BY p.day, p.sentiment"
        )
        return sql, params
    sql = (
        "SELECT p.day, t.theme, p.sentiment, count(*) FROM posts p "
        f"CROSS JOIN post_themes t ON t.pk = p.pk WHERE {clause}"
    )
    if query.themes:  # count only the asked-for themes of multi-theme posts
        sql += f" AND t.theme IN ({_marks(query.themes)})"
        params = [*params, *query.themes]
    return sql + " GROUP BY p.day, t.theme, p.sentiment", params


def check_field(field: str) -> None:
    if field not in TOP_FIELDS:
        raise ValueError(f"top() field must be one of {', '.join(TOP_FIELDS)}, not {field!r}")


_WIDS = "<i4"  # a post's word numbers: little-endian int32


def word_set(wids: list[int]) -> bytes:
    return struct.pack(f"<{len(wids)}i", *wids)


def word_ids(db: sqlite3.Connection, words: set[str]) -> dict[str, int]:
    """The number of each word, numbering the new ones."""
    db.executemany("INSERT OR IGNORE INTO words (word) VALUES (?)", [(w,) for w in words])
    return dict(_lookup(db, "SELECT word, wid FROM words WHERE word IN ({})", list(words)))


def top_words(
    db: sqlite3.Connection, clause: str, params: list[Any], size: int
) -> list[tuple[str, int]]:
    """(word, posts) of the `size` hot words most posts matching `clause` have, most first, then
    by word, like the GROUP BY of the other fields. Read it in one transaction."""
    sql = "SELECT wids FROM post_words"
    if clause != ALL:
        sql = f"SELECT w.wids FROM posts p CROSS JOIN post_words w ON w.pk = p.pk WHERE {clause}"
    blobs = db.execute(sql, params if clause != ALL else []).fetchall()
    counts = np.bincount(np.frombuffer(b"".join(b for (b,) in blobs), dtype=_WIDS))
    counted = counts[counts > 0]
    if size <= 0 or not len(counted):
        return []
    k = min(size, len(counted))
    floor = np.partition(counted, -k)[-k]
    wids = np.flatnonzero(counts >= floor).tolist()  # the top `size`, and any tied with the last
    names = _lookup(db, "SELECT wid, word FROM words WHERE wid IN ({})", wids)
    ranked = sorted((word, int(counts[wid])) for wid, word in names)
    return sorted(ranked, key=lambda kv: -kv[1])[:size]


def _lookup(db: sqlite3.Connection, sql: str, keys: list[Any]) -> list[tuple[Any, Any]]:
    rows: list[tuple[Any, Any]] = []
    for start in range(0, len(keys), 500):  # within SQLite's limit on parameters
        chunk = keys[start : start + 500]
        rows.extend(db.execute(sql.format(_marks(chunk)), chunk))
    return rows
