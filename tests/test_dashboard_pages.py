"""The workspace pages through AppTest, and the plain modules behind them: URL filters,
export, the post page's inert text, alerts, sources health, sensitive periods, the demo."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dashboard import alert_desk as alerts
from dashboard import audit, export, health, periods, trends
from dashboard.auth import PermissionDenied, User
from dashboard.data import search_posts
from dashboard.filters import Filters
from index.factory import sqlite_path
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from tests import test_dashboard
from tests.cli import yuqing
from tests.test_dashboard import DAY0, make_post, posts, run_app
from yuqing.schema import SHANGHAI, OfficialReply
from yuqing.settings import load_config

KEY_ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}  # no dev-key warning

OFFICER = User("li", "officer")
TODAY = datetime.now(SHANGHAI).date()


app_dirs = test_dashboard.app_dirs  # the fixture: configs and data in tmp_path


def sample_alert(alert_id: str, **extra) -> dict:
    """An alert as the alerts stage stores it (RecordStore kind "alert")."""
    doc = {
        "id": alert_id,
        "rule": "wages-spike",
        "detector": "spike",
        "status": "open",
        "severity": "critical",
        "title": "薪酬分配负面帖子激增：第三采油厂",
        "summary": "25 negative wages posts in 3 days, 4 expected.",
        "scope": {"theme": "wages", "unit": "第三采油厂", "source": None, "story_id": None},
        "observed": 25,
        "expected": 4.1,
        "p_value": 1e-9,
        "window_start": (TODAY - timedelta(days=3)).isoformat() + "T00:00:00+08:00",
        "window_end": TODAY.isoformat() + "T00:00:00+08:00",
        "fired_at": datetime.now(SHANGHAI).isoformat(),
        "post_ids": [],
        "top_words": ["工资", "拖欠"],
        "dashboard_url": "",
        "department": "hr",
        "sensitive_period": None,
        "acked_by": None,
        "acked_at": None,
        "history": [
            {
                "at": datetime.now(SHANGHAI).isoformat(),
                "event": "fired",
                "by": "alerts",
                "detail": "",
            }
        ],
    }
    return {**doc, **extra}


def open_parts(config_dir: Path, data_dir: Path, segmenter):
    config = load_config(config_dir, data_dir=data_dir, environ=KEY_ENV)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    records = SqliteRecords(sqlite_path(config.settings))
    records.setup()
    return config, store, records


@pytest.fixture
def store(tmp_path: Path, segmenter):
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    store.setup()
    found = posts(DAY0)
    found[0] = found[0].model_copy(update={"units": ["第三采油厂"], "story_id": "s1"})
    found[2] = found[2].model_copy(
        update={
            "units": ["第三采油厂"],
            "story_id": "s1",
            "reply": OfficialReply(
                text="已转人力资源部。", replied_at=datetime(2026, 3, 5, tzinfo=SHANGHAI)
            ),
        }
    )
    found[4] = found[4].model_copy(update={"deleted": True, "platform": "news"})
    store.upsert(found)
    yield store
    store.close()


# --- filters -----------------------------------------------------------------------------


def test_filters_round_trip_through_the_url() -> None:
    f = Filters(
        text="工资 拖欠",
        themes=("wages", "welfare"),
        sentiments=("negative",),
        units=("第三采油厂",),
        story_ids=("s1",),
        replied=False,
        deleted=True,
        since="2026-03-01",
        until="2026-03-08",
    )
    assert Filters.from_query_string(f.query_string()) == f
    assert f.url("http://dash:8501/").startswith("http://dash:8501/search?q=")
    link = "themes=wages&units=X&sentiments=negative&since=2026-03-01&bogus=1&replied=maybe"
    parsed = Filters.from_query_string(link)
    assert parsed == Filters(
        themes=("wages",), units=("X",), sentiments=("negative",), since="2026-03-01"
    )
    q = parsed.query(limit=5)
    assert q.since == datetime(2026, 3, 1, tzinfo=SHANGHAI) and q.limit == 5
    assert Filters.from_query_string("since=yesterday").since is None


def test_search_uses_every_filter(store) -> None:
    def titles(**kw) -> list[str]:
        return [r.title for r in search_posts(store, filters=Filters(**kw), page_size=20).rows]

    assert titles(units=("第三采油厂",)) == ["工资被扣，领导不作为", "车间工资拖了三个月"]
    assert titles(story_ids=("s1",), text="领导") == ["工资被扣，领导不作为"]
    assert titles(replied=True) == ["工资被扣，领导不作为"]
    assert titles(deleted=True) == ["厂区附近有异味"]
    assert titles(platforms=("news",)) == ["厂区附近有异味"]
    assert titles(sources=("board-b",), themes=("welfare",)) == ["公积金基数调整通知"]
    assert titles(since="2026-03-02", until="2026-03-03") == ["食堂饭菜", "工资被扣，领导不作为"]
    row = search_posts(store, filters=Filters(replied=True)).rows[0]
    assert (row.units, row.story_id, row.replied, row.deleted) == (
        ["第三采油厂"],
        "s1",
        True,
        False,
    )


# --- export ------------------------------------------------------------------------------


def test_export_csv_and_excel_are_audited(store, tmp_path: Path) -> None:
    records = SqliteRecords(tmp_path / "yuqing.sqlite3")
    records.setup()
    hostile = make_post(
        20, DAY0, '=HYPERLINK("http://x")', "工资 <script>alert(1)</script>", ["wages"], "negative"
    )
    store.upsert([hostile])
    f = Filters(text="工资")
    data = export.export(store, records, OFFICER, f, "csv", "http://dash", {"wages": "薪酬分配"})
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(export.COLUMNS)
    assert len(rows) == 1 + search_posts(store, "工资").total == 5
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[hostile.id][4] == '\'=HYPERLINK("http://x")'  # never a formula
    assert by_id[hostile.id][-1] == f"http://dash/post?post={hostile.id}"
    assert "薪酬分配" in by_id[hostile.id][7]
    book = load_workbook(
        io.BytesIO(export.export(store, records, OFFICER, f, "xlsx", "http://dash"))
    )
    sheet = list(book.active.values)
    assert sheet[0] == export.COLUMNS and len(sheet) == 5
    entries = audit.entries(records, event="export")
    assert [(e["user"], e["detail"]) for e in entries] == [
        ("li", {"query": "q=工资", "count": 4, "format": "xlsx"}),
        ("li", {"query": "q=工资", "count": 4, "format": "csv"}),
    ]
    with pytest.raises(PermissionDenied):
        export.export(store, records, User("v", "viewer"), f, "csv", "http://dash")


# --- pages -------------------------------------------------------------------------------


def test_an_alert_link_opens_the_matching_posts(app_dirs, segmenter) -> None:
    _config, store, _records = open_parts(*app_dirs, segmenter)
    day = TODAY - timedelta(days=2)
    unit = {"units": ["第三采油厂"]}
    store.upsert(
        [
            make_post(1, day, "帖子1", "工资拖欠", ["wages"], "negative").model_copy(update=unit),
            make_post(2, day, "帖子2", "工资拖欠", ["wages"], "negative").model_copy(update=unit),
            make_post(3, day, "别的单位", "工资拖欠", ["wages"], "negative"),
            make_post(4, day, "福利", "福利没发", ["welfare"], "negative").model_copy(update=unit),
            make_post(5, day, "好评", "工资发了", ["wages"], "positive").model_copy(update=unit),
            make_post(
                6, TODAY - timedelta(days=20), "旧帖", "工资", ["wages"], "negative"
            ).model_copy(update=unit),
        ]
    )
    store.close()
    at = run_app("viewer")
    at.switch_page("views/search.py")
    since = (TODAY - timedelta(days=3)).isoformat()
    at.query_params.update(themes="wages", units="第三采油厂", sentiments="negative", since=since)
    at.run()
    assert not at.exception
    assert at.multiselect(key="themes").value == ["wages"]
    assert at.multiselect(key="units").value == ["第三采油厂"]
    assert at.multiselect(key="sentiments").value == ["negative"]
    assert at.date_input(key="since").value == TODAY - timedelta(days=3)
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert sorted(titles) == ["**帖子1**", "**帖子2**"]
    assert not at.get("download_button")  # viewers do not export
    assert not [e for e in at.expander if e.label == "Correct the tags"]
    # Changing the themes writes their ids back into the URL.
    at.multiselect(key="themes").set_value(["wages", "welfare"]).run()
    assert at.query_params["themes"] == ["wages", "welfare"]
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert sorted(titles) == ["**帖子1**", "**帖子2**", "**福利**"]


def test_officers_get_export_buttons(app_dirs, segmenter) -> None:
    _config, store, _records = open_parts(*app_dirs, segmenter)
    store.upsert([make_post(1, TODAY, "工资", "工资拖欠", ["wages"], "negative")])
    store.close()
    at = run_app("officer")
    at.switch_page("views/search.py").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Export CSV", "Export Excel"]


def test_post_page_renders_html_and_script_as_inert_text(app_dirs, segmenter) -> None:
    _config, store, _records = open_parts(*app_dirs, segmenter)
    nasty = '<script>alert("x")</script> <img src=x onerror=alert(1)> **粗** [点](javascript:1)'
    post = make_post(1, TODAY, "<b>标题</b>", nasty, ["wages"], "negative")
    post = post.model_copy(
        update={
            "reply": OfficialReply(
                text="<script>reply()</script>", replied_at=datetime.now(SHANGHAI), by="人力资源部"
            ),
            "story_id": "s9",
        }
    )
    sibling = make_post(
        2, TODAY - timedelta(days=1), "同一件事 **<i>x</i>**", "工资", ["wages"], "negative"
    )
    store.upsert([post, sibling.model_copy(update={"story_id": "s9"})])
    store.close()
    at = run_app("officer")
    at.switch_page("views/post.py")
    at.query_params["post"] = post.id
    at.run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert nasty in texts and "<b>标题</b>" in texts and "<script>reply()</script>" in texts
    assert any(post.content_sha256 in t for t in texts)
    for element in [*at.markdown, *at.caption]:  # no markdown or HTML element carries it raw
        assert "<script>" not in element.value and "<b>" not in element.value
    assert not at.get("html")
    assert [c.value for c in at.code] == [post.url]
    labels = [link.proto.label for link in at.get("page_link")]
    assert any(label.endswith(r"同一件事 \*\*\<i\>x\<\/i\>\*\*") for label in labels), labels


def test_alerts_page_lists_and_acknowledges(app_dirs, segmenter) -> None:
    _config, store, records = open_parts(*app_dirs, segmenter)
    store.upsert([make_post(1, TODAY, "工资", "工资拖欠", ["wages"], "negative")])
    store.close()
    records.put("alert", "a1", sample_alert("a1"))
    records.put("alert", "a0", sample_alert("a0", status="resolved", title="old"))
    at = run_app("viewer")
    at.switch_page("views/alerts.py").run()
    assert not at.exception
    assert at.caption[0].value == "1 alerts"
    assert not [b for b in at.button if b.label == "Acknowledge"]  # viewers read only

    at = run_app("officer")
    at.switch_page("views/alerts.py").run()
    link = next(p for p in at.get("page_link") if p.proto.label == "Matching posts")
    assert Filters.from_query_string(link.proto.query_string) == alerts.search_filters(
        records.get("alert", "a1")
    )
    assert "themes=wages" in link.proto.query_string
    at.text_input(key="alert-comment-a1").set_value("HR informed")
    next(b for b in at.button if b.label == "Acknowledge").click().run()
    assert not at.exception
    alert = records.get("alert", "a1")
    assert (alert["status"], alert["acked_by"]) == ("acknowledged", "test-officer")
    assert (
        alert["history"][-1]["event"] == "acknowledged"
        and alert["history"][-1]["detail"] == "HR informed"
    )
    assert audit.entries(records, event="alert_acknowledged")[0]["user"] == "test-officer"
    with pytest.raises(ValueError, match="not open"):
        alerts.acknowledge(records, OFFICER, "a1")


def test_alert_search_filters_from_url_or_scope() -> None:
    alert = sample_alert("a1")
    f = alerts.search_filters(alert)
    assert (f.themes, f.units, f.since) == (
        ("wages",),
        ("第三采油厂",),
        (TODAY - timedelta(days=3)).isoformat(),
    )
    linked = sample_alert(
        "a2", dashboard_url="http://dash/search?themes=welfare&sentiments=negative"
    )
    assert alerts.search_filters(linked) == Filters(themes=("welfare",), sentiments=("negative",))


def test_sources_health_reads_crawl_runs_and_quarantine(app_dirs, segmenter) -> None:
    config, store, records = open_parts(*app_dirs, segmenter)
    store.upsert([make_post(1, TODAY, "工资", "工资拖欠", ["wages"], "negative")])
    store.close()
    source = config.sources[0].name
    for n, errors in ((1, 0), (2, 3)):
        records.put("crawl_run", f"r{n}", {
            "id": f"r{n}", "source": source, "started_at": f"2026-03-0{n}T10:00:00+08:00",
            "finished_at": f"2026-03-0{n}T10:05:00+08:00", "pages": 10, "posts": 9 + n,
            "new_posts": n, "updated_posts": 0, "quarantined": 1, "errors": errors, "status": "finished",
        })  # fmt: skip
    folder = config.data_dir / "quarantine"
    folder.mkdir(parents=True)
    item = {
        "error": "no text",
        "item": {"source": source, "url": "http://x/1", "title": "<b>t</b>"},
    }
    (folder / f"20260302T100000-{source}.jsonl").write_text(
        json.dumps(item) + "\n\n{broken\n", encoding="utf-8"
    )
    rows = {r.source: r for r in health.source_health(config, records)}
    mine = rows[source]
    assert (
        mine.runs,
        mine.last_posts,
        mine.last_new_posts,
        mine.last_errors,
        mine.total_errors,
    ) == (2, 11, 2, 3, 3)
    assert mine.quarantined == 2 and not mine.ok
    assert all(r.runs == 0 for name, r in rows.items() if name != source)
    items = health.quarantined_items(config.data_dir)
    assert [(i.error, i.url) for i in items] == [("no text", "http://x/1"), ("unreadable line", "")]
    at = run_app("viewer")
    at.switch_page("views/health.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Quarantined items"] == "2"


def test_sensitive_periods_come_from_the_alerts_calendar(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text(": not yaml [", encoding="utf-8")
    assert periods.load_periods(tmp_path, date(2026, 3, 1), date(2026, 4, 1)) == []  # no shading
    (tmp_path / "calendar.yaml").write_text(
        "spring_festival: {name: 春节, days_before: 2, days_after: 3}\n"
        "annual:\n  - {name: 两会, start: 03-03, end: 03-15}\n"
        "custom:\n  - {name: 巡视, start: 2026-01-05, end: 2026-01-07}\n",
        encoding="utf-8",
    )
    found = periods.load_periods(tmp_path, date(2026, 1, 1), date(2026, 3, 10))
    assert [(p.name, p.start, p.end) for p in found] == [
        ("巡视", date(2026, 1, 5), date(2026, 1, 7)),
        ("春节", date(2026, 2, 15), date(2026, 2, 20)),  # lunar new year 2026-02-17
        ("两会", date(2026, 3, 3), date(2026, 3, 9)),  # cut to the range
    ]


def test_overview_counts_alerts_cases_and_shades_periods(app_dirs, segmenter) -> None:
    config_dir, _data_dir = app_dirs
    _config, store, records = open_parts(*app_dirs, segmenter)
    store.upsert(
        [
            make_post(n, TODAY - timedelta(days=n), f"帖{n}", "工资", ["wages"], "negative")
            for n in range(3)
        ]
    )
    store.close()
    records.put("alert", "a1", sample_alert("a1"))
    records.put("case", "C1", {"id": "C1", "status": "in_progress", "due": "2020-01-01"})
    records.put("case", "C2", {"id": "C2", "status": "closed", "due": "2020-01-01"})
    (config_dir / "calendar.yaml").write_text(
        f"custom:\n  - {{name: 敏感期, start: {TODAY - timedelta(days=5)}, end: {TODAY}}}\n",
        encoding="utf-8",
    )
    at = run_app("viewer")
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    assert (metrics["Posts today"].value, metrics["Posts this week"].value) == ("1", "3")
    assert metrics["Active alerts"].value == "1"
    assert metrics["Open cases"].value == "1" and metrics["Open cases"].proto.delta == "1 overdue"
    assert any("敏感期" in c.value for c in at.caption)
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 4
    assert all('"sensitive period"' in c.proto.spec for c in charts[:3])  # shaded


def test_trends_by_unit_platform_and_previous_period(store) -> None:
    t = trends.build(
        store, DAY0 + timedelta(days=1), DAY0 + timedelta(days=3), {"wages": "薪酬分配"}
    )
    assert (t.base.total, t.previous_total, t.previous_negative) == (4, 2, 1)
    assert t.share_change == pytest.approx(2 / 4 - 1 / 2)
    assert t.unit_per_day.to_dict("records") == [
        {"day": "2026-03-02", "unit": "第三采油厂", "count": 1}
    ]
    assert sorted(t.platform_per_day["platform"].unique()) == ["forum", "news"]
    assert [(s.story_id, s.posts, s.title) for s in t.stories] == [
        ("s1", 1, "工资被扣，领导不作为")
    ]
    assert "工资" in [b.key for b in t.hot_words]


@pytest.mark.slow
def test_the_demo_spike_shows_on_the_overview(config_dir: Path, tmp_path: Path, segmenter) -> None:
    data = tmp_path / "data"
    done = yuqing(config_dir, data, "demo", "--no-dashboard", "--port", "0")
    assert done.returncode == 0, done.stderr
    config = load_config(config_dir, data_dir=data, environ=KEY_ENV)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    since, until = TODAY - timedelta(days=29), TODAY + timedelta(days=1)
    t = trends.build(store, since, until)
    store.close()
    wages = t.base.theme_per_day[t.base.theme_per_day["theme"] == "wages"].set_index("day")["count"]
    recent = [(TODAY - timedelta(days=d)).isoformat() for d in (1, 2, 3)]
    earlier = [(TODAY - timedelta(days=d)).isoformat() for d in range(4, 30)]
    per_day_recent = sum(wages.get(d, 0) for d in recent) / 3
    per_day_before = sum(wages.get(d, 0) for d in earlier) / len(earlier)
    assert per_day_recent > 5 * per_day_before  # the injected spike: 25 posts in 3 days
