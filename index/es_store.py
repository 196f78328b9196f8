"""The Elasticsearch store: upserts by post id through `streaming_bulk`, reads through an alias.

The client is passed in (see `index.factory`). Documents are the same flat documents the
SQLite store keeps; `seg` holds jieba's words and is analysed on whitespace only. The index
name is an alias over a versioned index: mapping, `setup()` and `migrate()` live in
`index.es_admin`, the request bodies in `index.es_queries`.

An unreachable node, and a node that refuses writes for a while (overloaded after the
retries, shutting down, or an index write-blocked by a migration), raise `StoreUnavailable`:
the pipeline keeps the batch spooled and replays it. Other failures are raised together as
one `BulkIndexError`.

Upserts are partial updates (`doc_as_upsert`), so they keep what `annotate` wrote and count
an unchanged post as a noop. A partial update merges objects key by key, though, which would
keep stale keys of the opaque maps (`classification`, whose `cues` are keyed by theme, and the
annotations' `labels`): those are stored wrapped in a one-element list, which an update
replaces whole. (No painless script: not every distribution has it, the tests' doesn't.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from index import es_admin
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
from index.es_queries import day_aggs, es_query, page, top_agg
from nlp.segment import Segmenter
from yuqing.schema import Annotations, Post

logger = logging.getLogger(__name__)

_TRANSIENT_STATUS = {429, 502, 503, 504}
_TRANSIENT_TYPES = {"cluster_block_exception", "node_closed_exception"}


def _transient(status: Any, error: Any) -> bool:
    """A refusal that passes: overload, a node going down, a write block."""
    kind = error.get("type") if isinstance(error, dict) else None
    return status in _TRANSIENT_STATUS or kind in _TRANSIENT_TYPES


@contextmanager
def _guard(what: str) -> Iterator[None]:
    try:
        yield
    except TransportError as e:
        raise StoreUnavailable(f"Elasticsearch unreachable: {e}") from e
    except ApiError as e:
        error = e.body.get("error") if isinstance(e.body, dict) else None
        if _transient(e.meta.status, error):
            raise StoreUnavailable(f"Elasticsearch refused {what}: {e}") from e
        raise


def _wrap(value: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    return None if value is None else [value]


def _unwrap(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value  # old documents: a map


def _post(source: dict[str, Any]) -> Post:
    source["classification"] = _unwrap(source.get("classification"))
    if source.get("annotations"):
        source["annotations"]["labels"] = _unwrap(source["annotations"].get("labels"))
    return from_document(source)


class ElasticsearchStore:
    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        index: str,
        segmenter: Segmenter,
        *,
        refresh: bool = False,
        chunk_size: int = 500,
    ):
        self.client = client
        self.index = index  # the alias
        self.segmenter = segmenter
        self.refresh = refresh  # make writes visible at once (tests, the demo)
        self.chunk_size = chunk_size

    def setup(self) -> None:
        """Create `INDEX-v1` behind the alias, add new fields, or convert an old index."""
        with _guard("setup"):
            es_admin.ensure(self.client, self.index)

    def migrate(self) -> dict[str, Any]:
        """Reindex into the next version and swap the alias; see `index.es_admin`."""
        with _guard("the migration"):
            return es_admin.migrate(self.client, self.index)

    def close(self) -> None:
        self.client.close()

    def _actions(self, posts: Iterable[Post]) -> Iterator[dict[str, Any]]:
        for post in posts:
            doc = to_document(post, self.segmenter)
            doc["classification"] = _wrap(doc["classification"])
            yield {
                "_op_type": "update",
                "_index": self.index,
                "_id": post.id,
                "doc": doc,
                "doc_as_upsert": True,
                "retry_on_conflict": 3,
            }

    def upsert(self, posts: Iterable[Post]) -> UpsertResult:
        result = UpsertResult()
        errors: list[dict[str, Any]] = []
        with _guard("the writes"):
            for ok, item in helpers.streaming_bulk(
                self.client,
                self._actions(posts),
                chunk_size=self.chunk_size,
                max_retries=5,
                initial_backoff=1,
                max_backoff=30,
                raise_on_error=False,
            ):
                info = item.get("update", {})
                if not ok:
                    errors.append(info)
                elif info.get("result") == "created":
                    result.created += 1
                elif info.get("result") == "noop":
                    result.unchanged += 1
                else:
                    result.updated += 1
            if self.refresh:
                self.client.indices.refresh(index=self.index)
        if errors and all(_transient(e.get("status"), e.get("error")) for e in errors):
            raise StoreUnavailable(
                f"Elasticsearch refused {len(errors)} write(s) for now: {errors[0].get('error')}"
            )
        if errors:
            raise helpers.BulkIndexError(f"{len(errors)} document(s) failed to index.", errors)
        return result

    def annotate(self, post_id: str, annotations: Annotations) -> None:
        """Replace the post's annotations (a partial update: the crawled fields stay)."""
        doc = annotations.model_dump(mode="json")
        doc["labels"] = _wrap(doc["labels"])
        try:
            with _guard("the annotation"):
                self.client.update(
                    index=self.index,
                    id=post_id,
                    doc={"annotations": doc},
                    retry_on_conflict=3,
                    refresh=self.refresh,
                )
        except ApiError as e:
            if e.meta.status == 404:
                raise KeyError(post_id) from e
            raise

    def get(self, post_id: str) -> Post | None:
        with _guard("the read"):
            try:
                doc = self.client.get(index=self.index, id=post_id)
            except ApiError as e:
                if e.meta.status == 404:
                    return None
                raise
        return _post(doc["_source"])

    def count(self) -> int:
        with _guard("the count"):
            return self.client.count(index=self.index)["count"]

    def search(self, query: SearchQuery) -> SearchResult:
        terms = query_terms(query.text, self.segmenter)
        with _guard("the search"):
            resp = self.client.search(
                index=self.index,
                query=es_query(query, terms),
                source_excludes=["seg", "seg_fine"],
                **page(query),
            )
        hits = []
        for hit in resp["hits"]["hits"]:
            post = _post(hit["_source"])
            hits.append(SearchHit(post, snippet(post, terms)))
        full = bool(hits) and len(hits) == query.limit
        next_after = SearchResult.cursor(hits[-1].post) if full else None
        return SearchResult(resp["hits"]["total"]["value"], hits, next_after)

    def _aggregate(self, query: SearchQuery, aggs: dict[str, Any]) -> dict[str, Any]:
        with _guard("the aggregation"):
            resp = self.client.search(
                index=self.index,
                query=es_query(query, query_terms(query.text, self.segmenter)),
                size=0,
                aggs=aggs,
            )
        return resp["aggregations"]

    def top(self, query: SearchQuery | None, field: str, size: int = 10) -> list[Bucket]:
        """The most frequent values of `field` among matching posts, count desc then key."""
        aggs = self._aggregate(query or SearchQuery(), {"top": top_agg(field, size)})
        return [Bucket(str(b["key"]), b["doc_count"]) for b in aggs["top"]["buckets"]]

    def counts_by_day(
        self, query: SearchQuery | None = None, by_theme: bool = True
    ) -> list[DayCount]:
        query = query or SearchQuery()
        aggs = self._aggregate(query, day_aggs(query, by_theme))
        rows = []
        for day in aggs["day"]["buckets"]:
            theme_buckets = (
                day["theme"]["buckets"]
                if by_theme
                else [{"key": None, "sentiment": day["sentiment"]}]
            )
            for theme in theme_buckets:
                for s in theme["sentiment"]["buckets"]:
                    rows.append(
                        DayCount(day["key_as_string"], theme["key"], s["key"], s["doc_count"])
                    )
        return sorted(rows)

    def purge(self, before: datetime) -> int:
        """Delete posts dated before `before`; return how many went. (Scroll + bulk deletes:
        `_delete_by_query` is in the reindex module, which not every node has.)"""
        query = {"query": {"range": {"date": {"lt": before.isoformat()}}}, "_source": False}
        deleted = 0
        errors: list[dict[str, Any]] = []
        with _guard("the purge"):
            hits = helpers.scan(self.client, index=self.index, query=query, size=self.chunk_size)
            actions = ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits)
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=self.chunk_size,
                max_retries=5,
                raise_on_error=False,
                ignore_status=(404,),  # gone already: another purge
            ):
                info = item.get("delete", {})
                if not ok:
                    errors.append(info)
                elif info.get("result") == "deleted":
                    deleted += 1
            self.client.indices.refresh(index=self.index)
        if errors:
            raise helpers.BulkIndexError(f"{len(errors)} post(s) failed to delete.", errors)
        logger.info("purged %d post(s) dated before %s", deleted, before.isoformat())
        return deleted
