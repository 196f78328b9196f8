"""The dashboard: its data functions on a real SQLite store, and the app through AppTest."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.app import parse_args
from dashboard.auth import User
from dashboard.context import USER_KEY
from dashboard.data import day_window, overview_frames, search_posts
from dashboard.plaintext import escape_markdown, http_url
from index.factory import sqlite_path
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from nlp.corrections import CorrectionLog
from yuqing.schema import SHANGHAI, Classification, Post, content_sha256, post_id
from yuqing.settings import load_config

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")
DAY0 = date(2026, 3, 1)
NAMES = {"wages": "薪酬分配", "welfare": "福利发放", "cadre_conduct": "干部作风"}


def make_post(
    n: int,
    day: date,
    title: str,
    text: str,
    themes: list[str] | None,
    sentiment: str | None,
    *,
    url: str | None = None,
) -> Post:
    url = url or f"http://127.0.0.1/forum/thread/{n}.html"
    classification = None
    if sentiment is not None:
        classification = Classification(themes=themes or [], sentiment=sentiment)
    return Post(
        id=post_id(f"http://127.0.0.1/forum/thread/{n}.html"),
        source="forum-a" if n % 2 else "board-b",
        platform="forum",
        url=url,
        title=title,
        text=text,
        published_at=datetime.combine(day, time(12, n)).replace(tzinfo=SHANGHAI),
        fetched_at=datetime(2026, 6, 1, tzinfo=SHANGHAI),
        content_sha256=content_sha256(text),
        classification=classification,
    )


def posts(day0: date) -> list[Post]:
    """Eight posts over days 0-4 of day0, plus one ten days later. 工资 is a word in 1, 3, 6."""
    d = [day0 + timedelta(days=i) for i in range(11)]
    return [
        make_post(
            1,
            d[0],
            "车间工资拖了三个月",
            "车间的工资一直没有着落，大家很着急。",
            ["wages"],
            "negative",
        ),
        make_post(
            2, d[0], "公积金基数调整通知", "今年住房公积金按新基数缴存。", ["welfare"], "neutral"
        ),
        make_post(
            3,
            d[1],
            "工资被扣，领导不作为",
            "反映问题没人管，工资还被扣了一半。",
            ["wages", "cadre_conduct"],
            "negative",
        ),
        make_post(4, d[1], "食堂饭菜", "食堂今天的菜还行。", ["other"], "neutral"),
        make_post(
            5,
            d[2],
            "厂区附近有异味",
            "晚上排放的废气味道很重。",
            ["safety_environment"],
            "negative",
        ),
        make_post(
            6, d[2], "困难帮扶送温暖", "工会给困难职工送来了慰问品。", ["hardship"], "positive"
        ),
        make_post(7, d[4], "奖金补发到位", "上月的工资和奖金已经补发。", ["wages"], "positive"),
        make_post(
            8, d[10], "买断工龄的老问题", "当年买断的职工至今没有说法。", ["legacy"], "negative"
        ),
    ]


@pytest.fixture
def store(tmp_path: Path, segmenter) -> SqliteStore:
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    store.setup()
    store.upsert(posts(DAY0))
    yield store
    store.close()


# --- dashboard.data ----------------------------------------------------------------------


def test_day_window_counts_today_and_ends_tomorrow() -> None:
    assert day_window(7, today=date(2026, 3, 10)) == (date(2026, 3, 4), date(2026, 3, 11))
    with pytest.raises(ValueError):
        day_window(0)


def test_overview_counts_posts_per_day_with_zero_days(store: SqliteStore) -> None:
    view = overview_frames(store, DAY0, DAY0 + timedelta(days=5), NAMES)
    assert view.total == 7  # post 8 is outside the range
    assert view.negative == 3
    assert view.negative_share == pytest.approx(3 / 7)
    assert view.per_day.to_dict("records") == [
        {"day": "2026-03-01", "count": 2},
        {"day": "2026-03-02", "count": 2},
        {"day": "2026-03-03", "count": 2},
        {"day": "2026-03-04", "count": 0},
        {"day": "2026-03-05", "count": 1},
    ]
    assert view.sentiment_per_day.to_dict("records") == [
        {"day": "2026-03-01", "sentiment": "negative", "count": 1},
        {"day": "2026-03-01", "sentiment": "neutral", "count": 1},
        {"day": "2026-03-02", "sentiment": "negative", "count": 1},
        {"day": "2026-03-02", "sentiment": "neutral", "count": 1},
        {"day": "2026-03-03", "sentiment": "negative", "count": 1},
        {"day": "2026-03-03", "sentiment": "positive", "count": 1},
        {"day": "2026-03-05", "sentiment": "positive", "count": 1},
    ]


def test_overview_negative_share_per_day_skips_days_without_posts(store: SqliteStore) -> None:
    view = overview_frames(store, DAY0, DAY0 + timedelta(days=5))
    assert view.negative_share_per_day.to_dict("records") == [
        {"day": "2026-03-01", "negative": 1, "total": 2, "share": 0.5},
        {"day": "2026-03-02", "negative": 1, "total": 2, "share": 0.5},
        {"day": "2026-03-03", "negative": 1, "total": 2, "share": 0.5},
        {"day": "2026-03-05", "negative": 0, "total": 1, "share": 0.0},
    ]


def test_overview_theme_mix_counts_each_theme_of_a_post(store: SqliteStore) -> None:
    view = overview_frames(store, DAY0, DAY0 + timedelta(days=5), NAMES)
    assert view.theme_mix.to_dict("records") == [
        {"theme": "wages", "name": "薪酬分配", "count": 3},
        {"theme": "cadre_conduct", "name": "干部作风", "count": 1},
        {"theme": "hardship", "name": "hardship", "count": 1},  # no name given: the id
        {"theme": "other", "name": "other", "count": 1},
        {"theme": "safety_environment", "name": "safety_environment", "count": 1},
        {"theme": "welfare", "name": "福利发放", "count": 1},
    ]
    assert view.top_theme() == "薪酬分配"
    assert view.top_theme(skip="wages") == "干部作风"


def test_overview_of_an_empty_range(store: SqliteStore) -> None:
    view = overview_frames(store, date(2025, 1, 1), date(2025, 1, 8))
    assert (view.total, view.negative, view.negative_share) == (0, 0, None)
    assert view.per_day["count"].tolist() == [0] * 7
    assert view.negative_share_per_day.empty and view.theme_mix.empty
    assert view.top_theme() is None


def test_search_posts_by_word_and_filters(store: SqliteStore) -> None:
    found = search_posts(store, "工资", theme_names=NAMES)
    assert found.total == 3
    assert [r.title for r in found.rows] == [
        "奖金补发到位",
        "工资被扣，领导不作为",
        "车间工资拖了三个月",
    ]
    assert found.rows[1].theme_names == ["薪酬分配", "干部作风"]
    assert found.rows[1].day == "2026-03-02"
    assert "【工资】" in found.rows[1].snippet
    assert search_posts(store, "工资", sentiments=["negative"]).total == 2
    assert search_posts(store, "工资", themes=["cadre_conduct"]).total == 1
    assert search_posts(store, "", themes=["wages", "welfare"]).total == 4
    assert search_posts(store, "", sentiments=["negative", "positive"]).total == 6
    assert search_posts(store, "不存在的词").total == 0


def test_search_posts_pages_and_clamps(store: SqliteStore) -> None:
    first = search_posts(store, page=1, page_size=3)
    assert (first.total, first.page, first.page_count) == (8, 1, 3)
    assert [r.title for r in first.rows] == ["买断工龄的老问题", "奖金补发到位", "困难帮扶送温暖"]
    assert search_posts(store, page=2, page_size=3).rows[1].snippet == "食堂今天的菜还行。"
    last = search_posts(store, page=9, page_size=3)
    assert (last.page, [r.title for r in last.rows]) == (
        3,
        ["公积金基数调整通知", "车间工资拖了三个月"],
    )
    assert search_posts(store, "不存在的词", page=4).page == 1


# --- plain text --------------------------------------------------------------------------


def test_escape_markdown_leaves_no_markup() -> None:
    nasty = "[点我](javascript:alert(1)) <b>x</b> **粗** :red[红] $x$ `c`\n# 标题 &amp;"
    escaped = escape_markdown(nasty)
    for char in "[]()<>*:$`#&":
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == char)
    assert "\n" not in escaped
    assert escaped.replace("\\", "") == nasty.replace("\n", " ")


def test_http_url_only_allows_http() -> None:
    assert http_url("https://bbs.example.cn/t/1") == "https://bbs.example.cn/t/1"
    assert http_url("javascript:alert(1)") is None
    assert http_url("") is None


def test_parse_args_prefers_arguments_then_environment() -> None:
    env = {"YUQING_CONFIG_DIR": "/env/configs", "YUQING_DATA_DIR": "/env/data"}
    args = parse_args(["--config-dir", "/cli/configs"], env)
    assert (args.config_dir, args.data_dir) == ("/cli/configs", "/env/data")
    args = parse_args(["-q", "tests/x.py", "--co"], {})
    assert (args.config_dir, args.data_dir) == ("configs", None)


# --- the app -----------------------------------------------------------------------------


@pytest.fixture
def app_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A copy of configs/ and an empty data folder, passed to the app by environment."""
    config_dir = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", config_dir)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("YUQING_DATA_DIR", str(data_dir))
    monkeypatch.setenv("YUQING_PSEUDONYM_KEY", "test-key-not-secret")
    st.cache_data.clear()
    st.cache_resource.clear()
    return config_dir, data_dir


