"""The Elasticsearch index's life cycle: the mapping as code, a versioned index behind an alias.

The configured name (`yuqing-posts`) is an alias; the documents live in `yuqing-posts-v1`,
`-v2`, … . Readers and writers only ever use the alias, so a migration builds the next
version beside the current one and swaps the alias in one atomic `_aliases` call.

The copy is made by the client (scroll + bulk), not by the server's `_reindex`: that lives in
the reindex module, which not every distribution has (the integ-test-zip the tests run on
does not), and a client-side copy behaves the same on every node.

Writes during a migration: the current index gets a write block before the reindex, so no
write can slip in after the copy was taken and be lost. A write in that window fails, and
the store reports it as `StoreUnavailable`: the pipeline keeps the batch spooled and the next
run replays it into the new index (upserts by id make that safe). Reads go on all along.
The old index is kept, write-blocked, as a backup; delete it by hand once the new one is
trusted.

An install from before the alias (a concrete index under the configured name) is converted
by `setup()`: reindexed into `NAME-v1`, then, in one `_aliases` call, deleted and replaced by
the alias. Nothing is lost: the old index is only deleted once the copy holds every document.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

logger = logging.getLogger(__name__)

MAPPING_VERSION = 3  # 2: officers' annotations; 3: deleted_at, evidence; bump on any change
_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
_STORED = {"type": "text", "index": False}

PROPERTIES: dict[str, Any] = {
    "id": _KEYWORD,
    "source": _KEYWORD,
    "platform": _KEYWORD,
    "url": _KEYWORD,
    "title": _STORED,
    "text": _STORED,
    "author": _KEYWORD,
    "published_at": _DATE,
    "fetched_at": _DATE,
    "reply": {"properties": {"text": _STORED, "replied_at": _DATE, "by": _KEYWORD}},
    "content_sha256": _KEYWORD,
    "units": _KEYWORD,
    "story_id": _KEYWORD,
    "deleted": {"type": "boolean"},
    "deleted_at": _DATE,
    "evidence_sha256": _KEYWORD,
    "captured_at": _DATE,
    "replied": {"type": "boolean"},
    "classification": {"type": "object", "enabled": False},
    "annotations": {
        "properties": {
            "labels": {"type": "object", "enabled": False},
            "case_ids": _KEYWORD,
            "updated_at": _DATE,
        }
    },
    "seg": {"type": "text", "analyzer": "whitespace"},
    "seg_fine": {"type": "text", "analyzer": "whitespace"},
    "words": _KEYWORD,
    "date": _DATE,
    "day": _KEYWORD,
    "themes": _KEYWORD,
    "sentiment": _KEYWORD,
}
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": PROPERTIES,
}
SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
CHUNK_SIZE = 500


class MigrationError(RuntimeError):
    """A migration could not finish; the alias still points at the old index."""


def versioned(name: str, version: int) -> str:
    return f"{name}-v{version}"


def versions(client: Elasticsearch, name: str) -> dict[int, str]:
    """Every `NAME-vN` index, by N (whether or not the alias points at it)."""
    pattern = re.compile(re.escape(name) + r"-v(\d+)")
    rows = client.cat.indices(index=f"{name}-v*", h="index", format="json", expand_wildcards="all")
    names = [row["index"] for row in rows]
    return {int(m.group(1)): index for index in names if (m := pattern.fullmatch(index))}


def current_index(client: Elasticsearch, name: str) -> str | None:
    """The index the alias points at; None if there is no alias."""
    try:
        indices = list(client.indices.get_alias(name=name))
    except NotFoundError:
        return None
    if len(indices) != 1:
        raise MigrationError(f"alias {name} points at {sorted(indices)}, expected one index")
    return indices[0]


def ensure(client: Elasticsearch, name: str) -> None:
    """Create `NAME-v1` behind the alias `NAME`, or add new fields to what is there."""
    current = current_index(client, name)
    if current is not None:
        _put_new_fields(client, name, current)
        return
    if client.indices.exists(index=name):  # a concrete index from before the alias
        logger.warning(
            "%s is an index, not an alias: converting it to %s", name, versioned(name, 1)
        )
        migrate(client, name)
        return
    stray = versions(client, name)
    if stray:
        raise MigrationError(
            f"indices {sorted(stray.values())} exist but no alias {name} points at them; "
            f"point it at the right one: POST _aliases "
            f'{{"actions": [{{"add": {{"index": "...", "alias": "{name}"}}}}]}}'
        )
    first = versioned(name, 1)
    try:
        client.indices.create(index=first, mappings=MAPPING, settings=SETTINGS, aliases={name: {}})
        logger.info("created Elasticsearch index %s behind alias %s", first, name)
    except ApiError as e:
        if _error_type(e) != "resource_already_exists_exception":
            raise
        if current_index(client, name) is None:  # not another process's setup() racing ours
            raise


def _put_new_fields(client: Elasticsearch, name: str, current: str) -> None:
    """Add the code's new fields. A field whose type changed cannot be put on an existing
    index: the others still are, and setup goes on (so `yuqing index migrate`, which sets the
    store up first, can run), with an error in the log until a migration rebuilds the index."""
    try:
        client.indices.put_mapping(index=name, dynamic="strict", properties=PROPERTIES)
    except ApiError as e:
        if e.meta.status != 400:
            raise
        clashes = []
        for field, spec in PROPERTIES.items():  # one by one: put all that fit
            try:
                client.indices.put_mapping(index=name, properties={field: spec})
            except ApiError as clash:
                if clash.meta.status != 400:
                    raise
                clashes.append(field)
        logger.error(
            "the mapping of %s clashes with the code's on %s (%s): run `yuqing index migrate` "
            "to rebuild the index under the current mapping",
            current,
            ", ".join(clashes),
            e.message,
        )
        return
    meta = client.indices.get_mapping(index=current)[current]["mappings"].get("_meta", {})
    if meta.get("mapping_version", 1) < MAPPING_VERSION:
        logger.warning(
            "%s was built with mapping version %s, the code has %d: new fields were added, "
            "but run `yuqing index migrate` to reindex under the current mapping",
            current,
            meta.get("mapping_version", 1),
            MAPPING_VERSION,
        )


def migrate(client: Elasticsearch, name: str) -> dict[str, Any]:
    """Copy the current index into the next version and swap the alias; see the module doc."""
    current = current_index(client, name)
    legacy = current is None and client.indices.exists(index=name)
    if current is None and not legacy:
        ensure(client, name)
        to = current_index(client, name)
        return {"from": None, "to": to, "docs": 0, "kept": None, "mapping_version": MAPPING_VERSION}
    source = current or name
    target = versioned(name, max(versions(client, name), default=0) + 1)
    if _write_blocked(client, source):
        raise MigrationError(
            f"{source} is write-blocked: another migration is running, or one died half-way. "
            f"If none runs, delete any {name}-vN newer than {source} and lift the block: "
            f'PUT {source}/_settings {{"index.blocks.write": false}}'
        )
    logger.info("migrating %s: %s -> %s", name, source, target)
    client.indices.add_block(index=source, block="write")
    try:
        client.indices.refresh(index=source)  # the copy must see every write acked so far
        client.indices.create(index=target, mappings=MAPPING, settings=SETTINGS)
        docs = _reindex(client, source, target)
        if legacy:  # the index gives its name to the alias
            actions = [{"add": {"index": target, "alias": name}}, {"remove_index": {"index": name}}]
        else:
            actions = [
                {"remove": {"index": source, "alias": name}},
                {"add": {"index": target, "alias": name}},
            ]
        client.indices.update_aliases(actions=actions)
    except BaseException:
        _roll_back(client, name, source, target)
        raise
    logger.info("migrated %s: %d posts now in %s", name, docs, target)
    return {
        "from": source,
        "to": target,
        "docs": docs,
        "kept": None if legacy else source,  # write-blocked; delete it once `to` is trusted
        "mapping_version": MAPPING_VERSION,
    }


def _reindex(client: Elasticsearch, source: str, target: str) -> int:
    """Copy every document, id and source as they are; check the counts match."""
    actions = (
        {"_op_type": "create", "_index": target, "_id": hit["_id"], "_source": hit["_source"]}
        for hit in helpers.scan(client, index=source, size=CHUNK_SIZE, preserve_order=False)
    )
    errors: list[dict[str, Any]] = []
    for ok, item in helpers.streaming_bulk(
        client, actions, chunk_size=CHUNK_SIZE, max_retries=5, raise_on_error=False
    ):
        if not ok:
            errors.append(item)
    if errors:
        raise helpers.BulkIndexError(f"{len(errors)} document(s) failed to copy.", errors)
    client.indices.refresh(index=target)
    want = client.count(index=source)["count"]
    got = client.count(index=target)["count"]
    if want != got:
        raise MigrationError(f"reindex {source} -> {target} copied {got} of {want} posts")
    return got


def _write_blocked(client: Elasticsearch, index: str) -> bool:
    settings = client.indices.get_settings(
        index=index, name="index.blocks.write", flat_settings=True
    )
    found = settings.get(index, {}).get("settings", {})  # absent when the block was never set
    return found.get("index.blocks.write") == "true"


def _roll_back(client: Elasticsearch, name: str, source: str, target: str) -> None:
    try:
        if current_index(client, name) == target:  # the swap went through after all
            logger.error(
                "migration %s -> %s: the alias moved; %s stays blocked", source, target, source
            )
            return
        logger.error("migration %s -> %s failed; %s stays in use", source, target, source)
        client.indices.put_settings(index=source, settings={"index.blocks.write": False})
        client.indices.delete(index=target, ignore_unavailable=True)
    except Exception:  # report the migration's own error, not this one
        logger.exception("could not clean up after the failed migration")


def drop(client: Elasticsearch, name: str) -> None:
    """Delete the alias and every version behind it (tests, a full rebuild)."""
    doomed = set(versions(client, name).values())
    current = current_index(client, name)
    if current:
        doomed.add(current)
    elif client.indices.exists(index=name):
        doomed.add(name)
    for index in sorted(doomed):
        client.indices.delete(index=index, ignore_unavailable=True)


def _error_type(e: ApiError) -> str | None:
    error = e.body.get("error") if isinstance(e.body, dict) else None
    return error.get("type") if isinstance(error, dict) else None
