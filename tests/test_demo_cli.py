"""`yuqing demo --no-dashboard` runs the whole path, then `yuqing search` finds the posts.

Once on the embedded SQLite store, once on the real Elasticsearch node.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli import command, environment, yuqing
from tests.conftest import ES_URL
from yuqing.demosite import generate
from yuqing.demosite.site import PAGE_SIZE
from yuqing.settings import load_config

pytestmark = pytest.mark.slow
N = len(generate(3).posts)


def expected_pages(seed: int, sources: int) -> int:
    """Pages a full crawl fetches: robots.txt per source, lists, the feed, detail pages."""
    corpus = generate(seed)
    lists = [[p for p in corpus.posts if p.board == b] for b in corpus.boards]
    lists += [corpus.of_kind("message"), corpus.of_kind("complaint")]
    list_pages = sum(-(-len(items) // PAGE_SIZE) for items in lists)
    details = sum(len(items) for items in lists)
    return sources + 1 + list_pages + 1 + details  # + the forum index, + the RSS feed


def check_demo(config_dir: Path, data_dir: Path, backend: str) -> None:
    demo = yuqing(config_dir, data_dir, "demo", "--no-dashboard", "--port", "0", "--seed", "3")
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    sources = len(load_config(config_dir, environ=environment()).sources)
    assert "Demo site for 青岚能源集团: http://127.0.0.1:" in out
    assert f"Crawl: {expected_pages(3, sources)} pages fetched, {N} posts, 0 quarantined" in out
    # Each source's posts come in batches of at most crawl.batch_posts (50).
    batches = sorted((data_dir / "processed").glob("*.jsonl"))
    assert all(0 < b.read_bytes().count(b"\n") <= 50 for b in batches)
    assert len(batches) >= sources + 1  # the forum alone has more than 50 posts
    assert f"Index ({backend}): {N} posts from {len(batches)} batch(es): {N} created, 0 upd" in out
    assert f"Posts stored: {N} ({backend}," in out
    per_theme = dict(
        item.rsplit(" ", 1)
        for item in out.split("Posts per theme: ")[1].splitlines()[0].split(", ")
    )
    assert set(per_theme) == {
        "wages", "welfare", "job_transfer", "children_employment", "injury_illness",
        "family_survivors", "hardship", "legacy", "cadre_conduct", "safety_environment", "other",
    }  # fmt: skip
    per_sentiment = dict(
        item.rsplit(" ", 1)
        for item in out.split("Posts per sentiment: ")[1].splitlines()[0].split(", ")
    )
    assert set(per_sentiment) == {"negative", "neutral", "positive"}
    assert sum(map(int, per_sentiment.values())) == N

    found = yuqing(config_dir, data_dir, "search", "工资", "--json", "--limit", "5")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["total"] >= 20
    assert len(result["hits"]) == 5
    for hit in result["hits"]:
        assert "【工资】" in hit["snippet"]
        assert hit["url"].startswith("http://127.0.0.1:")
    dates = [hit["published_at"] for hit in result["hits"]]
    assert dates == sorted(dates, reverse=True)

    negative = yuqing(
        config_dir,
        data_dir,
        "search",
        "工资",
        "--theme",
        "wages",
        "--sentiment",
        "negative",
        "--json",
    )
    hits = json.loads(negative.stdout)["hits"]
    assert hits and all("wages" in h["themes"] and h["sentiment"] == "negative" for h in hits)

    bad = yuqing(config_dir, data_dir, "search", "工资", "--theme", "salary")
    assert bad.returncode == 2
    assert "unknown theme(s): salary. Themes: wages, welfare" in bad.stderr


def test_demo_on_sqlite(config_dir, tmp_path):
    check_demo(config_dir, tmp_path / "data", "sqlite")
    assert (tmp_path / "data" / "yuqing.sqlite3").is_file()


def test_demo_on_elasticsearch(config_dir, tmp_path, es_client, es_index):
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("backend: sqlite", "backend: elasticsearch")
    text = text.replace("url: http://127.0.0.1:9200", f"url: {ES_URL}").replace(
        "index: yuqing-posts", f"index: {es_index}"
    )
    settings.write_text(text, encoding="utf-8")
    check_demo(config_dir, tmp_path / "data", "elasticsearch")
    assert es_client.count(index=es_index)["count"] == N


def test_search_with_elasticsearch_down_says_what_to_do(config_dir, tmp_path):
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace("backend: sqlite", "backend: elasticsearch")
    settings.write_text(
        text.replace("url: http://127.0.0.1:9200", "url: http://127.0.0.1:9"), encoding="utf-8"
    )
    proc = yuqing(config_dir, tmp_path / "data", "search", "工资")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert (
        "Elasticsearch unreachable" in proc.stderr
        and "scripts/elasticsearch.sh start" in proc.stderr
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_opens_the_dashboard_and_stops_on_sigterm(config_dir, tmp_path):
    import signal
    import time
    import urllib.request

    port = _free_port()
    cmd = command(
        config_dir, tmp_path / "data", "demo", "--port", "0", "--dashboard-port", str(port)
    )
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment()
    )
    try:
        deadline, health = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ).read()
                break
            except OSError:
                time.sleep(0.5)
        assert health == b"ok"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "<title>Streamlit</title>" in page or "streamlit" in page.lower()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"Dashboard: http://127.0.0.1:{port}/" in out
    assert f"Posts stored: {N} (sqlite," in out
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
