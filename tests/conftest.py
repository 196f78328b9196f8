"""Shared fixtures: the project's configs, a segmenter, and the real Elasticsearch node.

Elasticsearch tests find the node through ELASTICSEARCH_URL (default http://127.0.0.1:9200),
started by scripts/elasticsearch.sh. When YUQING_REQUIRE_ES=1 (set by scripts/test.sh and in
CI) a missing node fails those tests; otherwise they are skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp.lexicon import taxonomy_words
from nlp.segment import Segmenter, get_segmenter
from yuqing.settings import Config, load_config

ROOT = Path(__file__).resolve().parents[1]
ES_URL = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
REQUIRE_ES = os.environ.get("YUQING_REQUIRE_ES") == "1" or os.environ.get("CI") == "true"
TEST_KEY = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}


def _es_info() -> dict | None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(ES_URL, request_timeout=5)
    try:
        return dict(client.info())
    except Exception:  # any failure means "no usable node"; reported by the fixture
        return None
    finally:
        client.close()


def pytest_report_header(config: pytest.Config) -> str:
    info = _es_info()
    if info is None:
        return f"elasticsearch: no node at {ES_URL} (required: {REQUIRE_ES})"
    version = info["version"]
    return (
        f"elasticsearch: GET {ES_URL}/ -> {info['name']} version {version['number']} "
        f"(build {version.get('build_flavor')}/{version.get('build_type')}, "
        f"lucene {version.get('lucene_version')}), tagline {info.get('tagline')!r}"
    )


@pytest.fixture(scope="session")
def project_config() -> Config:
    return load_config(ROOT / "configs", environ=TEST_KEY)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A writable copy of configs/, for tests that change or break it."""
    target = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", target)
    return target


@pytest.fixture(scope="session")
def segmenter(project_config: Config) -> Segmenter:
    return get_segmenter(taxonomy_words(project_config.taxonomy))


@pytest.fixture(scope="session")
def es_client():
    from elasticsearch import Elasticsearch

    info = _es_info()
    if info is None:
        message = (
            f"Elasticsearch is not up at {ES_URL}: start it with scripts/elasticsearch.sh start"
        )
        if REQUIRE_ES:
            pytest.fail(message)
        pytest.skip(message)
    client = Elasticsearch(ES_URL, request_timeout=30)
    client.cluster.health(wait_for_status="yellow", timeout="30s")
    yield client
    client.close()


@pytest.fixture
def es_index(es_client) -> Iterator[str]:
    """A fresh index (alias) name for one test, deleted afterwards with its versions."""
    from index.es_admin import drop

    name = f"yuqing-test-{uuid.uuid4().hex[:10]}"
    yield name
    drop(es_client, name)  # the alias and every version behind it
