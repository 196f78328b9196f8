"""`yuqing crawl --report` and the dashboard's Sources page list the same quarantined items,
from one reader: every record shape the quarantine has held, and lines that are no record."""

from __future__ import annotations

import json

from dashboard import health
from tests.cli import yuqing

CURRENT = {
    "time": "2026-03-02T10:00:01+08:00",
    "source": "demo-forum",
    "url": "http://x/2",
    "reason": "bad_date",
    "error": "unparseable date '上个月' at http://x/2",
    "item": {"title": "工资"},
}
OLD = {"error": "no text", "item": {"source": "demo-forum", "url": "http://x/1"}}
FORUM_FILE = "20260302T100000-demo-forum.jsonl"
REJECT = {"file": "b.jsonl", "line": 3, "error": "bad JSON", "raw": "{"}


def test_report_and_dashboard_list_the_same_items(config_dir, tmp_path):
    folder = tmp_path / "data" / "quarantine"
    folder.mkdir(parents=True)
    lines = [json.dumps(CURRENT), json.dumps(OLD), "", '{"torn": ', "[1, 2]"]
    (folder / FORUM_FILE).write_text("\n".join(lines) + "\n")
    (folder / "index-rejects.jsonl").write_text(json.dumps(REJECT) + "\n")

    proc = yuqing(config_dir, tmp_path / "data", "crawl", "--report", "--json")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["total"] == 5
    assert found["by_reason"] == {"unreadable": 2, "bad_date": 1, "invalid": 1, "index_reject": 1}
    first = found["items"][0]  # the only one with a time: newest
    assert (first["reason"], first["file"], first["line"]) == ("bad_date", FORUM_FILE, 1)
    unreadable = [i for i in found["items"] if i["reason"] == "unreadable"]
    assert [(i["line"], i["raw"], i["source"]) for i in unreadable] == [
        (4, '{"torn":', "demo-forum"),
        (5, "[1, 2]", "demo-forum"),
    ]
    text = yuqing(config_dir, tmp_path / "data", "crawl", "--report").stdout
    assert "5 item(s)" in text and "unreadable: 2" in text

    shown = health.quarantined_items(tmp_path / "data")
    assert [(i.file, i.line) for i in shown] == [(i["file"], i["line"]) for i in found["items"]]
    by_line = {(i.file, i.line): i for i in shown}
    old = by_line[(FORUM_FILE, 2)]
    assert (old.source, old.error, old.url) == ("demo-forum", "no text", "http://x/1")
    assert by_line[("index-rejects.jsonl", 1)].source == "(index)"
    assert by_line[(FORUM_FILE, 4)].raw == '{"torn":'
    assert json.loads(by_line[(FORUM_FILE, 1)].raw)["url"] == "http://x/2"
