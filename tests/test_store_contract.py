"""One contract, two stores: SQLite and a real Elasticsearch node must give the same answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from index.base import Bucket, DayCount, SearchQuery, SearchResult
from index.es_store import ElasticsearchStore
from index.sqlite_store import SqliteStore
from yuqing.schema import (
    SHANGHAI,
    Annotations,
    Classification,
    OfficialReply,
    Post,
    content_sha256,
    post_id,
)

BASE = datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)
OIL = "第三采油厂"
DRILL = "钻井二公司"


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
    platform: str = "forum",
    units: tuple[str, ...] = (),
    story_id: str | None = None,
    deleted: bool = False,
    reply: OfficialReply | None = None,
) -> Post:
    url = f"http://127.0.0.1/forum/thread/{n}.html"
    return Post(
        id=post_id(url),
        source=source,
        platform=platform,
        url=url,
        title=title,
        text=text,
        author="anon-0000",
        published_at=BASE + timedelta(days=day, hours=hour - 9),
        fetched_at=BASE + timedelta(days=70),
        reply=reply,
        content_sha256=content_sha256(text),
        units=list(units),
        story_id=story_id,
        deleted=deleted,
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
        units=(OIL,),
        story_id="story-oil-wages",
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
        units=(OIL,),
        story_id="story-oil-wages",  # the same grievance as post 1, on another source
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
        units=(OIL,),
    ),
]
# Post 6 is at 23:00 Shanghai time: day 2 there, though day 2 15:00 UTC. Counting must use Shanghai days.

# Units, stories, a deleted post and official replies. Two posts share a date to the second,
# so the order falls back on the id; and one story runs across three sources.
MORE = [
    make_post(
        11,
        "领导推诿",
        "钻井二公司拖欠工资两个月，找领导反映，领导推诿不管。",
        ["wages", "cadre_conduct"],
        "negative",
        day=3,
        hour=10,
        source="leader-board",
        platform="message_board",
        units=(DRILL,),
        story_id="story-drill-wages",
        reply=OfficialReply(
            text="已转钻井二公司核实，工资本月底前发放。", by="集团办公室", replied_at=BASE
        ),
    ),
    make_post(
        12,
        "钻井二公司工资",
        "钻井二公司的工资到底什么时候发？",
        ["wages"],
        "negative",
        day=4,
        units=(DRILL,),
        story_id="story-drill-wages",
    ),
    make_post(
        13,
        "取暖补贴",
        "第三采油厂取暖费补贴什么时候发放？",
        ["welfare"],
        "neutral",
        day=4,
        source="leader-board",
        platform="message_board",
        units=(OIL,),
        reply=OfficialReply(text="取暖费补贴将于十一月发放。", by="第三采油厂工会"),
    ),
    make_post(
        14,
        "帖子被删",
        "钻井二公司拖欠工资的帖子被删了，工资还是没发。",
        ["wages"],
        "negative",
        day=4,
        hour=15,
        source="forum-b",
        units=(DRILL,),
        story_id="story-drill-wages",
        deleted=True,
    ),
]
ALL = POSTS + MORE
BY_TITLE = {p.title: p for p in ALL}
# Every post, newest first. 钻井二公司工资 and 取暖补贴 share a date; the larger id comes first.
NEWEST = [
    "帖子被删",
    *sorted(["钻井二公司工资", "取暖补贴"], key=lambda t: BY_TITLE[t].id, reverse=True),
    "领导推诿",
    "井场漏油",
    "子女接班",
    "取暖费",
    "补发了",
    "物资工作会议",
    "三个月没发工资",
]


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request, tmp_path, segmenter):
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "store.sqlite3", segmenter)
    else:
        es_client = request.getfixturevalue("es_client")
        name = request.getfixturevalue("es_index")
        s = ElasticsearchStore(es_client, name, segmenter, refresh=True)
    s.setup()
    s.setup()  # safe to run twice
    yield s
    if request.param == "sqlite":
        s.close()
    else:  # the versioned indices behind the test's alias, deleted by their concrete names
        left = es_client.indices.get(index=f"{name}*", expand_wildcards="all")
        if left:
            es_client.indices.delete(index=",".join(left))


@pytest.fixture
def loaded(store):
    result = store.upsert(POSTS)
    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    return store


@pytest.fixture
def full(store):
    result = store.upsert(ALL)
    assert (result.created, result.updated, result.unchanged) == (10, 0, 0)
    return store


def titles(result) -> list[str]:
    return [h.post.title for h in result.hits]


def buckets(*pairs: tuple[str, int]) -> list[Bucket]:
    return [Bucket(key, count) for key, count in pairs]


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
    assert titles(loaded.search(SearchQuery(replied=True))) == ["物资工作会议"]


def test_get_round_trips_the_post(full):
    for post in ALL:
        assert full.get(post.id) == post
    assert full.get(POSTS[3].id) == POSTS[3]
    assert full.get("no-such-id") is None


def test_search_matches_whole_words(loaded):
    result = loaded.search(SearchQuery("工资"))
    # Newest first; 物资工作 contains 资工 but not the word 工资.
    assert titles(result) == ["取暖费", "补发了", "三个月没发工资"]
    assert result.total == 3
    assert "【工资】" in result.hits[0].snippet


def test_snippets_mark_the_words_in_the_original_text(full):
    hit = full.search(SearchQuery("工资", deleted=True)).hits[0]
    assert hit.snippet == "帖子被删 钻井二公司拖欠【工资】的帖子被删了，【工资】还是没发。"
    post = make_post(20, "食堂APP", "食堂的APP又涨价了", ["welfare"], "negative", day=5)
    full.upsert([post])
    assert full.search(SearchQuery("app")).hits[0].snippet == "食堂【APP】 食堂的【APP】又涨价了"


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


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (SearchQuery(units=(OIL,)), ["取暖补贴", "井场漏油", "补发了", "三个月没发工资"]),
        (SearchQuery(units=(DRILL,)), ["帖子被删", "钻井二公司工资", "领导推诿"]),
        (SearchQuery(units=(DRILL, OIL)), [t for t in NEWEST if BY_TITLE[t].units]),
        (SearchQuery(units=("第一采油厂",)), []),
        (SearchQuery(story_ids=("story-oil-wages",)), ["补发了", "三个月没发工资"]),
        (
            SearchQuery(story_ids=("story-oil-wages", "story-drill-wages")),
            ["帖子被删", "钻井二公司工资", "领导推诿", "补发了", "三个月没发工资"],
        ),
        (SearchQuery(deleted=True), ["帖子被删"]),
        (SearchQuery(deleted=False), [t for t in NEWEST if t != "帖子被删"]),
        (SearchQuery(replied=True), ["取暖补贴", "领导推诿"]),
        (SearchQuery(replied=False), [t for t in NEWEST if t not in ("取暖补贴", "领导推诿")]),
        (SearchQuery(platforms=("message_board",)), ["取暖补贴", "领导推诿"]),
        (SearchQuery(platforms=("forum", "message_board")), NEWEST),
    ],
)
def test_each_new_filter_alone(full, query, expected):
    result = full.search(query)
    assert titles(result) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (SearchQuery(units=(DRILL,), deleted=False), ["钻井二公司工资", "领导推诿"]),
        (SearchQuery("工资", units=(DRILL,), replied=False), ["帖子被删", "钻井二公司工资"]),
        (SearchQuery("工资", units=(DRILL,), replied=True), ["领导推诿"]),
        (SearchQuery("拖欠工资", deleted=False), ["领导推诿", "三个月没发工资"]),
        (SearchQuery("工资", deleted=True, sources=("forum-b",)), ["帖子被删"]),
        (SearchQuery(story_ids=("story-oil-wages",), sources=("forum-b",)), ["补发了"]),
        (
            SearchQuery("工资", units=(OIL,), since=BASE, until=BASE + timedelta(days=1)),
            ["三个月没发工资"],
        ),
        (
            SearchQuery(units=(OIL,), since=BASE + timedelta(days=2)),
            ["取暖补贴", "井场漏油"],
        ),
        (
            SearchQuery(sentiments=("negative",), deleted=False, replied=False, units=(DRILL,)),
            ["钻井二公司工资"],
        ),
        (SearchQuery(platforms=("message_board",), replied=False), []),
        (SearchQuery("取暖费", platforms=("message_board",), themes=("welfare",)), ["取暖补贴"]),
        (
            SearchQuery(story_ids=("story-drill-wages",), themes=("cadre_conduct",)),
            ["领导推诿"],
        ),
    ],
)
def test_new_filters_combined(full, query, expected):
    result = full.search(query)
    assert titles(result) == expected
    assert result.total == len(expected)


def test_sort_oldest(full):
    assert titles(full.search(SearchQuery(sort="oldest", limit=20))) == NEWEST[::-1]
    assert titles(full.search(SearchQuery(units=(DRILL,), sort="oldest"))) == [
        "领导推诿",
        "钻井二公司工资",
        "帖子被删",
    ]
    oldest = full.search(SearchQuery("工资", sort="oldest", limit=2, offset=1))
    assert titles(oldest) == ["补发了", "取暖费"]
    assert oldest.total == 6


def walk(store, query: SearchQuery) -> list[list[str]]:
    """The titles on every page of `query`, following `next_after` until it is None."""
    total = store.search(query).total
    pages, after = [], None
    while len(pages) < 20:
        page = store.search(replace(query, after=after))
        assert page.total == total  # the whole query's total, on every page
        if len(page.hits) < query.limit:
            assert page.next_after is None  # a short page is the last
        elif page.next_after is not None:
            assert page.next_after == SearchResult.cursor(page.hits[-1].post)
        if page.hits:
            pages.append(titles(page))
        after = page.next_after
        if after is None:
            return pages
    raise AssertionError("next_after never became None")


def test_search_after_walks_every_post_once_in_order(full):
    pages = walk(full, SearchQuery(deleted=False, limit=2))
    live = [t for t in NEWEST if t != "帖子被删"]
    assert pages == [live[0:2], live[2:4], live[4:6], live[6:8], live[8:9]]  # None on the short one


def test_search_after_across_equal_dates(full):
    # The two posts with the same date fall on either side of the first page break; the last
    # page is full, so it may hand out a cursor to an empty page.
    pages = walk(full, SearchQuery(limit=2))
    assert pages == [NEWEST[i : i + 2] for i in range(0, 10, 2)]


def test_search_after_oldest_first(full):
    oldest = NEWEST[::-1]
    pages = walk(full, SearchQuery(sort="oldest", limit=4))
    assert pages == [oldest[0:4], oldest[4:8], oldest[8:10]]
    first = full.search(SearchQuery(sort="oldest", limit=3))
    second = full.search(SearchQuery(sort="oldest", limit=3, after=first.next_after))
    assert titles(second) == oldest[3:6]


def test_search_after_with_text_and_filters(full):
    query = SearchQuery("工资", themes=("wages",), limit=2)
    assert walk(full, query) == [
        ["帖子被删", "钻井二公司工资"],
        ["领导推诿", "取暖费"],
        ["补发了", "三个月没发工资"],
    ]
    last = full.search(SearchQuery("工资", units=(DRILL,), limit=5))
    assert titles(last) == ["帖子被删", "钻井二公司工资", "领导推诿"]
    assert last.next_after is None


def test_search_pages(loaded):
    first = loaded.search(SearchQuery(limit=4))
    second = loaded.search(SearchQuery(limit=4, offset=4))
    assert first.total == second.total == 6
    assert titles(first) == ["井场漏油", "子女接班", "取暖费", "补发了"]
    assert titles(second) == ["物资工作会议", "三个月没发工资"]
    assert second.next_after is None


NEGATIVE = SearchQuery(sentiments=("negative",))


@pytest.mark.parametrize(
    ("field", "query", "size", "expected"),
    [
        ("units", None, 10, buckets((OIL, 4), (DRILL, 3))),
        ("units", NEGATIVE, 10, buckets((DRILL, 3), (OIL, 2))),
        ("units", SearchQuery("工资"), 10, buckets((DRILL, 3), (OIL, 2))),
        ("source", None, 10, buckets(("forum-a", 5), ("forum-b", 3), ("leader-board", 2))),
        ("source", NEGATIVE, 10, buckets(("forum-a", 4), ("forum-b", 1), ("leader-board", 1))),
        ("source", None, 1, buckets(("forum-a", 5))),
        ("platform", None, 10, buckets(("forum", 8), ("message_board", 2))),
        ("platform", SearchQuery(replied=False), 10, buckets(("forum", 8))),
        ("story_id", None, 10, buckets(("story-drill-wages", 3), ("story-oil-wages", 2))),
        ("story_id", NEGATIVE, 10, buckets(("story-drill-wages", 3), ("story-oil-wages", 1))),
        (
            "story_id",
            SearchQuery(deleted=False),
            10,
            buckets(("story-drill-wages", 2), ("story-oil-wages", 2)),
        ),
        (
            "themes",
            None,
            10,
            buckets(
                ("wages", 6),
                ("welfare", 2),
                ("cadre_conduct", 1),
                ("children_employment", 1),
                ("other", 1),
                ("safety_environment", 1),
            ),
        ),
        ("themes", None, 2, buckets(("wages", 6), ("welfare", 2))),
        (
            "themes",
            NEGATIVE,
            10,
            buckets(("wages", 5), ("cadre_conduct", 1), ("safety_environment", 1), ("welfare", 1)),
        ),
        ("sentiment", None, 10, buckets(("negative", 6), ("neutral", 3), ("positive", 1))),
        (
            "sentiment",
            SearchQuery(units=(OIL,)),
            10,
            buckets(("negative", 2), ("neutral", 1), ("positive", 1)),
        ),
        ("sentiment", SearchQuery(deleted=True), 10, buckets(("negative", 1))),
        ("words", None, 4, buckets(("工资", 4), ("公司", 3), ("拖欠工资", 3), ("钻井", 3))),
        ("words", NEGATIVE, 4, buckets(("公司", 3), ("工资", 3), ("拖欠工资", 3), ("钻井", 3))),
        ("units", SearchQuery("火星"), 10, []),
    ],
)
def test_top(full, field, query, size, expected):
    assert full.top(query, field, size) == expected


HOT = [
    make_post(
        31,
        "我们的食堂涨价了",
        "我们的食堂饭菜涨价了，2026年涨了3次。",
        ["welfare"],
        "negative",
        day=0,
    ),
    make_post(
        32,
        "食堂饭菜太贵",
        "食堂饭菜太贵了，又涨价了，我们吃不起，A班B班都一样。",
        ["welfare"],
        "negative",
        day=1,
    ),
    make_post(33, "班车涨价", "班车票也涨价了，我们的工资没涨。", ["welfare"], "neutral", day=2),
]


def test_top_words_are_hot_words(store):
    store.upsert(HOT)
    every = store.top(None, "words", 50)
    assert every == buckets(
        ("涨价", 3),
        ("食堂", 2),
        ("饭菜", 2),
        ("一样", 1),
        ("吃不起", 1),
        ("太贵", 1),
        ("工资", 1),
        ("没涨", 1),
        ("涨了", 1),
        ("班车", 1),
    )
    keys = {b.key for b in every}
    assert not keys & {"的", "了", "我们", "又", "也", "都"}  # stopwords
    assert not keys & {"2026", "3"}  # numbers
    assert all(len(k) > 1 for k in keys)  # single characters (班, 年, a, b)
    assert store.top(NEGATIVE, "words", 3) == buckets(("涨价", 2), ("食堂", 2), ("饭菜", 2))
    assert store.top(SearchQuery("班车"), "words", 2) == buckets(("工资", 1), ("没涨", 1))


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


def negative_share(counts: list[DayCount]) -> tuple[dict[str, float], float]:
    """The dashboard's negative share, per day and overall."""
    days: dict[str, list[int]] = {}
    for c in counts:
        neg_all = days.setdefault(c.day, [0, 0])
        neg_all[0] += c.count if c.sentiment == "negative" else 0
        neg_all[1] += c.count
    per_day = {day: round(neg / n, 3) for day, (neg, n) in days.items()}
    overall = sum(neg for neg, _ in days.values()) / sum(n for _, n in days.values())
    return per_day, round(overall, 3)


