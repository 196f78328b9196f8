"""The Elasticsearch index's life cycle on a real node: the alias over versioned indices,
`setup()` on every deploy, zero-downtime `migrate()`, an old concrete index, `purge()`."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import pytest
from elasticsearch import ApiError, Elasticsearch, helpers

from index import es_admin
from index.base import SearchQuery, StoreUnavailable, to_document
from index.es_store import ElasticsearchStore
from yuqing.pipeline import DataPaths, process_inbox
from yuqing.schema import SHANGHAI, Annotations, Classification, Post, content_sha256, post_id

BASE = datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)
NOTE = Annotations(
    labels=Classification(themes=["wages"], sentiment="negative", cues={"wages": ["欠薪"]}),
    case_ids=["case-7"],
    updated_at=BASE + timedelta(days=3),
)


def make_post(n: int, *, cues: dict[str, list[str]] | None = None) -> Post:
    url = f"http://127.0.0.1/forum/thread/{n}.html"
    text = f"第{n}号帖：拖欠工资{n % 7}个月，食堂涨价。"
    return Post(
        id=post_id(url),
        source="forum-a",
        platform="forum",
        url=url,
        title=f"帖子{n}",
        text=text,
        published_at=BASE + timedelta(hours=n),
        fetched_at=BASE + timedelta(days=70),
        content_sha256=content_sha256(text),
        units=["第三采油厂"] if n % 2 else [],
        classification=Classification(
            themes=["wages"], sentiment="negative", cues=cues or {"wages": ["工资"]}
        ),
    )


POSTS = [make_post(n) for n in range(40)]


class StubClassifier:
    name = "stub"

    def classify(self, texts):
        return [Classification(themes=["wages"], sentiment="negative") for _ in texts]


@pytest.fixture
def alias(es_client: Elasticsearch, es_index: str):
    yield es_index
    es_admin.drop(es_client, es_index)  # every version; es_index's own teardown skips aliases


@pytest.fixture
def store(es_client, alias, segmenter) -> ElasticsearchStore:
    s = ElasticsearchStore(es_client, alias, segmenter, refresh=True)
    s.setup()
    return s


def snapshot(store: ElasticsearchStore) -> dict:
    return {
        "posts": {p.id: store.get(p.id) for p in POSTS},
        "count": store.count(),
        "search": [h.post.id for h in store.search(SearchQuery("工资", limit=100)).hits],
        "top": store.top(None, "units"),
    }


def write_blocked(client: Elasticsearch, index: str) -> bool:
    settings = client.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    return settings.get("index.blocks.write") == "true"


def test_setup_puts_v1_behind_the_alias_and_is_safe_to_repeat(es_client, store, alias):
    store.setup()
    store.setup()
    assert es_admin.current_index(es_client, alias) == f"{alias}-v1"
    assert es_admin.versions(es_client, alias) == {1: f"{alias}-v1"}
    mapping = es_client.indices.get_mapping(index=alias)[f"{alias}-v1"]["mappings"]
    assert mapping["_meta"] == {"mapping_version": es_admin.MAPPING_VERSION}
    assert mapping["properties"]["annotations"]["properties"]["case_ids"] == {"type": "keyword"}


def test_setup_adds_new_fields_to_an_older_version(es_client, alias, segmenter, caplog):
    old = {k: v for k, v in es_admin.PROPERTIES.items() if k != "annotations"}
    es_client.indices.create(
        index=f"{alias}-v1",
        mappings={"dynamic": "strict", "properties": old},  # mapping version 1: no _meta
        aliases={alias: {}},
    )
    store = ElasticsearchStore(es_client, alias, segmenter, refresh=True)
    with caplog.at_level(logging.WARNING, logger="index.es_admin"):
        store.setup()
    assert "yuqing index migrate" in caplog.text
    store.upsert(POSTS[:2])
    store.annotate(POSTS[0].id, NOTE)
    assert store.get(POSTS[0].id).annotations == NOTE


def test_a_clashing_mapping_asks_for_a_migration_which_fixes_it(
    es_client, alias, segmenter, caplog
):
    old = {k: v for k, v in es_admin.PROPERTIES.items() if k != "annotations"}
    clashing = dict(old, units={"type": "text"})
    es_client.indices.create(
        index=f"{alias}-v1", mappings={"properties": clashing}, aliases={alias: {}}
    )
    store = ElasticsearchStore(es_client, alias, segmenter, refresh=True)
    with caplog.at_level(logging.ERROR, logger="index.es_admin"):
        store.setup()  # goes on: `yuqing index migrate` sets the store up first
    assert "clashes with the code's on units" in caplog.text
    assert "yuqing index migrate" in caplog.text
    store.upsert(POSTS)
    store.annotate(POSTS[0].id, NOTE)  # the fields that fit were added
    with pytest.raises(ApiError):  # a text field has no terms aggregation
        store.top(None, "units")
    assert store.migrate()["to"] == f"{alias}-v2"
    caplog.clear()
    store.setup()  # now the mapping is the code's
    assert "clashes" not in caplog.text
    assert store.top(None, "units")[0].count == 20
    assert store.get(POSTS[0].id).annotations == NOTE


def test_migrate_keeps_every_post_and_annotation_and_swaps_the_alias(es_client, store, alias):
    store.upsert(POSTS)
    store.annotate(POSTS[3].id, NOTE)
    before = snapshot(store)
    report = store.migrate()
    assert report == {
        "from": f"{alias}-v1",
        "to": f"{alias}-v2",
        "docs": 40,
        "kept": f"{alias}-v1",
        "mapping_version": es_admin.MAPPING_VERSION,
    }
    assert es_admin.current_index(es_client, alias) == f"{alias}-v2"
    assert snapshot(store) == before
    assert store.get(POSTS[3].id).annotations == NOTE
    assert write_blocked(es_client, f"{alias}-v1")  # the backup stays as it was
    assert es_client.count(index=f"{alias}-v1")["count"] == 40
    assert not write_blocked(es_client, f"{alias}-v2")
    assert store.upsert([make_post(99)]).created == 1  # writes go to the new version
    assert es_client.count(index=f"{alias}-v2")["count"] == 41
    assert store.migrate()["to"] == f"{alias}-v3"
    assert store.count() == 41 and store.get(POSTS[3].id).annotations == NOTE


def test_reads_go_on_through_the_alias_during_a_migration(es_client, store, alias):
    many = [make_post(n) for n in range(3000)]
    store.upsert(many)
    report: dict = {}
    migration = threading.Thread(target=lambda: report.update(store.migrate()))
    reads = 0
    migration.start()
    while migration.is_alive():
        assert store.count() == 3000
        assert store.search(SearchQuery("工资", limit=1)).total == 3000
        reads += 1
    migration.join()
    assert reads > 1, "the migration ended before a read could overlap it"
    assert report["docs"] == 3000 and store.count() == 3000


def test_writes_during_a_migration_stay_spooled_and_replay_after(
    es_client, store, alias, tmp_path, monkeypatch
):
    store.upsert(POSTS)
    paths = DataPaths(tmp_path)
    paths.inbox.mkdir(parents=True)
    late = [make_post(n) for n in range(100, 110)]
    (paths.inbox / "late.jsonl").write_text("".join(p.model_dump_json() + "\n" for p in late))
    copy = es_admin._reindex
    during: dict = {}

    def reindex_with_a_crawl_in_between(client, source, target):
        during["report"] = process_inbox(paths, store, StubClassifier())
        with pytest.raises(StoreUnavailable):
            store.annotate(POSTS[0].id, NOTE)
        return copy(client, source, target)

    monkeypatch.setattr(es_admin, "_reindex", reindex_with_a_crawl_in_between)
    assert store.migrate()["docs"] == 40
    assert during["report"].spooled_files == 1 and "cluster_block" in during["report"].error
    assert store.count() == 40
    replay = process_inbox(paths, store, StubClassifier())
    assert (replay.files, replay.created) == (1, 10)
    assert store.count() == 50


def test_a_failed_migration_leaves_the_current_version_in_use(es_client, store, alias, monkeypatch):
    store.upsert(POSTS)

    def broken(client, source, target):
        raise es_admin.MigrationError("copied 39 of 40 posts")

    monkeypatch.setattr(es_admin, "_reindex", broken)
    with pytest.raises(es_admin.MigrationError):
        store.migrate()
    assert es_admin.versions(es_client, alias) == {1: f"{alias}-v1"}
    assert es_admin.current_index(es_client, alias) == f"{alias}-v1"
    assert not write_blocked(es_client, f"{alias}-v1")
    assert store.upsert([make_post(99)]).created == 1


def test_migrate_refuses_a_write_blocked_index(es_client, store, alias):
    es_client.indices.add_block(index=f"{alias}-v1", block="write")
    with pytest.raises(es_admin.MigrationError, match="write-blocked"):
        store.migrate()
    assert es_admin.versions(es_client, alias) == {1: f"{alias}-v1"}


def test_setup_converts_an_old_concrete_index_into_v1(es_client, alias, segmenter):
    # An install from before the alias: a plain index under the name, no annotations field,
    # classification stored as a plain object.
    old = {k: v for k, v in es_admin.PROPERTIES.items() if k != "annotations"}
    es_client.indices.create(index=alias, mappings={"dynamic": "strict", "properties": old})
    helpers.bulk(
        es_client,
        ({"_index": alias, "_id": p.id, "_source": to_document(p, segmenter)} for p in POSTS),
        refresh=True,
    )
    store = ElasticsearchStore(es_client, alias, segmenter, refresh=True)
    store.setup()
    assert es_admin.current_index(es_client, alias) == f"{alias}-v1"
    assert es_admin.versions(es_client, alias) == {1: f"{alias}-v1"}
    assert store.count() == 40
    assert all(store.get(p.id) == p for p in POSTS)
    store.annotate(POSTS[0].id, NOTE)
    store.upsert(POSTS)  # the crawler again: new form of classification, annotations kept
    assert store.get(POSTS[0].id) == POSTS[0].model_copy(update={"annotations": NOTE})
    assert store.upsert(POSTS).unchanged == 40
    store.setup()  # and from now on, setup is the usual no-op
    assert es_admin.versions(es_client, alias) == {1: f"{alias}-v1"}


def test_an_alias_lost_over_existing_versions_is_reported(es_client, alias, segmenter):
    es_client.indices.create(index=f"{alias}-v2")
    store = ElasticsearchStore(es_client, alias, segmenter)
    with pytest.raises(es_admin.MigrationError, match="no alias"):
        store.setup()


def test_upserts_replace_the_opaque_maps_instead_of_merging_them(store):
    post = make_post(1, cues={"wages": ["工资"], "welfare": ["食堂"]})
    store.upsert([post])
    store.annotate(post.id, NOTE)
    fewer = make_post(1, cues={"wages": ["工资"]})
    assert store.upsert([fewer]).updated == 1
    assert store.get(post.id).classification.cues == {"wages": ["工资"]}
    relabelled = NOTE.model_copy(
        update={"labels": Classification(themes=["welfare"], cues={"welfare": ["食堂"]})}
    )
    store.annotate(post.id, relabelled)
    assert store.get(post.id) == fewer.model_copy(update={"annotations": relabelled})


def test_purge_after_a_migration_leaves_the_backup_alone(es_client, store, alias):
    store.upsert(POSTS)
    store.migrate()
    assert store.purge(BASE + timedelta(hours=10)) == 10
    assert store.count() == 30
    assert es_client.count(index=f"{alias}-v1")["count"] == 40


def test_an_unreachable_node_is_store_unavailable(segmenter):
    client = Elasticsearch("http://127.0.0.1:9", request_timeout=2, max_retries=0)
    store = ElasticsearchStore(client, "yuqing-nowhere", segmenter)
    for call in (store.setup, lambda: store.upsert(POSTS[:1]), store.count, store.migrate):
        with pytest.raises(StoreUnavailable):
            call()
    client.close()


def test_drop_removes_the_alias_and_every_version(es_client, store, alias):
    store.upsert(POSTS[:3])
    store.migrate()
    es_admin.drop(es_client, alias)
    assert es_admin.versions(es_client, alias) == {}
    assert not es_client.indices.exists(index=alias)
