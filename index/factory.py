"""Build the configured store. The only place that turns settings into a store client."""

from __future__ import annotations

from pathlib import Path

from index.base import Store
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
