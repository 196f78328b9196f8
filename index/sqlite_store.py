"""The embedded default store: one SQLite file, FTS5 over jieba words.

FTS5's unicode61 tokenizer splits on the spaces that `index_words` put between jieba's
words, so a query matches whole words, as in Elasticsearch's whitespace-analysed field.
The schema and the SQL built from queries are in `index.sqlite_queries`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from index import sqlite_queries as q
from index.base import (
    Bucket,
    DayCount,
    SearchHit,
    SearchQuery,
    SearchResult,
    StoreUnavailable,
    UpsertResult,
    from_document,
    query_terms,
    snippet,
    to_document,
)
from nlp.segment import Segmenter
from yuqing.schema import Annotations, Post

logger = logging.getLogger(__name__)

SCHEMA_VERSION = q.SCHEMA_VERSION
BATCH = 500  # posts segmented and written per round of executemany
_WORD_FIELDS = ("seg", "seg_fine", "words")  # in posts_fts and post_words, not in the doc


class SqliteStore:
    name = "sqlite"

    def __init__(self, path: Path | str, segmenter: Segmenter):
        self.path = Path(path)
        self.segmenter = segmenter
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by threads (Streamlit reruns), serialised by a lock; explicit
        # transactions (see _transaction). A write waits up to 30 s for another process's.
        self._db = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        for pragma in q.PRAGMAS:
            self._db.execute(pragma)
        self._lock = threading.Lock()

    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """Hold the lock for one transaction: IMMEDIATE to write, DEFERRED for a consistent read."""
        with self._lock:
            try:
                self._db.execute(f"BEGIN {mode}")
            except sqlite3.OperationalError as e:  # another process writes (a migration?)
                raise StoreUnavailable(f"{self.path} is busy: {e}") from e
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def setup(self) -> None:
        """Create the tables; a file from an older schema is rebuilt in place from its docs."""
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema version {version}, newer than this Yuqing's "
                    f"{SCHEMA_VERSION}: upgrade Yuqing or point data_dir elsewhere"
                )
            if version < SCHEMA_VERSION and "posts" in _tables(db):
                logger.info("upgrading %s from schema %d to %d", self.path, version, SCHEMA_VERSION)
                self._rebuild(db)
            else:
                _create(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def migrate(self) -> dict[str, Any]:
        """Rebuild posts and every derived table from the stored docs, in one transaction, so
        readers see the old tables until it commits. Annotations are kept."""
        with self._transaction() as db:
            posts = self._rebuild(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        logger.info("migrated %d posts in %s to schema %d", posts, self.path, SCHEMA_VERSION)
        return {"posts": posts, "schema_version": SCHEMA_VERSION}

    def _rebuild(self, db: sqlite3.Connection) -> int:
        tables = _tables(db)
        for (index,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall():
            db.execute(f"DROP INDEX {index}")  # names are reused by the new tables
        for table in (*q.DERIVED_TABLES, "old_posts", "old_docs"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("ALTER TABLE posts RENAME TO old_posts")
        source = "SELECT id, doc FROM old_posts"  # schema 1 and 2 kept the doc in posts
        if "post_docs" in tables:
            db.execute("ALTER TABLE post_docs RENAME TO old_docs")
            source = "SELECT p.id, d.doc FROM old_posts p JOIN old_docs d ON d.pk = p.pk"
        _create(db)
        rows = db.execute(source)
        result = UpsertResult()
        while chunk := rows.fetchmany(BATCH):
            docs = self._documents(from_document(json.loads(doc)) for _, doc in chunk)
            self._write(db, docs, result, {}, _next_pk(db))
        db.execute("DROP TABLE old_posts")
        db.execute("DROP TABLE IF EXISTS old_docs")
        return result.created

    def close(self) -> None:
        self._db.close()

    def upsert(self, posts: Iterable[Post]) -> UpsertResult:
        """Write in one transaction, `BATCH` posts per round; a post whose document is unchanged
        is left alone. Annotations are in their own table, so they stay."""
        result = UpsertResult()
        known: dict[str, tuple[int, str]] = {}  # id -> (pk, doc_sha) of posts seen in this call
        iterator = iter(posts)
        docs = self._documents(islice(iterator, BATCH))  # a small call segments unlocked
        with self._transaction() as db:
            next_pk = _next_pk(db)
            while docs:
                next_pk = self._write(db, docs, result, known, next_pk)
                docs = self._documents(islice(iterator, BATCH))
        return result

    def _documents(self, posts: Iterable[Post]) -> list[dict[str, Any]]:
        return [to_document(post, self.segmenter) for post in posts]

    def _write(
        self,
        db: sqlite3.Connection,
        docs: list[dict[str, Any]],
        result: UpsertResult,
        known: dict[str, tuple[int, str]],
        next_pk: int,
    ) -> int:
        """Write one batch of documents; return the next free pk."""
        new_ids = list({d["id"] for d in docs} - known.keys())
        if new_ids:
            found = db.execute(
                f"SELECT id, pk, doc_sha FROM posts WHERE id IN ({','.join('?' * len(new_ids))})",
                new_ids,
            )
            known.update((post_id, (pk, sha)) for post_id, pk, sha in found)
        stored = {pk for pk, _ in known.values()}  # pks already in the table
        pending: dict[int, tuple[dict[str, Any], str, str]] = {}
        for doc in docs:
            body, sha = _encode(doc)
            pk, old_sha = known.get(doc["id"], (None, None))
            if old_sha == sha:
                result.unchanged += 1
                continue
            if pk is None:
                pk, next_pk = next_pk, next_pk + 1
                result.created += 1
            else:
                result.updated += 1
            known[doc["id"]] = (pk, sha)
            pending[pk] = (doc, body, sha)  # a repeated id: the last one wins
        stale = [(pk,) for pk in pending if pk in stored]
        for table in ("posts", "post_docs", *q.PK_TABLES):
            db.executemany(f"DELETE FROM {table} WHERE pk = ?", stale)
        db.executemany("DELETE FROM posts_fts WHERE rowid = ?", stale)
        self._insert(db, pending)
        return next_pk

    @staticmethod
    def _insert(
        db: sqlite3.Connection, pending: dict[int, tuple[dict[str, Any], str, str]]
    ) -> None:
        db.executemany(
            q.INSERT_POST, [q.post_row(pk, d, sha) for pk, (d, _, sha) in pending.items()]
        )
        db.executemany(
            "INSERT INTO post_docs VALUES (?, ?)",
            [(pk, body) for pk, (_, body, _) in pending.items()],
        )
        docs = {pk: doc for pk, (doc, _, _) in pending.items()}
        db.executemany(
            "INSERT INTO posts_fts (rowid, seg, seg_fine) VALUES (?, ?, ?)",
            [(pk, d["seg"], d["seg_fine"]) for pk, d in docs.items()],
        )
        for field, (table, _) in q.SIDE_TABLES.items():
            db.executemany(
                f"INSERT INTO {table} VALUES (?, ?)",
                [(pk, value) for pk, d in docs.items() for value in set(d[field])],
            )
        wids = q.word_ids(db, {w for d in docs.values() for w in d["words"]})
        db.executemany(
            "INSERT INTO post_words VALUES (?, ?)",
            [(pk, q.word_set(sorted({wids[w] for w in d["words"]}))) for pk, d in docs.items()],
        )

    def annotate(self, post_id: str, annotations: Annotations) -> None:
        with self._transaction() as db:
            if not db.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone():
                raise KeyError(post_id)
            db.execute(
                "INSERT INTO post_annotations VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (post_id, annotations.model_dump_json()),
            )

    def purge(self, before: datetime) -> int:
        purged = 0
        with self._transaction() as db:
            for statement in q.PURGE:  # the last deletes the posts rows
                purged = db.execute(statement, (q.millis(before),)).rowcount
        logger.info("purged %d posts dated before %s from %s", purged, before, self.path)
        return purged

    def get(self, post_id: str) -> Post | None:
        with self._lock:
            row = self._db.execute(q.GET, (post_id,)).fetchone()
        return _post(*row) if row else None

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM posts").fetchone()[0]

    def search(self, query: SearchQuery) -> SearchResult:
        terms = query_terms(query.text, self.segmenter)
        clause, params = q.where(query, terms)
        sql, page_params = q.search_sql(query, clause, params)
        with self._transaction("DEFERRED") as db:
            total = db.execute(f"SELECT count(*) FROM posts p WHERE {clause}", params).fetchone()
            rows = db.execute(sql, page_params).fetchall()
        hits = []
        for body, labels in rows:
            post = _post(body, labels)
            hits.append(SearchHit(post, snippet(post, terms)))
        full = bool(hits) and len(hits) == query.limit
        return SearchResult(total[0], hits, SearchResult.cursor(hits[-1].post) if full else None)

    def counts_by_day(
        self, query: SearchQuery | None = None, by_theme: bool = True
    ) -> list[DayCount]:
        query = query or SearchQuery()
        clause, params = q.where(query, query_terms(query.text, self.segmenter))
        sql, params = q.counts_sql(query, clause, params, by_theme)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return sorted(DayCount(*row) for row in rows)

    def top(self, query: SearchQuery | None, field: str, size: int = 10) -> list[Bucket]:
        q.check_field(field)
        query = query or SearchQuery()
        clause, params = q.where(query, query_terms(query.text, self.segmenter))
        if field == "words":
            with self._transaction("DEFERRED") as db:
                return [Bucket(*kv) for kv in q.top_words(db, clause, params, size)]
        sql, params = q.top_sql(field, clause, params, size)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [Bucket(key, count) for key, count in rows]


def _tables(db: sqlite3.Connection) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _create(db: sqlite3.Connection) -> None:
    for statement in q.SCHEMA:  # not executescript, which would commit the transaction
        db.execute(statement)


def _next_pk(db: sqlite3.Connection) -> int:
    return db.execute("SELECT coalesce(max(pk), 0) + 1 FROM posts").fetchone()[0]


def _encode(doc: dict[str, Any]) -> tuple[str, str]:
    """The JSON kept in post_docs (the document less its word fields), and a digest of the whole
    document: the same digest means the same document, so the upsert leaves the post alone."""
    kept = {k: v for k, v in doc.items() if k not in _WORD_FIELDS}
    body = json.dumps(kept, ensure_ascii=False, sort_keys=True)
    words = "\0".join([body, doc["seg"], doc["seg_fine"], " ".join(doc["words"])])
    return body, hashlib.sha256(words.encode("utf-8")).hexdigest()


def _post(body: str, labels: str | None) -> Post:
    doc = json.loads(body)
    if labels:
        doc["annotations"] = json.loads(labels)
    return from_document(doc)