def test_negative_share_from_counts_by_day(full):
    assert negative_share(full.counts_by_day(by_theme=False)) == (
        {
            "2026-10-01": 0.5,
            "2026-10-02": 0.5,
            "2026-10-03": 0.5,
            "2026-10-04": 1.0,
            "2026-10-05": 0.667,
        },
        0.6,
    )
    assert negative_share(full.counts_by_day(SearchQuery(units=(OIL,)), by_theme=False)) == (
        {"2026-10-01": 1.0, "2026-10-02": 0.0, "2026-10-03": 1.0, "2026-10-05": 0.0},
        0.5,
    )
    assert (
        negative_share(full.counts_by_day(SearchQuery(deleted=False), by_theme=False))[1] == 0.556
    )


def test_counts_by_day_with_the_new_filters(full):
    assert full.counts_by_day(SearchQuery(story_ids=("story-drill-wages",))) == [
        DayCount("2026-10-04", "cadre_conduct", "negative", 1),
        DayCount("2026-10-04", "wages", "negative", 1),
        DayCount("2026-10-05", "wages", "negative", 2),
    ]
    assert full.counts_by_day(SearchQuery(replied=True), by_theme=False) == [
        DayCount("2026-10-04", None, "negative", 1),
        DayCount("2026-10-05", None, "neutral", 1),
    ]


