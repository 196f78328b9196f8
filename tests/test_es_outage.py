"""Elasticsearch dies in the middle of a write: the batches stay spooled, and a replay once
the node is back stores every post exactly once.

This runs its own throwaway node (scripts/elasticsearch.sh with its own port and state dir),
never the shared one the other tests use, and kills it with SIGKILL while the pipeline writes.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers

from index.es_store import ElasticsearchStore
from tests.conftest import REQUIRE_ES, ROOT
from tests.posts import make_post
from yuqing.pipeline import DataPaths, process_inbox
from yuqing.schema import Classification

logger = logging.getLogger(__name__)
pytestmark = [pytest.mark.slow, pytest.mark.elasticsearch]

BATCHES, PER_BATCH = 20, 150  # 3,000 posts; the first pass writes 50 to a bulk request
CRASH_AFTER = 3  # batches fully indexed before the node is killed


class StubClassifier:
    name = "stub"

    def classify(self, texts):
        return [Classification(themes=["wages"], sentiment="negative") for _ in texts]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A second Elasticsearch node, driven through scripts/elasticsearch.sh."""

    def __init__(self) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "ES_PORT": str(self.port),
            "ES_TRANSPORT_PORT": str(free_port()),
            "ES_STATE_DIR": f".es/outage-{uuid.uuid4().hex[:8]}",
            "ES_NODE_NAME": "yuqing-outage-node",
        }
        self.url = f"http://127.0.0.1:{self.port}"

    def run(self, command: str, timeout: float = 150) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(ROOT / "scripts" / "elasticsearch.sh"), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> None:
        done = self.run("start")
        if done.returncode != 0:
            message = f"the outage test's node did not start:\n{done.stdout}{done.stderr}"
            if REQUIRE_ES:
                pytest.fail(message)
            pytest.skip(message)

    def client(self) -> Elasticsearch:
        return Elasticsearch(self.url, request_timeout=30)


@pytest.fixture
def node() -> Iterator[Node]:
    node = Node()
    try:
        node.start()
        yield node
    finally:
        node.run("wipe")


def write_inbox(paths: DataPaths) -> list[str]:
    paths.inbox.mkdir(parents=True)
    ids = []
    for b in range(BATCHES):
        posts = [make_post(b * PER_BATCH + i) for i in range(PER_BATCH)]
        ids.extend(p.id for p in posts)
        lines = "".join(p.model_dump_json() + "\n" for p in posts)
        (paths.inbox / f"batch-{b:03d}.jsonl").write_text(lines, encoding="utf-8")
    return ids


def crash_when_indexed(node: Node, paths: DataPaths, batches: int, crashed: dict) -> None:
    """Kill the node (SIGKILL) as soon as `batches` batches have left the inbox."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if paths.processed.is_dir() and len(list(paths.processed.iterdir())) >= batches:
            crashed["result"] = node.run("crash", timeout=30)
            return
        time.sleep(0.005)


def all_ids(client: Elasticsearch, index: str) -> Counter[str]:
    client.indices.refresh(index=index)
    return Counter(hit["_id"] for hit in helpers.scan(client, index=index, _source=False))


def test_a_crash_mid_write_loses_and_duplicates_nothing(node: Node, tmp_path: Path, segmenter):
    paths = DataPaths(tmp_path / "data")
    ids = write_inbox(paths)
    total = len(ids)
    index = "yuqing-outage-posts"
    store = ElasticsearchStore(node.client(), index, segmenter, chunk_size=50)
    store.setup()

    crashed: dict = {}
    killer = threading.Thread(target=crash_when_indexed, args=(node, paths, CRASH_AFTER, crashed))
    killer.start()
    report = process_inbox(paths, store, StubClassifier())  # no exception may escape
    killer.join()
    store.close()

    assert crashed["result"].returncode == 0, crashed["result"].stderr
    assert report.spooled_files > 0, "the node died only after the last batch"
    assert "unreachable" in report.error
    assert report.files + report.spooled_files == BATCHES
    assert report.posts == report.created == report.files * PER_BATCH
    assert len(list(paths.inbox.glob("*.jsonl"))) == report.spooled_files

    node.start()  # recovers from its translog
    client = node.client()
    before = all_ids(client, index)
    # Every acknowledged batch survived the crash; the rest of the posts are not all there.
    logger.info(
        "killed after %d batch(es) acked; %d of %d posts were in",
        report.files,
        sum(before.values()),
        total,
    )
    assert report.posts <= sum(before.values()) < total
    assert set(before) <= set(ids) and max(before.values()) == 1

    store = ElasticsearchStore(client, index, segmenter)
    store.setup()
    replay = process_inbox(paths, store, StubClassifier())
    assert replay.spooled_files == 0 and replay.error is None
    assert replay.files == report.spooled_files
    assert replay.created == total - sum(before.values())
    assert replay.created + replay.unchanged == replay.posts
    after = all_ids(client, index)
    assert store.count() == total
    assert after == Counter(ids)  # every post, exactly once

    for done in paths.processed.glob("*.jsonl"):  # replay everything again: nothing changes
        done.rename(paths.inbox / done.name)
    again = process_inbox(paths, store, StubClassifier())
    assert (again.files, again.created, again.updated) == (BATCHES, 0, 0)
    assert again.unchanged == total
    assert all_ids(client, index) == after
    store.close()
