"""Records (alerts, cases, users, audit) behave the same in SQLite and Elasticsearch."""

from __future__ import annotations

import pytest

from index.records import ElasticsearchRecords, RecordStore, SqliteRecords


@pytest.fixture(params=["sqlite", "elasticsearch"])
def records(request, tmp_path) -> RecordStore:
    if request.param == "sqlite":
        store: RecordStore = SqliteRecords(tmp_path / "yuqing.sqlite3")
    else:
        client = request.getfixturevalue("es_client")
        index = request.getfixturevalue("es_index")
        store = ElasticsearchRecords(client, f"{index}-records")
        request.addfinalizer(
            lambda: client.indices.delete(index=store.index, ignore_unavailable=True)
        )
    store.setup()
    store.setup()  # safe to run twice
    return store


def test_put_get_replace_delete(records: RecordStore) -> None:
    assert records.get("case", "c1") is None
    records.put("case", "c1", {"id": "c1", "status": "received", "title": "拖欠工资"})
    got = records.get("case", "c1")
    assert got is not None and got["status"] == "received" and got["title"] == "拖欠工资"
    assert "updated_at" in got
    records.put("case", "c1", {"id": "c1", "status": "closed", "title": "拖欠工资"})
    assert records.get("case", "c1")["status"] == "closed"
    assert records.count("case") == 1
    assert records.delete("case", "c1") is True
    assert records.delete("case", "c1") is False
    assert records.count("case") == 0


def test_list_newest_first_filters_and_kinds_apart(records: RecordStore) -> None:
    for i in range(5):
        records.put("alert", f"a{i}", {"id": f"a{i}", "status": "open" if i % 2 else "acked"})
    records.put("audit", "x", {"id": "x", "action": "login"})
    listed = records.list("alert")
    assert [d["id"] for d in listed] == ["a4", "a3", "a2", "a1", "a0"]
    assert [d["id"] for d in records.list("alert", where={"status": "open"})] == ["a3", "a1"]
    assert [d["id"] for d in records.list("alert", limit=2)] == ["a4", "a3"]
    assert records.count("audit") == 1 and records.count("alert") == 5
