"""Stories: the same grievance reposted (with small edits) on another source shares a story_id;
unrelated posts do not; ids are stable across runs; a repost indexed later joins the story."""

from __future__ import annotations

from datetime import datetime

from index.base import SearchQuery
from index.sqlite_store import SqliteStore
from index.stories import StoryIndex
from nlp.lexicon import LexiconClassifier
from yuqing.pipeline import DataPaths, process_inbox
from yuqing.schema import SHANGHAI, Post, post_id

ORIGINAL = (
    "第三采油厂井下作业队的工资已经拖欠三个月了，找队长问，队长说上面没拨款；找厂里问，"
    "厂里说要等集团批复。我们一线工人每天顶着风沙干活，家里老人看病、孩子上学都等着这点钱，"
    "希望领导能过问一下，给我们一个明确的说法。"
)
REPOST = (
    "【转自论坛】第三采油厂井下作业队的工资已经拖欠快三个月了，找队长问，队长说上面没有拨款；"
    "找厂里问，厂里说要等集团批复。我们一线工人每天顶着风沙干活，家里老人看病、孩子上学都等着"
    "这点钱，恳请领导过问一下，给我们一个明确说法！"
)
UNRELATED = (
    "请问退休职工的取暖费今年什么时候发放？往年都是十月底到账，今年到现在还没有消息，"
    "社区也说不清楚，麻烦有关部门给个答复。"
)
NEWS = "集团公司召开安全生产工作会议，部署冬季安全生产重点工作，要求各单位压实责任、排查隐患。"


def post(url: str, text: str, source: str = "forum", title: str = "") -> Post:
    now = datetime.now(SHANGHAI)
    return Post(id=post_id(url), source=source, platform=source, url=url, title=title,
                text=text, fetched_at=now, content_sha256="0" * 64)  # fmt: skip


def test_reposts_share_a_story_and_unrelated_posts_do_not(tmp_path):
    a = post("http://forum.example/t/1", ORIGINAL, "forum", "工资拖欠三个月")
    b = post("http://board.example/m/9", REPOST, "leader-board", "井下作业队工资拖欠")
    c = post("http://forum.example/t/2", UNRELATED)
    d = post("http://news.example/n/3", NEWS, "news")
    index = StoryIndex(tmp_path / "stories.sqlite3")
    got = {p.id: p.story_id for p in index.assign([a, b, c, d])}
    index.close()
    assert got[a.id] == got[b.id] == a.id
    assert got[c.id] == c.id and got[d.id] == d.id


def test_stories_are_stable_and_a_later_repost_joins(tmp_path):
    a = post("http://forum.example/t/1", ORIGINAL)
    c = post("http://forum.example/t/2", UNRELATED)
    first = StoryIndex(tmp_path / "stories.sqlite3")
    first.assign([a, c])
    first.close()
    again = StoryIndex(tmp_path / "stories.sqlite3")  # a later run
    later = post("http://weibo.example/s/7", REPOST.replace("恳请", "希望"), "weibo")
    edited_a = a.model_copy(update={"text": UNRELATED})  # a known post keeps its story
    got = {p.id: p.story_id for p in again.assign([later, edited_a, c])}
    again.close()
    assert got == {later.id: a.id, a.id: a.id, c.id: c.id}


def test_index_time_assignment_is_filterable(tmp_path, project_config, segmenter):
    paths = DataPaths(tmp_path)
    paths.inbox.mkdir(parents=True)
    a = post("http://forum.example/t/1", ORIGINAL)
    b = post("http://board.example/m/9", REPOST, "leader-board")
    c = post("http://forum.example/t/2", UNRELATED)
    batch = "".join(p.model_dump_json() + "\n" for p in (a, b, c))
    (paths.inbox / "20260101T000000-test.jsonl").write_text(batch, encoding="utf-8")
    store = SqliteStore(paths.root / "yuqing.sqlite3", segmenter)
    store.setup()
    try:
        report = process_inbox(paths, store, LexiconClassifier(project_config.taxonomy))
        assert report.created == 3
        found = store.search(SearchQuery(story_ids=(a.id,)))
        assert {h.post.id for h in found.hits} == {a.id, b.id}
        assert store.get(c.id).story_id == c.id
        assert [(b.key, b.count) for b in store.top(None, "story_id", 1)] == [(a.id, 2)]
    finally:
        store.close()


def test_signatures_are_those_of_a_fresh_minhash_per_post():
    """The permutations drawn once give every post the values a MinHash built for it alone
    gives, so fingerprints stored by earlier versions still match new posts."""
    import numpy as np
    from datasketch import MinHash

    from index.stories import _SEED, NUM_PERM, shingles, signature

    for text in (ORIGINAL, REPOST, UNRELATED, NEWS):
        fresh = MinHash(num_perm=NUM_PERM, seed=_SEED)
        fresh.update_batch(list(shingles(text)))
        assert np.array_equal(signature(text), fresh.hashvalues.astype(np.uint64))
    assert signature("太短") is None