def fill_store(config_dir: Path, data_dir: Path, segmenter) -> None:
    """The eight posts of the last days, plus one with a hostile title and link."""
    config = load_config(config_dir, data_dir=data_dir)
    today = datetime.now(SHANGHAI).date()
    hostile = make_post(
        9,
        today - timedelta(days=1),
        "[点我](javascript:alert(1)) <b>工资</b> **粗体** :red[红]",
        "工资问题。",
        ["other"],
        "neutral",
        url="javascript:alert(1)",
    )
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    store.upsert([*posts(today - timedelta(days=15)), hostile])
    store.close()


def run_app(role: str = "officer") -> AppTest:
    """The app, logged in as a user with `role` (the login form is tested in test_auth.py)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[USER_KEY] = User(f"test-{role}", role)
    at.run()
    assert not at.exception, at.exception
    return at


def test_app_overview_and_search(app_dirs, segmenter) -> None:
    fill_store(*app_dirs, segmenter)
    at = run_app()
    assert at.title[0].value == "Overview"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Posts"] == "9"  # all nine are within the default 60 days
    assert metrics["Negative posts"] == "4"
    assert metrics["Negative share"] == "44.4%"
    assert metrics["Top grievance theme"] == "薪酬分配"

    at.radio(key="range_days").set_value(7).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Posts"] == "2"  # post 8 and the hostile one

    at.switch_page("views/search.py").run()
    assert not at.exception
    assert at.title[0].value == "Search"
    at.text_input(key="q").set_value("工资").run()
    assert not at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles == [
        r"**\[点我\]\(javascript\:alert\(1\)\) \<b\>工资\<\/b\> \*\*粗体\*\* \:red\[红\]**",
        "**奖金补发到位**",
        "**工资被扣，领导不作为**",
        "**车间工资拖了三个月**",
    ]
    assert len(at.link_button) == 3  # no button for the javascript: URL
    assert all(b.proto.url.startswith("http://127.0.0.1/") for b in at.link_button)

    at.multiselect(key="sentiments").set_value(["negative"]).run()
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles == ["**工资被扣，领导不作为**", "**车间工资拖了三个月**"]

    at.switch_page("views/overview.py").run()  # back to the overview, range kept
    assert at.radio(key="range_days").value == 7


def test_app_search_pages(app_dirs, segmenter) -> None:
    config_dir, data_dir = app_dirs
    config = load_config(config_dir, data_dir=data_dir)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    today = datetime.now(SHANGHAI).date()
    store.upsert(
        make_post(n, today - timedelta(days=n), f"帖子{n:02d}", "工资", ["wages"], "neutral")
        for n in range(1, 24)
    )
    store.close()
    at = run_app()
    at.switch_page("views/search.py").run()
    assert "23 posts" in at.markdown[0].value
    at.number_input(key="page").set_value(3).run()
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles == ["**帖子21**", "**帖子22**", "**帖子23**"]
    at.text_input(key="q").set_value("工资").run()  # a new search starts at page 1
    assert at.number_input(key="page").value == 1


def test_app_says_what_to_do_when_the_store_is_empty(app_dirs) -> None:
    at = run_app()
    assert len(at.info) == 1
    assert "yuqing demo" in at.info[0].value and "yuqing crawl" in at.info[0].value
    assert not at.metric


def test_app_says_when_elasticsearch_is_down(app_dirs) -> None:
    config_dir, _ = app_dirs
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("backend: sqlite", "backend: elasticsearch")
    text = text.replace("http://127.0.0.1:9200", "http://127.0.0.1:9").replace(
        "request_timeout: 30", "request_timeout: 2"
    )
    settings.write_text(text, encoding="utf-8")
    at = run_app()
    assert "Cannot reach Elasticsearch at http://127.0.0.1:9" in at.info[0].value


def test_app_shows_a_broken_config_in_words(app_dirs) -> None:
    config_dir, _ = app_dirs
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace("backend: sqlite", "backend: mongodb")
    settings.write_text(text, encoding="utf-8")
    at = run_app()
    assert len(at.error) == 1
    assert "settings.yaml" in at.error[0].value
    assert "store.backend" in at.error[0].value
    assert not at.info and not at.metric


def test_app_shows_cues_and_records_corrections(app_dirs, segmenter) -> None:
    config_dir, data_dir = app_dirs
    config = load_config(config_dir, data_dir=data_dir)
    today = datetime.now(SHANGHAI).date()
    post = make_post(1, today, "工资又拖了", "车间工资拖了三个月。", ["wages"], "negative")
    post = post.model_copy(
        update={
            "classification": post.classification.model_copy(
                update={"cues": {"wages": ["工资"], "sentiment": ["拖(-1.0)"]}}
            )
        }
    )
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    store.upsert([post])
    store.close()

    at = run_app()
    at.switch_page("views/search.py").run()
    captions = [c.value for c in at.caption]
    assert r"薪酬分配\: 工资" in captions
    assert r"情感 sentiment\: 拖\(\-1\.0\)" in captions

    at.multiselect(key=f"fix-themes-{post.id}").set_value(["wages", "cadre_conduct"])
    at.radio(key=f"fix-sentiment-{post.id}").set_value("neutral")
    next(b for b in at.button if b.label == "Save correction").click().run()
    assert not at.exception
    assert at.success[0].value == "Saved. It will train the next model."

    [entry] = SqliteRecords(sqlite_path(config.settings)).list("audit")
    assert (entry["event"], entry["user"], entry["detail"]["post"]) == (
        "label_correction",
        "test-officer",
        post.id,
    )
    [example] = CorrectionLog.in_data_dir(data_dir).latest()
    assert (example.id, example.themes, example.sentiment) == (
        post.id,
        ("wages", "cadre_conduct"),
        "neutral",
    )
    assert example.text == post.text and example.title == post.title
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    labels = store.get(post.id).annotations.labels
    store.close()
    assert (labels.themes, labels.sentiment, labels.classifier) == (
        ["wages", "cadre_conduct"],
        "neutral",
        "officer",
    )
