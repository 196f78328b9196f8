"""Distributed mode: two `yuqing crawl` processes share one scrapy-redis queue over the demo site.

A real Debian `redis-server` runs on 127.0.0.1 (a free port, a temporary folder; installed by
`scripts/setup.sh --dev`). Both processes crawl at once, each into its own data folder; every
post of the site must be in exactly one of their outputs, and both must have done some of it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from crawlers.distributed import KEY_TTL_SECONDS, RUN_ENV, redis_settings
from tests.cli import command, environment
from tests.test_crawl import _config_for
from yuqing import demosite

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: run `bash scripts/setup.sh --dev` (apt redis-server)")
    port, folder = _free_port(), tmp_path_factory.mktemp("redis")
    options = ["--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder), "--save", ""]
    proc = subprocess.Popen(
        [binary, *options, "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_settings_switch_only_with_a_url():
    assert redis_settings(None) == {}
    settings = redis_settings("redis://127.0.0.1:6379/0", run="r1")
    assert settings["SCHEDULER"] == "crawlers.distributed.ExpiringScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["SCHEDULER_QUEUE_KEY"] == "yuqing:r1:%(spider)s:requests"
    assert settings["SCHEDULER_PERSIST"] is True


def _posts(data_dir: Path) -> Counter[str]:
    urls: Counter[str] = Counter()
    for batch in (data_dir / "processed").glob("*.jsonl"):
        urls.update(json.loads(x)["url"] for x in batch.read_text(encoding="utf-8").splitlines())
    return urls


def test_two_processes_share_one_queue(redis_url, tmp_path):
    corpus = demosite.generate(seed=17)
    server, base_url = demosite.serve_in_thread(corpus, delay=0.05)
    config_dir = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", config_dir)
    _config_for(config_dir, base_url)
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace(
        "redis_url: null", f"redis_url: {redis_url}"
    )
    settings.write_text(text, encoding="utf-8")
    run = f"test-{uuid.uuid4().hex[:8]}"
    env = {**environment(), RUN_ENV: run}
    data_dirs = [tmp_path / "one", tmp_path / "two"]
    try:
        procs = [
            subprocess.Popen(
                command(config_dir, d, "crawl"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for d in data_dirs
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        server.shutdown()
        server.server_close()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (out, err[-3000:])
        assert "Traceback" not in err, err[-3000:]
    one, two = (_posts(d) for d in data_dirs)
    assert sum(one.values()) > 0 and sum(two.values()) > 0, (one.total(), two.total())
    union = one + two
    assert set(union) == {base_url + p.path for p in corpus.posts}
    assert max(union.values()) == 1  # every post collected exactly once
    detail_hits = [server.hits[p.path] for p in corpus.posts if p.kind != "news"]
    assert set(detail_hits) == {1}  # and every page fetched once
    client = redis.Redis.from_url(redis_url)
    keys = client.keys(f"yuqing:{run}:*")
    assert keys and all(0 < client.ttl(k) <= KEY_TTL_SECONDS for k in keys)
    client.close()