ANNOTATIONS = Annotations(
    labels=Classification(themes=["wages", "hardship"], sentiment="negative"),
    case_ids=["CASE-2026-0042"],
    updated_at=BASE + timedelta(days=5),
)


def test_annotations_come_back_on_get_and_in_hits(full):
    post = BY_TITLE["领导推诿"]
    assert full.annotate(post.id, ANNOTATIONS) is None
    assert full.get(post.id).annotations == ANNOTATIONS
    assert full.get(post.id) == post.model_copy(update={"annotations": ANNOTATIONS})
    hits = {h.post.title: h.post for h in full.search(SearchQuery("工资", limit=20)).hits}
    assert hits["领导推诿"].annotations == ANNOTATIONS
    assert hits["帖子被删"].annotations is None
    assert full.count() == 10


def test_annotate_again_replaces(full):
    post = BY_TITLE["取暖补贴"]
    full.annotate(post.id, ANNOTATIONS)
    later = Annotations(case_ids=["CASE-2026-0042", "CASE-2026-0077"])
    full.annotate(post.id, later)
    assert full.get(post.id).annotations == later


def test_upserts_keep_annotations(full):
    post = BY_TITLE["领导推诿"]
    full.annotate(post.id, ANNOTATIONS)
    same = full.upsert([post])  # the crawler brings the same post again
    assert (same.created, same.updated, same.unchanged) == (0, 0, 1)
    edited = post.model_copy(update={"text": "钻井二公司的工资已经发了。", "deleted": True})
    result = full.upsert([edited])
    assert (result.created, result.updated) == (0, 1)
    stored = full.get(post.id)
    assert stored.text == "钻井二公司的工资已经发了。" and stored.deleted
    assert stored.annotations == ANNOTATIONS
    assert titles(full.search(SearchQuery("推诿"))) == ["领导推诿"]  # the title still has it
    assert titles(full.search(SearchQuery("反映"))) == []


