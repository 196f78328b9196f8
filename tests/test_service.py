"""`yuqing run` against the demo site: a severe post published while it runs reaches a local
webhook within the crawl interval plus a minute; `yuqing status` reports the cycles; SIGTERM
ends it cleanly. Also `yuqing alerts check/backtest/list/ack` on a crawled demo."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from alerts.outbox import OUTBOX_FILE, Outbox
from tests.cli import command, environment, yuqing
from tests.conftest import TEST_KEY
from tests.test_channels import SECRETS, Receiver, sample_message
from yuqing import demosite
from yuqing.commands.service import run_cycle
from yuqing.schema import SHANGHAI
from yuqing.settings import load_config

INTERVAL = 5


def configure(config_dir: Path, port: int, hook_url: str) -> None:
    settings = config_dir / "settings.yaml"
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    data["demo_site"]["port"] = port
    settings.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    path = config_dir / "alerts.yaml"
    alerts = yaml.safe_load(path.read_text(encoding="utf-8"))
    alerts["quiet_hours"] = None
    alerts["channels"] = [
        {"name": "hook", "type": "webhook", "url": hook_url, "secret_env": "HOOK_SECRET"}
    ]
    for rule in alerts["rules"]:
        if rule["name"] in ("severe-post", "theme-spike", "unit-spike"):
            rule["channels"] = ["hook"]
    path.write_text(yaml.safe_dump(alerts, allow_unicode=True), encoding="utf-8")


def publish(base_url: str, title: str, text: str) -> dict:
    body = {
        "section": "forum",
        "board": "staff",
        "title": title,
        "text": text,
        "author": "匿名职工",
    }
    request = urllib.request.Request(
        base_url + "/_demo/posts", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())


def wait_for(predicate, timeout: float, step: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


@pytest.mark.slow
def test_run_delivers_a_severe_post_published_while_it_runs(tmp_path, config_dir):
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    server, base_url = demosite.serve_in_thread(demosite.generate(7))
    configure(config_dir, server.server_address[1], receiver.url + "/webhook")
    data_dir = tmp_path / "data"
    log = (tmp_path / "run.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        command(config_dir, data_dir, "run", "--interval", str(INTERVAL)),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**environment(), **SECRETS},
    )
    try:
        first = wait_for(lambda: (data_dir / "service" / "cycles.jsonl").is_file(), 120)
        assert first, Path(log.name).read_text(encoding="utf-8")
        published = publish(base_url, "实在撑不下去了", "八个月没发工资，我真的不想活了。")
        t_publish = time.time()

        def severe():
            for _, body, _ in receiver.accepted:
                if body["alert"]["detector"] == "severe":
                    return time.time(), body
            return None

        arrived = wait_for(severe, INTERVAL + 90)
        assert arrived, Path(log.name).read_text(encoding="utf-8")
        latency = arrived[0] - t_publish
        print(f"publish -> webhook latency: {latency:.1f} s (crawl interval {INTERVAL} s)")
        body = arrived[1]
        assert body["alert"]["top_posts"][0]["url"] == published["url"]
        assert body["alert"]["severity"] == "critical" and "不想活了" in body["alert"]["summary"]
        assert latency <= INTERVAL + 60

        status = yuqing(config_dir, data_dir, "status", "--json")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert len(report["cycles"]) >= 2
        assert report["cycles"][0]["sources"] == [
            s.name for s in load_config(config_dir, environ=environment()).sources
        ]
        assert set(report["queues"]) == {"inbox", "quarantine", "spool"}
        assert report["outbox"] == {}
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        server.shutdown()
        receiver.shutdown()
    out = Path(log.name).read_text(encoding="utf-8")
    assert rc == 0, out
    assert out.rstrip().endswith("yuqing run: stopped")
    cycle_lines = [line for line in out.splitlines() if " cycle: crawled " in line]
    assert len(cycle_lines) >= 2
    deliveries = [b["alert"]["id"] for _, b, _ in receiver.accepted]
    assert len(deliveries) == len(set(deliveries))  # each alert once, however many cycles ran


@pytest.mark.slow
def test_alerts_cli_on_a_crawled_demo(tmp_path, config_dir):
    data_dir = tmp_path / "data"
    demo = yuqing(config_dir, data_dir, "demo", "--no-dashboard", "--port", "0")
    assert demo.returncode == 0, demo.stderr
    assert "【负面声量激增】薪酬分配" in demo.stdout  # the demo ends with the alert check
    listed = json.loads(yuqing(config_dir, data_dir, "alerts", "list", "--json").stdout)
    assert [a["rule"] for a in listed] == ["unit-spike"]  # the spike's posts name one unit
    alert_id = listed[0]["id"]

    back = yuqing(config_dir, data_dir, "alerts", "backtest", "--since", "2000-01-01", "--json")
    assert back.returncode == 0, back.stderr
    events = json.loads(back.stdout)
    assert {e["id"] for e in events} == {alert_id}
    assert events[0]["event"] == "new"

    dry = yuqing(config_dir, data_dir, "alerts", "check", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert set(json.loads(dry.stdout)) == {"events", "delivery"}

    ack = yuqing(config_dir, data_dir, "alerts", "ack", alert_id, "--user", "王科长")
    assert ack.returncode == 0 and "acknowledged by 王科长" in ack.stdout
    doc = json.loads(yuqing(config_dir, data_dir, "alerts", "list", "--json").stdout)[0]
    assert doc["status"] == "acknowledged" and doc["history"][-1]["by"] == "王科长"
    missing = yuqing(config_dir, data_dir, "alerts", "resolve", "nope", "--user", "x")
    assert missing.returncode == 2 and "yuqing alerts list" in missing.stderr

    bad = yuqing(
        config_dir, data_dir, "alerts", "backtest", "--since", "2026-02-01", "--until", "2026-01-01"
    )
    assert bad.returncode == 2 and "--until" in bad.stderr


def test_the_demo_site_takes_posts_at_runtime():
    server, base_url = demosite.serve_in_thread(demosite.generate(7))
    try:
        added = publish(base_url, "食堂饭菜涨价", "最近食堂涨价了。")
        assert added["path"].startswith("/forum/thread/t")
        with urllib.request.urlopen(base_url + "/forum/board/staff/", timeout=10) as page:
            assert "食堂饭菜涨价" in page.read().decode("utf-8")  # first on the board's first page
        with urllib.request.urlopen(added["url"], timeout=10) as page:
            assert "最近食堂涨价了。" in page.read().decode("utf-8")
        bad = urllib.request.Request(
            base_url + "/_demo/posts", data=json.dumps({"title": "x"}).encode(), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=10)
        assert err.value.code == 400
    finally:
        server.shutdown()
        server.server_close()


def test_a_cycle_delivers_queued_alerts_while_the_store_is_down(tmp_path, config_dir, monkeypatch):
    """The outbox is local: with Elasticsearch unreachable, a cycle still sends what is queued."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        configure(config_dir, 8765, receiver.url + "/webhook")
        settings = config_dir / "settings.yaml"
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
        data["store"]["backend"] = "elasticsearch"
        data["store"]["elasticsearch"]["url"] = "http://127.0.0.1:9"  # nothing listens there
        settings.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        config = load_config(config_dir, data_dir=tmp_path / "data", environ=dict(TEST_KEY))
        outbox = Outbox(config.data_dir / OUTBOX_FILE)
        outbox.enqueue(sample_message(), ["hook"], datetime.now(SHANGHAI))
        outbox.close()
        cycle = run_cycle(config, [], None)
    finally:
        receiver.shutdown()
    assert any(e.startswith("alerts:") for e in cycle["errors"]), cycle
    assert cycle["delivery"]["delivered"] == 1
    assert [b["alert"]["id"] for _, b, _ in receiver.accepted] == [sample_message().alert_id]
