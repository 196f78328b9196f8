"""One contract, two stores: SQLite and a real Elasticsearch node must give the same answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from index.base import DayCount, SearchQuery
from index.es_store import ElasticsearchStore
from index.sqlite_store import SqliteStore
from yuqing.schema import SHANGHAI, Classification, OfficialReply, Post, content_sha256, post_id

BASE = datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)


def make_post(
    n: int,
    title: str,
    text: str,
    themes: list[str],
    sentiment: str,
    *,
    day: int,
    source: str = "forum-a",
    hour: int = 9,
) -> Post:
    url = f"http://127.0.0.1/forum/thread/{n}.html"
    return Post(
        id=post_id(url),
        source=source,
        platform="forum",
        url=url,
        title=title,
        text=text,
        author="anon-0000",
        published_at=BASE + timedelta(days=day, hours=hour - 9),
        fetched_at=BASE + timedelta(days=70),
        content_sha256=content_sha256(text),
        classification=Classification(
            themes=themes,
            sentiment=sentiment,
            sentiment_score=-0.5 if sentiment == "negative" else 0.5,
            cues={},
        ),
    )


POSTS = [
    make_post(
        1,
        "三个月没发工资",
        "第三采油厂拖欠工资三个月，工资条都看不到。",
        ["wages"],
        "negative",
        day=0,
    ),
    make_post(
        2,
        "物资工作会议",
        "集团召开物资工作会议，部署下一阶段任务。",
        ["other"],
        "neutral",
        day=0,
        hour=15,
    ),
    make_post(
        3,
        "补发了",
        "拖欠的工资已经补发了，感谢厂领导。",
        ["wages"],
        "positive",
        day=1,
        source="forum-b",
    ),
    make_post(
        4,
        "取暖费",
        "今年的取暖费到现在还没有发，工资也降了。",
        ["welfare", "wages"],
        "negative",
        day=1,
        hour=12,
    ),
    make_post(
        5,
        "子女接班",
        "子女接班的政策什么时候落实？",
        ["children_employment"],
        "neutral",
        day=2,
        source="forum-b",
    ),
    make_post(
        6,
        "井场漏油",
        "井场附近漏油，村民很担心安全隐患。",
        ["safety_environment"],
        "negative",
        day=2,
        hour=23,
    ),
]
# Post 6 is at 23:00 Shanghai time: day 2 there, though day 2 15:00 UTC. Counting must use Shanghai days.


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request, tmp_path, segmenter):
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "store.sqlite3", segmenter)
    else:
        es_client = request.getfixturevalue("es_client")
        s = ElasticsearchStore(
            es_client, request.getfixturevalue("es_index"), segmenter, refresh=True
        )
    s.setup()
    s.setup()  # safe to run twice
    yield s
    if request.param == "sqlite":
        s.close()


@pytest.fixture
def loaded(store):
    result = store.upsert(POSTS)
    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    return store


def titles(result) -> list[str]:
    return [h.post.title for h in result.hits]


def test_upsert_is_idempotent(loaded):
    again = loaded.upsert(POSTS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert loaded.count() == 6


def test_upsert_updates_in_place(loaded):
    changed = POSTS[1].model_copy(
        update={
            "text": "会议改期。",
            "reply": OfficialReply(text="已答复", by="办公室", replied_at=BASE),
        }
    )
    result = loaded.upsert([changed])
    assert (result.created, result.updated) == (0, 1)
    assert loaded.count() == 6
    stored = loaded.get(changed.id)
    assert stored.text == "会议改期。"
    assert stored.reply.by == "办公室"
    assert stored.reply.replied_at == BASE
    assert loaded.search(SearchQuery("部署")).total == 0
    assert loaded.search(SearchQuery("改期")).total == 1


def test_get_round_trips_the_post(loaded):
    assert loaded.get(POSTS[3].id) == POSTS[3]
    assert loaded.get("no-such-id") is None


def test_search_matches_whole_words(loaded):
    result = loaded.search(SearchQuery("工资"))
    # Newest first; 物资工作 contains 资工 but not the word 工资.
    assert titles(result) == ["取暖费", "补发了", "三个月没发工资"]
    assert result.total == 3
    assert "【工资】" in result.hits[0].snippet


def test_search_all_words_and_phrases(loaded):
    assert titles(loaded.search(SearchQuery("工资 取暖费"))) == ["取暖费"]
    assert titles(loaded.search(SearchQuery('"拖欠 的 工资"'))) == ["补发了"]
    assert titles(loaded.search(SearchQuery("拖欠工资"))) == ["三个月没发工资"]
    assert loaded.search(SearchQuery("资工")).total == 0


def test_search_filters(loaded):
    assert titles(loaded.search(SearchQuery(themes=("wages",), sentiments=("negative",)))) == [
        "取暖费",
        "三个月没发工资",
    ]
    assert titles(loaded.search(SearchQuery(sources=("forum-b",)))) == ["子女接班", "补发了"]
    since, until = BASE + timedelta(days=1), BASE + timedelta(days=2)
    assert titles(loaded.search(SearchQuery(since=since, until=until))) == ["取暖费", "补发了"]
    assert loaded.search(SearchQuery(themes=("hardship",))).total == 0


def test_search_pages(loaded):
    first = loaded.search(SearchQuery(limit=4))
    second = loaded.search(SearchQuery(limit=4, offset=4))
    assert first.total == second.total == 6
    assert titles(first) == ["井场漏油", "子女接班", "取暖费", "补发了"]
    assert titles(second) == ["物资工作会议", "三个月没发工资"]


def test_counts_by_day_theme_and_sentiment(loaded):
    assert loaded.counts_by_day() == [
        DayCount("2026-10-01", "other", "neutral", 1),
        DayCount("2026-10-01", "wages", "negative", 1),
        DayCount("2026-10-02", "wages", "negative", 1),
        DayCount("2026-10-02", "wages", "positive", 1),
        DayCount("2026-10-02", "welfare", "negative", 1),
        DayCount("2026-10-03", "children_employment", "neutral", 1),
        DayCount("2026-10-03", "safety_environment", "negative", 1),
    ]


def test_counts_by_day_sentiment_only_and_filtered(loaded):
    assert loaded.counts_by_day(by_theme=False) == [
        DayCount("2026-10-01", None, "negative", 1),
        DayCount("2026-10-01", None, "neutral", 1),
        DayCount("2026-10-02", None, "negative", 1),
        DayCount("2026-10-02", None, "positive", 1),
        DayCount("2026-10-03", None, "negative", 1),
        DayCount("2026-10-03", None, "neutral", 1),
    ]
    assert loaded.counts_by_day(SearchQuery("工资", themes=("wages",))) == [
        DayCount("2026-10-01", "wages", "negative", 1),
        DayCount("2026-10-02", "wages", "negative", 1),
        DayCount("2026-10-02", "wages", "positive", 1),
    ]


def test_a_word_inside_a_dictionary_compound_is_found(store):
    # 拖欠工资 is one word in the taxonomy's jieba dictionary; 工资 must still find it.
    post = make_post(7, "讨薪", "拖欠工资半年了", ["wages"], "negative", day=3)
    store.upsert([post])
    assert titles(store.search(SearchQuery("工资"))) == ["讨薪"]
    assert titles(store.search(SearchQuery("拖欠工资"))) == ["讨薪"]


def test_old_sqlite_file_gets_its_word_index_rebuilt(tmp_path, segmenter):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    store = SqliteStore(path, segmenter)
    store.setup()
    store.upsert(POSTS)
    store.close()
    db = sqlite3.connect(path)  # make it look like a version-1 file
    db.executescript(
        "DROP TABLE posts_fts; CREATE VIRTUAL TABLE posts_fts USING fts5 (seg); PRAGMA user_version = 0;"
    )
    db.close()
    store = SqliteStore(path, segmenter)
    store.setup()
    assert titles(store.search(SearchQuery("工资"))) == ["取暖费", "补发了", "三个月没发工资"]
    store.close()
