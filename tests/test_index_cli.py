"""`yuqing index purge|migrate|top` and `yuqing search`'s filters and paging, run as a user
runs them, on an embedded store filled through `SqliteStore`."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from index.factory import SQLITE_FILE
from index.sqlite_store import SqliteStore
from tests.cli import yuqing
from yuqing.schema import SHANGHAI, Classification, OfficialReply, Post, content_sha256, post_id
from yuqing.services import segmenter_for
from yuqing.settings import load_config

pytestmark = pytest.mark.slow

ENV = {"YUQING_PSEUDONYM_KEY": "k"}
NOW = datetime.now(SHANGHAI).replace(microsecond=0)
OIL, DRILL = "第三采油厂", "钻井二公司"


def make_post(n: int, title: str, text: str, themes: list[str], sentiment: str, **fields) -> Post:
    url = f"http://127.0.0.1/board/{n}.html"
    age = fields.pop("age")
    return Post(
        id=post_id(url),
        source="forum-a",
        platform="forum",
        url=url,
        title=title,
        text=text,
        published_at=NOW - timedelta(days=age),
        fetched_at=NOW,
        content_sha256=content_sha256(text),
        classification=Classification(themes=themes, sentiment=sentiment),
        **fields,
    )


REPLY = OfficialReply(text="已转相关单位核实处理。", by="集团办公室")
POSTS = [  # newest first
    make_post(
        1, "钻井二公司工资", "钻井二公司的工资到底什么时候发？", ["wages"], "negative",
        age=1, units=[DRILL],
    ),
    make_post(
        2, "取暖补贴", "第三采油厂取暖费补贴什么时候发放？", ["welfare"], "neutral",
        age=5, units=[OIL], reply=REPLY,
    ),
    make_post(
        3, "领导推诿", "钻井二公司拖欠工资两个月，找领导反映，领导推诿不管。",
        ["wages", "cadre_conduct"], "negative", age=10, units=[DRILL], story_id="story-1",
    ),
    make_post(
        4, "帖子被删", "钻井二公司拖欠工资的帖子被删了，工资还是没发。", ["wages"], "negative",
        age=40, units=[DRILL], story_id="story-1", deleted=True,
    ),
    make_post(
        5, "三个月没发工资", "第三采油厂拖欠工资三个月，工资条都看不到。", ["wages"], "negative",
        age=100, units=[OIL],
    ),
]  # fmt: skip
TITLES = [p.title for p in POSTS]


@pytest.fixture
def data_dir(config_dir: Path, tmp_path: Path) -> Path:
    """A data folder whose embedded store holds POSTS, indexed as the CLI indexes them."""
    data = tmp_path / "data"
    store = SqliteStore(data / SQLITE_FILE, segmenter_for(load_config(config_dir, environ=ENV)))
    store.setup()
    store.upsert(POSTS)
    store.close()
    return data


def stored(config_dir: Path, data_dir: Path) -> int:
    store = SqliteStore(data_dir / SQLITE_FILE, segmenter_for(load_config(config_dir, environ=ENV)))
    try:
        return store.count()
    finally:
        store.close()


def set_retention(config_dir: Path, value: str) -> None:
    path = config_dir / "settings.yaml"
    text = path.read_text(encoding="utf-8")
    assert "retention_days: null" in text
    path.write_text(text.replace("retention_days: null", f"retention_days: {value}"), "utf-8")


def test_purge_says_how_many_then_deletes_with_yes(config_dir, data_dir):
    dry = yuqing(config_dir, data_dir, "index", "purge", "--older-than", "30")
    assert dry.returncode == 0, dry.stderr
    assert re.fullmatch(
        r"2 post\(s\) dated before \d{4}-\d\d-\d\d \d\d:\d\d \(older than 30 days\) would be "
        r"deleted from the sqlite store\. Run again with --yes to delete them\.\n",
        dry.stdout,
    )
    assert stored(config_dir, data_dir) == 5

    done = yuqing(config_dir, data_dir, "index", "purge", "--older-than", "30", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Deleted 2 post(s) dated before ")
    assert "(older than 30 days) from the sqlite store." in done.stdout
    assert stored(config_dir, data_dir) == 3
    found = yuqing(config_dir, data_dir, "search", "--json")
    assert [h["title"] for h in json.loads(found.stdout)["hits"]] == TITLES[:3]

    again = yuqing(config_dir, data_dir, "index", "purge", "--older-than", "30", "--yes")
    assert again.stdout.startswith("Deleted 0 post(s)")


def test_purge_uses_the_retention_setting(config_dir, data_dir):
    set_retention(config_dir, "7")
    dry = yuqing(config_dir, data_dir, "index", "purge")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("3 post(s) dated before ")
    assert "(older than 7 days)" in dry.stdout
    # --older-than wins over the setting.
    assert yuqing(config_dir, data_dir, "index", "purge", "--older-than", "60").stdout.startswith(
        "1 post(s)"
    )


def test_purge_without_days_or_setting_says_what_to_do(config_dir, data_dir):
    proc = yuqing(config_dir, data_dir, "index", "purge", "--yes")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "no retention period. Fix: pass --older-than DAYS, or set store.retention_days" in (
        proc.stderr
    )
    assert stored(config_dir, data_dir) == 5
    zero = yuqing(config_dir, data_dir, "index", "purge", "--older-than", "0")
    assert zero.returncode == 2 and "Invalid value for '--older-than'" in zero.stderr


def test_retention_must_be_a_positive_number_of_days(config_dir, data_dir):
    set_retention(config_dir, "0")
    proc = yuqing(config_dir, data_dir, "index", "purge")
    assert proc.returncode == 2
    assert "key `store.retention_days`" in proc.stderr and "Traceback" not in proc.stderr


def test_migrate_reports_and_keeps_every_post(config_dir, data_dir):
    proc = yuqing(config_dir, data_dir, "index", "migrate", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict) and report
    text = yuqing(config_dir, data_dir, "index", "migrate")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Migrated the sqlite store:\n  ")
    assert stored(config_dir, data_dir) == 5
    found = yuqing(config_dir, data_dir, "search", "工资", "--json")
    assert [h["title"] for h in json.loads(found.stdout)["hits"]] == [
        "钻井二公司工资",
        "领导推诿",
        "帖子被删",
        "三个月没发工资",
    ]


def test_top_words_and_units(config_dir, data_dir):
    words = yuqing(config_dir, data_dir, "index", "top", "words", "--size", "3", "--json")
    assert words.returncode == 0, words.stderr
    assert json.loads(words.stdout) == {
        "field": "words",
        "buckets": [
            {"key": "公司", "count": 3},
            {"key": "拖欠工资", "count": 3},
            {"key": "钻井", "count": 3},
        ],
    }
    units = yuqing(config_dir, data_dir, "index", "top", "units")
    assert units.returncode == 0, units.stderr
    assert units.stdout == f"3  {DRILL}\n2  {OIL}\n"
    negative = yuqing(config_dir, data_dir, "index", "top", "units", "--sentiment", "negative")
    assert negative.stdout == f"3  {DRILL}\n1  {OIL}\n"
    recent = yuqing(config_dir, data_dir, "index", "top", "story_id", "--since", day(20))
    assert recent.stdout == "1  story-1\n"
    none = yuqing(config_dir, data_dir, "index", "top", "units", "--theme", "hardship")
    assert none.returncode == 0 and none.stdout == "No units: no matching post has one.\n"
    bad = yuqing(config_dir, data_dir, "index", "top", "colour")
    assert bad.returncode == 2 and "'colour' is not one of 'units'" in bad.stderr


def day(age: int) -> str:
    return (NOW - timedelta(days=age)).date().isoformat()


def test_search_pages_through_after(config_dir, data_dir):
    seen, after = [], []
    for _ in range(5):
        page = yuqing(config_dir, data_dir, "search", "--limit", "2", *after)
        assert page.returncode == 0, page.stderr
        assert page.stdout.startswith("5 post(s)\n")
        seen += re.findall(r"^\d{4}-\d\d-\d\d \[.*?\] (\S+)", page.stdout, re.M)
        cursor = re.search(r"^Next page: --after (\d+:[0-9a-f]+)$", page.stdout, re.M)
        if cursor is None:
            break
        after = ["--after", cursor.group(1)]
    assert seen == TITLES

    first = json.loads(yuqing(config_dir, data_dir, "search", "--limit", "3", "--json").stdout)
    assert [h["title"] for h in first["hits"]] == TITLES[:3]
    rest = yuqing(
        config_dir, data_dir, "search", "--limit", "3", "--json", "--after", first["next_after"]
    )
    rest = json.loads(rest.stdout)
    assert [h["title"] for h in rest["hits"]] == TITLES[3:]
    assert rest["next_after"] is None and rest["total"] == 5

    bad = yuqing(config_dir, data_dir, "search", "--after", "yesterday")
    assert bad.returncode == 2 and "bad cursor 'yesterday'" in bad.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--oldest"], TITLES[::-1]),
        (["--oldest", "--limit", "2"], TITLES[:2:-1]),
        (["--unit", OIL], ["取暖补贴", "三个月没发工资"]),
        (["--unit", OIL, "--unit", DRILL, "--since", day(20)], TITLES[:3]),
        (["--story", "story-1"], ["领导推诿", "帖子被删"]),
        (["--replied"], ["取暖补贴"]),
        (
            ["--unreplied", "--live", "--sentiment", "negative"],
            ["钻井二公司工资", "领导推诿", "三个月没发工资"],
        ),
        (["--deleted"], ["帖子被删"]),
        (["工资", "--live", "--unit", DRILL], ["钻井二公司工资", "领导推诿"]),
        (["--platform", "message_board"], []),
    ],
)
def test_search_filters(config_dir, data_dir, args, expected):
    proc = yuqing(config_dir, data_dir, "search", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    assert [h["title"] for h in json.loads(proc.stdout)["hits"]] == expected
