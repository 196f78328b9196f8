"""Briefings: the numbers on a real store, links back to every count and post, and the DOCX,
HTML and Markdown files (`yuqing report`)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document

from dashboard import cases
from dashboard.auth import PermissionDenied, User
from dashboard.briefing import content, write
from dashboard.filters import Filters
from index.factory import sqlite_path
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from tests import test_dashboard
from tests.cli import yuqing
from tests.test_dashboard import make_post
from tests.test_dashboard_pages import sample_alert
from yuqing.routing import load_departments
from yuqing.schema import SHANGHAI
from yuqing.settings import load_config

KEY_ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}  # no dev-key warning

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 3, 10)
BASE = "http://dash.example:8501"
NAMES = {"wages": "薪酬分配", "welfare": "福利发放"}
app_dirs = test_dashboard.app_dirs  # the fixture: configs and data in tmp_path


def fill(store: SqliteStore) -> None:
    """This week (03-04..03-10): 4 posts, 3 negative; the week before: 2 posts, 1 negative."""
    rows = [
        (1, DAY, "工资拖了", ["wages"], "negative", ["第三采油厂"]),
        (2, DAY - timedelta(days=1), "工资又拖", ["wages"], "negative", ["第三采油厂"]),
        (3, DAY - timedelta(days=6), "福利<script>", ["welfare"], "negative", []),
        (4, DAY - timedelta(days=2), "食堂不错", ["welfare"], "positive", []),
        (5, DAY - timedelta(days=7), "旧事", ["wages"], "negative", []),
        (6, DAY - timedelta(days=13), "通知", ["welfare"], "neutral", []),
        (7, DAY - timedelta(days=14), "更早", ["wages"], "negative", []),
    ]
    store.upsert(
        make_post(n, d, t, f"{t}，正文。", th, s).model_copy(
            update={"units": u, "story_id": "s1" if n < 3 else None}
        )
        for n, d, t, th, s, u in rows
    )


@pytest.fixture
def parts(tmp_path: Path, segmenter, project_config):
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    store.setup()
    fill(store)
    records = SqliteRecords(tmp_path / "yuqing.sqlite3")
    records.setup()
    records.put(
        "alert",
        "a1",
        sample_alert(
            "a1", fired_at="2026-03-09T10:00:00+08:00", dashboard_url=f"{BASE}/search?themes=wages"
        ),
    )
    records.put(
        "alert", "a0", sample_alert("a0", fired_at="2026-02-01T10:00:00+08:00", title="too old")
    )
    departments = load_departments(ROOT / "configs", project_config.taxonomy.theme_ids)
    officer = User("li", "officer")
    opened = datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    late = cases.open_case(
        records,
        store,
        departments,
        officer,
        title="废气",
        themes=["safety_environment"],
        now=opened,
    )
    cases.open_case(
        records,
        store,
        departments,
        officer,
        title="欠薪",
        themes=["wages"],
        now=datetime(2026, 3, 9, 9, tzinfo=SHANGHAI),
    )
    yield store, records, late
    store.close()


def test_week_numbers_against_the_week_before(parts) -> None:
    store, records, late = parts
    b = content.build(store, records, "week", DAY, BASE, NAMES)
    assert (b.since, b.until) == (date(2026, 3, 4), date(2026, 3, 11))
    assert (b.total.count, b.negative.count) == (4, 3)
    assert (b.previous_total.count, b.previous_negative.count) == (2, 1)
    assert b.negative_share == 0.75 and b.previous_share == 0.5
    assert [(c.label, c.count) for c in b.themes] == [
        ("薪酬分配", 2),
        ("福利发放", 2),
    ]  # a tie: by theme id
    assert [(c.label, c.count) for c in b.units] == [("第三采油厂", 2)]
    assert [(c.label, c.count) for c in b.stories] == [("工资拖了", 2)]
    assert [q.title for q in b.quotes] == ["工资拖了", "工资又拖", "福利<script>"]
    assert [a["id"] for a in b.alerts] == ["a1"]
    assert [c["title"] for c in b.new_cases] == ["欠薪"]
    assert [c["id"] for c in b.overdue_cases] == [late["id"]]  # safety: due 03-04
    # Every count links to the search that lists exactly those posts.
    for count in [
        b.total,
        b.negative,
        b.previous_total,
        b.previous_negative,
        *b.themes,
        *b.units,
        *b.stories,
    ]:
        filters = Filters.from_query_string(count.url.split("?", 1)[1])
        assert count.url.startswith(f"{BASE}/search?")
        assert store.search(filters.query()).total == count.count, count
    assert all(re.fullmatch(rf"{BASE}/post\?post=[0-9a-f]{{20}}", q.url) for q in b.quotes)


def test_day_period(parts) -> None:
    store, records, _ = parts
    b = content.build(store, records, "day", DAY, BASE, NAMES)
    assert (b.since, b.until, b.total.count, b.previous_total.count) == (
        DAY,
        DAY + timedelta(days=1),
        1,
        1,
    )
    with pytest.raises(ValueError, match="period"):
        content.period_window("month", DAY)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.images = 0

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if tag == "a" and k == "href"]
        self.scripts += tag == "script"
        self.images += tag == "img"


def test_html_links_every_number_and_escapes_posts(parts) -> None:
    store, records, _ = parts
    b, data = write.make(store, records, "week", DAY, "html", BASE, NAMES)
    page = data.decode("utf-8")
    parser = Links()
    parser.feed(page)
    assert parser.scripts == 0 and "福利&lt;script&gt;" in page
    assert parser.images == 3  # volume, themes, units
    assert {
        b.total.url,
        b.negative.url,
        *(q.url for q in b.quotes),
        f"{BASE}/search?themes=wages",
    } <= set(parser.links)


def test_docx_has_real_hyperlinks_and_charts(parts) -> None:
    store, records, _ = parts
    b, data = write.make(store, records, "week", DAY, "docx", BASE, NAMES)
    doc = Document(io.BytesIO(data))
    targets = {r.target_ref for r in doc.part.rels.values() if r.is_external}
    assert {b.total.url, b.negative.url, *(q.url for q in b.quotes)} <= targets
    body = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert body.count("<w:hyperlink ") >= len(targets)
    assert len(doc.inline_shapes) == 3
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Negative posts: 3, a share of 75.0%" in text
    assert "福利<script>" in text  # as text: Word does not run it


def test_markdown_escapes_and_links(parts, tmp_path: Path) -> None:
    store, records, _ = parts
    b = content.build(store, records, "week", DAY, BASE, NAMES)
    written = write.write_markdown_with_charts(b, tmp_path / "brief.md")
    md = written[0].read_text(encoding="utf-8")
    assert f"[4](<{b.total.url}>)" in md
    assert r"福利\<script\>" in md and "<script>" not in md
    assert (
        "![volume](brief-volume.png)" in md
        and (tmp_path / "brief-volume.png").stat().st_size > 1000
    )


def test_briefings_from_the_dashboard_need_an_officer(parts) -> None:
    store, records, _ = parts
    with pytest.raises(PermissionDenied):
        write.make(store, records, "day", DAY, "md", BASE, NAMES, actor=User("v", "viewer"))
    write.make(store, records, "day", DAY, "md", BASE, NAMES, actor=User("li", "officer"))
    [entry] = [e for e in records.list("audit") if e["event"] == "report"]
    assert (entry["user"], entry["detail"]) == (
        "li",
        {"period": "day", "day": "2026-03-10", "format": "md"},
    )


@pytest.mark.slow
def test_report_cli_writes_each_format(
    config_dir: Path, tmp_path: Path, segmenter, monkeypatch
) -> None:
    data = tmp_path / "data"
    config = load_config(config_dir, data_dir=data, environ=KEY_ENV)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    fill(store)
    store.close()
    monkeypatch.setenv("YUQING_DASHBOARD_URL", BASE)
    for fmt in ("docx", "html", "md"):
        out = tmp_path / f"out/brief.{fmt}"
        done = yuqing(
            config_dir,
            data,
            "report",
            "--period",
            "week",
            "--format",
            fmt,
            "--date",
            "2026-03-10",
            "--out",
            str(out),
        )
        assert done.returncode == 0, done.stderr
        assert "4 posts, 3 negative" in done.stdout and out.stat().st_size > 0
    assert f"{BASE}/search?since=2026-03-04&amp;until=2026-03-11" in (
        tmp_path / "out/brief.html"
    ).read_text(encoding="utf-8")
    bad = yuqing(config_dir, data, "report", "--date", "10/03/2026")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_briefings_page_offers_the_download_to_officers_only(app_dirs, segmenter) -> None:
    config = load_config(*app_dirs[:1], data_dir=app_dirs[1], environ=KEY_ENV)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    fill(store)
    store.close()
    at = test_dashboard.run_app("viewer")
    at.switch_page("views/briefings.py").run()
    assert not at.exception
    assert not at.get("download_button")
    assert "officers and admins" in at.info[0].value
    at = test_dashboard.run_app("officer")
    at.switch_page("views/briefings.py").run()
    at.segmented_control(key="brief_period").set_value("week").run()
    [button] = at.get("download_button")
    assert button.proto.label == "Download the week briefing (docx)"
