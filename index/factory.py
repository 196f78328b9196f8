"""Build the configured store. The only place that turns settings into a store client."""

from __future__ import annotations

from pathlib import Path

from index.base import Store
from index.records import RecordStore
from nlp.segment import Segmenter
from yuqing.settings import Settings

SQLITE_FILE = "yuqing.sqlite3"


def sqlite_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / SQLITE_FILE


def open_store(settings: Settings, segmenter: Segmenter, *, refresh: bool = False) -> Store:
    """The store that settings.yaml's `store.backend` names, set up and ready."""
    if settings.store.backend == "elasticsearch":
        from elasticsearch import Elasticsearch

        from index.es_store import ElasticsearchStore

        es = settings.store.elasticsearch
        client = Elasticsearch(es.url, request_timeout=es.request_timeout)
        store: Store = ElasticsearchStore(client, es.index, segmenter, refresh=refresh)
    else:
        from index.sqlite_store import SqliteStore

        store = SqliteStore(sqlite_path(settings), segmenter)
    store.setup()
    return store


def open_records(settings: Settings) -> RecordStore:
    """Alerts, cases, users and audit entries, kept next to the posts in the configured store."""
    if settings.store.backend == "elasticsearch":
        from elasticsearch import Elasticsearch

        from index.records import ElasticsearchRecords

        es = settings.store.elasticsearch
        client = Elasticsearch(es.url, request_timeout=es.request_timeout)
        records: RecordStore = ElasticsearchRecords(client, f"{es.index}-records")
    else:
        from index.records import SqliteRecords

        records = SqliteRecords(sqlite_path(settings))
    records.setup()
    return records