def test_annotate_a_missing_post_raises_key_error(full):
    with pytest.raises(KeyError):
        full.annotate("no-such-id", ANNOTATIONS)
    assert full.count() == 10


def test_purge_deletes_old_posts_everywhere(full):
    full.annotate(POSTS[0].id, ANNOTATIONS)
    assert full.purge(BASE) == 0  # `before` is exclusive: post 1 is exactly at BASE
    assert full.purge(BASE + timedelta(days=2)) == 4
    assert full.count() == 6
    assert full.get(POSTS[0].id) is None
    assert titles(full.search(SearchQuery(limit=20))) == NEWEST[:6]
    assert titles(full.search(SearchQuery("工资"))) == ["帖子被删", "钻井二公司工资", "领导推诿"]
    assert [c.day for c in full.counts_by_day(by_theme=False)] == [
        "2026-10-03",
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
        "2026-10-05",
    ]
    assert full.top(None, "units") == buckets((DRILL, 3), (OIL, 2))
    assert full.top(None, "story_id") == buckets(("story-drill-wages", 3))
    assert full.top(None, "source") == buckets(("forum-a", 2), ("forum-b", 2), ("leader-board", 2))
    assert full.purge(BASE + timedelta(days=2)) == 0
    full.upsert([POSTS[0]])  # crawled again: a new post, without the purged annotations
    assert full.get(POSTS[0].id).annotations is None


