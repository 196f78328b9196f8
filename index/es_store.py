"""The Elasticsearch store: an explicit mapping, `streaming_bulk` upserts by post id.

The client is passed in (see `index.factory`). Documents are the same flat documents the
SQLite store keeps; `seg` holds jieba's words and is analysed on whitespace only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from index.base import (
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
from yuqing.schema import Post

logger = logging.getLogger(__name__)

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
_STORED = {"type": "text", "index": False}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "source": _KEYWORD,
        "platform": _KEYWORD,
        "url": _KEYWORD,
        "title": _STORED,
        "text": _STORED,
        "author": _KEYWORD,
        "published_at": _DATE,
        "fetched_at": _DATE,
        "reply": {
            "properties": {"text": _STORED, "replied_at": _DATE, "by": _KEYWORD},
        },
        "content_sha256": _KEYWORD,
        "units": _KEYWORD,
        "story_id": _KEYWORD,
        "deleted": {"type": "boolean"},
        "replied": {"type": "boolean"},
        "classification": {"type": "object", "enabled": False},
        "seg": {"type": "text", "analyzer": "whitespace"},
        "seg_fine": {"type": "text", "analyzer": "whitespace"},
        "words": _KEYWORD,
        "date": _DATE,
        "day": _KEYWORD,
        "themes": _KEYWORD,
        "sentiment": _KEYWORD,
    },
}
SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
_UNAVAILABLE = (TransportError,)


class ElasticsearchStore:
    name = "elasticsearch"

    def __init__(
        self, client: Elasticsearch, index: str, segmenter: Segmenter, *, refresh: bool = False
    ):
        self.client = client
        self.index = index
        self.segmenter = segmenter
        self.refresh = refresh  # make writes visible at once (tests, the demo)

    def setup(self) -> None:
        try:
            if not self.client.indices.exists(index=self.index):
                self.client.indices.create(index=self.index, mappings=MAPPING, settings=SETTINGS)
                logger.info("created Elasticsearch index %s", self.index)
            else:
                self.client.indices.put_mapping(index=self.index, **MAPPING)
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Elasticsearch unreachable: {e}") from e

    def close(self) -> None:
        self.client.close()

    def _actions(self, posts: Iterable[Post]) -> Iterator[dict[str, Any]]:
        for post in posts:
            yield {
                "_op_type": "update",
                "_index": self.index,
                "_id": post.id,
                "doc": to_document(post, self.segmenter),
                "doc_as_upsert": True,
                "retry_on_conflict": 3,
            }

    def upsert(self, posts: Iterable[Post]) -> UpsertResult:
        result = UpsertResult()
        errors: list[dict[str, Any]] = []
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                self._actions(posts),
                chunk_size=500,
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
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"Elasticsearch unreachable: {e}") from e
        if errors:
            raise helpers.BulkIndexError(f"{len(errors)} document(s) failed to index.", errors)
        return result

    def get(self, post_id: str) -> Post | None:
        try:
            doc = self.client.get(index=self.index, id=post_id)
        except ApiError as e:
            if e.meta.status == 404:
                return None
            raise
        return from_document(doc["_source"])

    def count(self) -> int:
        return self.client.count(index=self.index)["count"]

    def search(self, query: SearchQuery) -> SearchResult:
        terms = query_terms(query.text, self.segmenter)
        resp = self.client.search(
            index=self.index,
            query=self._query(query, terms),
            sort=[{"date": "desc"}, {"id": "desc"}],
            size=query.limit,
            from_=query.offset,
            track_total_hits=True,
            source_excludes=["seg", "seg_fine"],
        )
        hits = []
        for hit in resp["hits"]["hits"]:
            post = from_document(hit["_source"])
            hits.append(SearchHit(post, snippet(post, terms)))
        return SearchResult(resp["hits"]["total"]["value"], hits)

    def counts_by_day(
        self, query: SearchQuery | None = None, by_theme: bool = True
    ) -> list[DayCount]:
        query = query or SearchQuery()
        sentiments = {"terms": {"field": "sentiment", "size": 10}}
        inner: dict[str, Any] = {"sentiment": sentiments}
        if by_theme:
            themes: dict[str, Any] = {"field": "themes", "size": 100}
            if query.themes:
                themes["include"] = list(query.themes)
            inner = {"theme": {"terms": themes, "aggs": inner}}
        resp = self.client.search(
            index=self.index,
            query=self._query(query, query_terms(query.text, self.segmenter)),
            size=0,
            aggs={
                "day": {
                    "date_histogram": {
                        "field": "date",
                        "calendar_interval": "day",
                        "time_zone": "Asia/Shanghai",
                        "format": "yyyy-MM-dd",
                        "min_doc_count": 1,
                    },
                    "aggs": inner,
                }
            },
        )
        rows = []
        for day in resp["aggregations"]["day"]["buckets"]:
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

    @staticmethod
    def _query(query: SearchQuery, terms: list[list[str]]) -> dict[str, Any]:
        must: list[dict[str, Any]] = [
            {"match_phrase": {"seg": " ".join(words)}}
            if len(words) > 1
            else {"match": {"seg_fine": words[0]}}
            for words in terms
        ]
        filters: list[dict[str, Any]] = []
        for field, values in (
            ("themes", query.themes),
            ("sentiment", query.sentiments),
            ("source", query.sources),
            ("platform", query.platforms),
        ):
            if values:
                filters.append({"terms": {field: list(values)}})
        date_range = {}
        if query.since:
            date_range["gte"] = query.since.isoformat()
        if query.until:
            date_range["lt"] = query.until.isoformat()
        if date_range:
            filters.append({"range": {"date": date_range}})
        if not must and not filters:
            return {"match_all": {}}
        return {"bool": {"must": must, "filter": filters}}
