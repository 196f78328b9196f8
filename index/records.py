"""Small operational records (alerts, cases, users, audit entries) in the configured store.

Posts live in `Store`; everything officers create around them lives here: one JSON document
per (kind, id). The SQLite file is the embedded default; with Elasticsearch the records go
to the index `<posts index>-records`, so one backup covers everything an officer did.

Records are few (thousands, not millions), so filters on document fields (`where`) are
applied after reading the kind in `updated_at` order; only `kind` is indexed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from index.base import StoreUnavailable
from index.es_store import _guard
from yuqing.schema import SHANGHAI

PAGE = 500
RECORDS_MAPPING = {
    "dynamic": False,
    "properties": {
        "kind": {"type": "keyword"},
        "record_id": {"type": "keyword"},
        "updated_at": {"type": "date_nanos"},
        "doc": {"type": "object", "enabled": False},
    },
}


class RecordStore(Protocol):
    name: str

    def setup(self) -> None: ...

    def put(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        """Create or replace one record; stamps `updated_at` (ISO, Asia/Shanghai)."""
        ...

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None: ...

    def list(
        self, kind: str, *, where: dict[str, Any] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Records of `kind`, newest `updated_at` first; `where` keeps docs whose fields equal."""
        ...

    def delete(self, kind: str, record_id: str) -> bool: ...

    def count(self, kind: str) -> int: ...


def _matches(doc: dict[str, Any], where: dict[str, Any] | None) -> bool:
    return not where or all(doc.get(k) == v for k, v in where.items())


def _stamp(doc: dict[str, Any]) -> tuple[dict[str, Any], datetime]:
    when = datetime.now(SHANGHAI)
    return {**doc, "updated_at": when.isoformat()}, when


class SqliteRecords:
    """Records in a table of the embedded SQLite file (its own table; posts are untouched)."""

    name = "sqlite"

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()

    def setup(self) -> None:
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, "
                "updated_us INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, id))"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS records_by_time ON records (kind, updated_us)"
            )

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.OperationalError as e:
                raise StoreUnavailable(f"{self.path}: {e}") from e

    def put(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        doc, when = _stamp(doc)
        self._run(
            "INSERT OR REPLACE INTO records (kind, id, updated_us, doc) VALUES (?, ?, ?, ?)",
            (
                kind,
                record_id,
                int(when.timestamp() * 1_000_000),
                json.dumps(doc, ensure_ascii=False),
            ),
        )

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        rows = self._run("SELECT doc FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return json.loads(rows[0][0]) if rows else None

    def list(
        self, kind: str, *, where: dict[str, Any] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        rows = self._run(
            "SELECT doc FROM records WHERE kind = ? ORDER BY updated_us DESC, rowid DESC", (kind,)
        )
        docs = [d for d in (json.loads(r[0]) for r in rows) if _matches(d, where)]
        return docs[:limit] if limit is not None else docs

    def delete(self, kind: str, record_id: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            )
            return cur.rowcount > 0

    def count(self, kind: str) -> int:
        return self._run("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,))[0][0]


class ElasticsearchRecords:
    """Records in `<index>-records`; writes wait for a refresh so the next read sees them."""

    name = "elasticsearch"

    def __init__(self, client: Any, index: str):
        self.client = client
        self.index = index

    def setup(self) -> None:
        with _guard("create the records index"):
            if not self.client.indices.exists(index=self.index):
                self.client.indices.create(
                    index=self.index,
                    mappings=RECORDS_MAPPING,
                    settings={"number_of_shards": 1, "number_of_replicas": 0},
                )

    @staticmethod
    def _doc_id(kind: str, record_id: str) -> str:
        return f"{kind}:{record_id}"

    def put(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        doc, when = _stamp(doc)
        body = {"kind": kind, "record_id": record_id, "updated_at": when.isoformat(), "doc": doc}
        with _guard(f"save {kind} {record_id}"):
            self.client.index(
                index=self.index,
                id=self._doc_id(kind, record_id),
                document=body,
                refresh="wait_for",
            )

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        from elasticsearch import NotFoundError

        with _guard(f"read {kind} {record_id}"):
            try:
                hit = self.client.get(index=self.index, id=self._doc_id(kind, record_id))
            except NotFoundError:
                return None
        return hit["_source"]["doc"]

    def _scan(self, kind: str) -> Iterator[dict[str, Any]]:
        after: list[Any] | None = None
        while True:
            with _guard(f"list {kind}"):
                page = self.client.search(
                    index=self.index,
                    query={"term": {"kind": kind}},
                    sort=[{"updated_at": "desc"}, {"record_id": "asc"}],
                    size=PAGE,
                    search_after=after,
                )
            hits = page["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]["doc"]
            if len(hits) < PAGE:
                return
            after = hits[-1]["sort"]

    def list(
        self, kind: str, *, where: dict[str, Any] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for doc in self._scan(kind):
            if _matches(doc, where):
                docs.append(doc)
                if limit is not None and len(docs) >= limit:
                    break
        return docs

    def delete(self, kind: str, record_id: str) -> bool:
        from elasticsearch import NotFoundError

        with _guard(f"delete {kind} {record_id}"):
            try:
                self.client.delete(
                    index=self.index, id=self._doc_id(kind, record_id), refresh="wait_for"
                )
            except NotFoundError:
                return False
        return True

    def count(self, kind: str) -> int:
        with _guard(f"count {kind}"):
            return int(self.client.count(index=self.index, query={"term": {"kind": kind}})["count"])