def snapshot(store) -> dict:
    queries = [
        SearchQuery(limit=20),
        SearchQuery("工资", limit=20),
        SearchQuery('"拖欠 的 工资"'),
        SearchQuery(units=(DRILL,), deleted=False),
        SearchQuery(replied=True, sort="oldest"),
    ]
    return {
        "posts": {p.id: store.get(p.id) for p in ALL},
        "count": store.count(),
        "search": [
            (r.total, titles(r), [h.snippet for h in r.hits]) for r in map(store.search, queries)
        ],
        "top": [store.top(None, f, 10) for f in ("units", "source", "story_id", "words", "themes")],
        "days": store.counts_by_day(),
    }


def test_migrate_keeps_every_post_and_answer(full):
    full.annotate(BY_TITLE["领导推诿"].id, ANNOTATIONS)
    before = snapshot(full)
    assert before["posts"][BY_TITLE["领导推诿"].id].annotations == ANNOTATIONS
    report = full.migrate()
    assert isinstance(report, dict) and report
    assert snapshot(full) == before
    report = full.migrate()  # and again: each migration starts from the last
    assert snapshot(full) == before
    # Writes after a migration land in the new version.
    post = make_post(
        40, "新帖", "钻井二公司食堂涨价。", ["welfare"], "negative", day=6, units=(DRILL,)
    )
    assert full.upsert([post]).created == 1
    assert titles(full.search(SearchQuery("食堂"))) == ["新帖"]
    assert full.count() == 11


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
