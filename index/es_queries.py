"""The Elasticsearch request bodies for a `SearchQuery`: query, sort, paging, aggregations."""

from __future__ import annotations

from typing import Any

from index.base import TOP_FIELDS, SearchQuery

TOP_SHARD_SIZE = 10_000  # one shard, so counts are exact; room for many distinct values


def es_query(query: SearchQuery, terms: list[list[str]]) -> dict[str, Any]:
    """The bool query: every query term must match; the filters narrow it."""
    must: list[dict[str, Any]] = [
        {"match_phrase": {"seg": " ".join(words)}}
        if len(words) > 1
        else {"match": {"seg_fine": words[0]}}
        for words in terms
    ]
    filters: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    for field, values in (
        ("themes", query.themes),
        ("sentiment", query.sentiments),
        ("source", query.sources),
        ("platform", query.platforms),
        ("units", query.units),
        ("story_id", query.story_ids),
    ):
        if values:
            filters.append({"terms": {field: list(values)}})
    for field, flag in (("deleted", query.deleted), ("replied", query.replied)):
        if flag is True:
            filters.append({"term": {field: True}})
        elif flag is False:  # a document without the field counts as False
            must_not.append({"term": {field: True}})
    date_range = {}
    if query.since:
        date_range["gte"] = query.since.isoformat()
    if query.until:
        date_range["lt"] = query.until.isoformat()
    if date_range:
        filters.append({"range": {"date": date_range}})
    if not (must or filters or must_not):
        return {"match_all": {}}
    return {"bool": {"must": must, "filter": filters, "must_not": must_not}}


def page(query: SearchQuery) -> dict[str, Any]:
    """Sort by date then id, newest or oldest first; `after` (search_after) or offset."""
    order = "desc" if query.sort == "newest" else "asc"
    body: dict[str, Any] = {
        "sort": [{"date": order}, {"id": order}],
        "size": query.limit,
        "track_total_hits": True,
    }
    if query.after is not None:
        millis, post_id = query.after
        body["search_after"] = [millis, post_id]
    elif query.offset:
        body["from_"] = query.offset
    return body


def top_agg(field: str, size: int) -> dict[str, Any]:
    if field not in TOP_FIELDS:
        raise ValueError(f"cannot count {field!r}; one of {', '.join(TOP_FIELDS)}")
    return {
        "terms": {
            "field": field,
            "size": size,
            "shard_size": max(size, TOP_SHARD_SIZE),
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }
    }


def day_aggs(query: SearchQuery, by_theme: bool) -> dict[str, Any]:
    """Posts per Asia/Shanghai day × theme × sentiment (or day × sentiment)."""
    inner: dict[str, Any] = {"sentiment": {"terms": {"field": "sentiment", "size": 10}}}
    if by_theme:
        themes: dict[str, Any] = {"field": "themes", "size": 100}
        if query.themes:  # count only the asked-for themes of multi-theme posts
            themes["include"] = list(query.themes)
        inner = {"theme": {"terms": themes, "aggs": inner}}
    return {
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
    }
