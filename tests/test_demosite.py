"""The demo site: a deterministic corpus, served for real on 127.0.0.1 (port 0), fetched with urllib."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest

from yuqing.demosite import DemoCorpus, chaos, generate, make_server, serve_in_thread
from yuqing.demosite import corpus as gen
from yuqing.demosite.corpus import thread_replies
from yuqing.demosite.pages import ROBOTS_TXT
from yuqing.demosite.site import PAGE_SIZE
from yuqing.demosite.templates import parse

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 10, 15)
MIDNIGHT = datetime(2026, 10, 15, tzinfo=SHANGHAI)
THEMES = {
    "wages", "welfare", "job_transfer", "children_employment", "injury_illness",
    "family_survivors", "hardship", "legacy", "cadre_conduct", "safety_environment", "other",
}  # fmt: skip
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture(scope="module")
def corpus() -> DemoCorpus:
    return generate(7, TODAY)


@pytest.fixture(scope="module")
def site(corpus: DemoCorpus) -> Iterator[tuple[object, str]]:
    server, base = serve_in_thread(corpus)
    yield server, base
    server.shutdown()
    server.server_close()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def n_pages(items: int) -> int:
    return max(1, -(-items // PAGE_SIZE))


def crawl_list(base: str, start: str, link_re: str) -> tuple[list[str], int]:
    """Follow a.next from ``start``; returns the item links in order and the page count."""
    if not link_re.startswith("<"):
        link_re = rf'<li class="{link_re}"><a class="title" href="([^"]+)"'
    links, url, pages = [], base + start, 0
    while url:
        status, _, body = fetch(url)
        assert status == 200
        html = body.decode("gbk" if "/retirees/" in url else "utf-8")
        links += re.findall(link_re, html)
        nxt = re.search(r'<a class="next" href="([^"]+)">下一页</a>', html)
        url, pages = (base + nxt.group(1) if nxt else ""), pages + 1
    return links, pages


def test_same_seed_same_corpus_other_seed_differs(corpus: DemoCorpus) -> None:
    assert generate(7, TODAY) == corpus
    other = generate(8, TODAY)
    assert other != corpus
    assert [p.text for p in other.posts] != [p.text for p in corpus.posts]


def test_counts_per_kind_board_and_reply(corpus: DemoCorpus) -> None:
    kinds = Counter(p.kind for p in corpus.posts)
    messages = gen.MESSAGE_COUNT + gen.SPIKE_MESSAGES
    assert kinds == {
        "forum": len(corpus.boards) * gen.FORUM_PER_BOARD + gen.SPIKE_FORUM,
        "news": gen.NEWS_COUNT,
        "message": messages,
        "complaint": gen.COMPLAINT_COUNT,
    }
    boards = Counter(p.board for p in corpus.posts if p.kind == "forum")
    assert boards == {
        b: gen.FORUM_PER_BOARD + (gen.SPIKE_FORUM if b == gen.SPIKE_BOARD else 0)
        for b in corpus.boards
    }
    assert corpus.boards == {
        "staff": "职工论坛",
        "retirees": "退休职工之家",
        "youth": "子女就业交流",
    }
    replied = Counter(p.kind for p in corpus.posts if p.reply is not None)
    assert replied["message"] == round(gen.REPLY_SHARE * messages)
    assert set(replied) == {"message", "complaint"}
    for p in corpus.of_kind("complaint"):
        assert (p.reply is not None) == gen.COMPLAINT_STATUSES[p.status]
    assert all(p.status is None for p in corpus.posts if p.kind != "complaint")
    n = len(corpus.posts)
    assert len({p.id for p in corpus.posts}) == len({p.path for p in corpus.posts}) == n


@pytest.mark.parametrize("seed", [7, 1, 2024])
def test_every_theme_and_sentiment_appears(seed: int) -> None:
    posts = generate(seed, TODAY).posts
    themes = Counter(t for p in posts for t in p.themes)
    assert set(themes) == THEMES
    assert min(themes.values()) >= 10
    assert set(Counter(p.sentiment for p in posts)) == {"negative", "neutral", "positive"}
    assert sum(len(p.themes) == 2 for p in posts) >= 20
    assert all(p.themes == ("other",) for p in posts if "other" in p.themes)
    for p in posts:  # everything is GBK-encodable, not only the retirees' board
        (p.title + p.text + p.author).encode("gbk")


def test_dates_within_last_60_days_never_future(corpus: DemoCorpus) -> None:
    for p in corpus.posts:
        assert p.published_at.tzinfo == SHANGHAI
        assert MIDNIGHT - timedelta(days=60) <= p.published_at < MIDNIGHT
        if p.reply:
            gap = (p.reply.replied_at.date() - p.published_at.date()).days
            assert 1 <= gap <= 20
            assert p.reply.replied_at < MIDNIGHT
    assert max(p.published_at for p in corpus.posts).date() == TODAY - timedelta(days=1)
    now = datetime.now(SHANGHAI)
    default = generate(3)
    assert default.today == now.date()
    assert max(p.published_at for p in default.posts) < now


def test_spike_in_last_three_days(corpus: DemoCorpus) -> None:
    spike = corpus.spike
    assert (spike["theme"], spike["count"], spike["start"], spike["end"]) == (
        "wages",
        gen.SPIKE_FORUM + gen.SPIKE_MESSAGES,
        date(2026, 10, 12),
        date(2026, 10, 14),
    )
    by_id = {p.id: p for p in corpus.posts}
    posts = [by_id[i] for i in spike["ids"]]
    assert Counter(p.kind for p in posts) == {
        "forum": gen.SPIKE_FORUM,
        "message": gen.SPIKE_MESSAGES,
    }
    for p in posts:
        assert "wages" in p.themes and p.sentiment == "negative" and p.unit == spike["unit"]
        assert spike["unit"] in p.title + p.text
        assert spike["start"] <= p.published_at.date() <= spike["end"]

    def window(end: date) -> int:
        return sum(
            "wages" in p.themes and p.sentiment == "negative" and p.unit == spike["unit"]
            and end - timedelta(days=2) <= p.published_at.date() <= end
            for p in corpus.posts
        )  # fmt: skip

    assert window(spike["end"]) >= spike["count"]
    assert max(window(spike["start"] - timedelta(days=k)) for k in range(1, 57)) < 5


@pytest.mark.parametrize("seed", [7, 1, 2024])
def test_no_burst_but_the_spike(seed: int) -> None:
    """Outside the spike, no kind of post bunches up: any 3 days hold at most ~3x their share."""
    corpus = generate(seed, TODAY)
    spike = set(corpus.spike["ids"])
    for kind in ("forum", "message", "complaint", "news"):
        posts = [p for p in corpus.of_kind(kind) if p.id not in spike]
        days = Counter(p.published_at.date() for p in posts)
        share = 3 * len(posts) / gen.WINDOW_DAYS
        worst = max(
            sum(days[TODAY - timedelta(days=k + i)] for i in range(3))
            for k in range(1, gen.WINDOW_DAYS - 1)
        )
        assert worst <= 3 * share + 2, (kind, worst, share)
        assert len(days) >= min(len(posts), gen.WINDOW_DAYS) // 2


def test_complaints_leave_the_other_sections_unchanged() -> None:
    """The complaint site draws from its own random stream."""
    a, b = generate(7, TODAY), generate(7, TODAY)
    assert a.of_kind("complaint") == b.of_kind("complaint")
    assert a.of_kind("complaint") != generate(8, TODAY).of_kind("complaint")
    forum = a.of_kind("forum")
    assert (len(forum), forum[-1].id, forum[0].id) == (
        len(a.boards) * gen.FORUM_PER_BOARD + gen.SPIKE_FORUM,
        "t1001",
        f"t{1000 + len(forum)}",
    )


def test_forum_pagination_newest_first(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    status, content_type, body = fetch(base + "/forum/")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    boards = re.findall(r'<a class="board" href="([^"]+)">', body.decode())
    assert boards == ["/forum/board/staff/", "/forum/board/retirees/", "/forum/board/youth/"]
    for bid in corpus.boards:
        links, pages = crawl_list(base, f"/forum/board/{bid}/", "thread")
        threads = sorted(
            (p for p in corpus.posts if p.board == bid), key=lambda p: p.published_at, reverse=True
        )
        assert (links, pages) == ([p.path for p in threads], n_pages(len(threads)))
    staff = sum(p.board == "staff" for p in corpus.posts)
    assert fetch(base + f"/forum/board/staff/?page={n_pages(staff) + 1}")[0] == 404
    assert fetch(base + "/forum/board/staff/?page=0")[0] == 404
    assert fetch(base + "/forum/board/nosuch/")[0] == 404


def test_thread_page_structure(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    post = next(p for p in corpus.posts if p.board == "staff" and thread_replies(corpus, p))
    html = fetch(base + post.path)[2].decode("utf-8")
    assert f'<h1 class="thread-title">{post.title}</h1>' in html
    first = re.search(
        r'<div class="post first"><span class="author">(.+?)</span> '
        r'<span class="time">(.+?)</span><div class="content">(.+?)</div></div>',
        html,
    )
    assert first is not None
    assert first.group(1) == post.author
    assert first.group(2) == post.published_at.strftime("%Y-%m-%d %H:%M")
    assert re.sub(r"</?p>", "", first.group(3).replace("</p><p>", "\n")) == post.text
    assert html.count('<div class="post reply">') == len(thread_replies(corpus, post))


def test_retirees_board_is_gbk(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    newest = max((p for p in corpus.posts if p.board == "retirees"), key=lambda p: p.published_at)
    for path in ["/forum/board/retirees/", "/forum/board/retirees/?page=2", newest.path]:
        status, content_type, body = fetch(base + path)
        assert (status, content_type) == (200, "text/html; charset=gbk")
        assert b'<meta charset="gbk">' in body
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
    index = fetch(base + "/forum/board/retirees/")[2].decode("gbk")
    assert f'href="{newest.path}">{newest.title}</a>' in index
    staff = fetch(base + "/forum/board/staff/")
    assert staff[1] == "text/html; charset=utf-8" and b'<meta charset="utf-8">' in staff[2]


def test_rss_feed(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    status, content_type, body = fetch(base + "/news/rss.xml")
    assert (status, content_type) == (200, "application/rss+xml; charset=utf-8")
    items = ET.fromstring(body).findall("./channel/item")
    news = sorted((p for p in corpus.posts if p.kind == "news"), key=lambda p: p.published_at)
    assert len(items) == len(corpus.of_kind("news"))
    for item, post in zip(items, reversed(news), strict=True):
        assert item.findtext("link") == item.findtext("guid") == base + post.path
        assert item.findtext("title") == post.title
        assert item.findtext("description") == post.text
        assert item.findtext(f"{DC}creator") == post.author
        assert parsedate_to_datetime(item.findtext("pubDate")) == post.published_at
        assert item.findtext("pubDate").endswith("+0800")
    page = fetch(items[0].findtext("link"))[2].decode()
    assert f'<h1 class="news-title">{news[-1].title}</h1>' in page and "news-body" in page
    port = base.rsplit(":", 1)[1]
    other_host = fetch(base + "/news/rss.xml", {"Host": f"localhost:{port}"})[2]
    link = ET.fromstring(other_host).findtext("./channel/item/link")
    assert link == f"http://localhost:{port}{news[-1].path}"


def test_message_board_lists_and_replies(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    messages = corpus.of_kind("message")
    links, pages = crawl_list(base, "/board/", "msg")
    assert (links, pages) == ([p.path for p in messages], n_pages(len(messages)))
    assert pages > 1
    statuses = Counter()
    for n in range(1, pages + 1):
        html = fetch(base + f"/board/?page={n}")[2].decode()
        statuses.update(re.findall(r'<span class="status">(.+?)</span>', html))
    replied = sum(p.reply is not None for p in messages)
    assert statuses == {"已回复": replied, "未回复": len(messages) - replied}
    replied = next(p for p in corpus.posts if p.reply)
    html = fetch(base + replied.path)[2].decode()
    stamp = replied.published_at.strftime("%Y年%m月%d日 %H:%M")
    assert f'<span class="author">{replied.author}</span> <span class="time">{stamp}</span>' in html
    assert f'<span class="reply-org">{replied.reply.org}</span>' in html
    assert replied.reply.replied_at.strftime("%Y年%m月%d日 %H:%M") in html
    assert f'<div class="reply-content">{replied.reply.text}</div>' in html
    unreplied = next(p for p in corpus.posts if p.kind == "message" and not p.reply)
    assert 'class="reply"' not in fetch(base + unreplied.path)[2].decode()


def test_content_is_html_escaped(corpus: DemoCorpus) -> None:
    post = next(p for p in corpus.posts if p.kind == "message")
    evil = dataclasses.replace(post, title="<b>标题</b>", text='<script>alert("x")</script>&')
    server, base = serve_in_thread(dataclasses.replace(corpus, posts=(evil,)))
    try:
        html = fetch(base + post.path)[2].decode()
        listing = fetch(base + "/board/")[2].decode()
    finally:
        server.shutdown()
        server.server_close()
    assert (
        "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    )
    assert "&lt;b&gt;标题&lt;/b&gt;" in listing and "<b>" not in listing


def test_robots_admin_and_404(
    corpus: DemoCorpus, site: tuple[object, str], caplog: pytest.LogCaptureFixture
) -> None:
    shared, base = site
    assert fetch(base + "/robots.txt") == (200, "text/plain; charset=utf-8", ROBOTS_TXT.encode())
    assert ROBOTS_TXT == "User-agent: *\nDisallow: /admin/\nDisallow: /_demo/\n"
    home = fetch(base + "/")[2].decode()
    assert all(f'href="{p}"' in home for p in ["/forum/", "/news/", "/board/", "/complaints/"])
    assert fetch(base + "/nope.html")[0] == fetch(base + "/forum/thread/t9999.html")[0] == 404
    assert shared.admin_hits == 0
    server, other = serve_in_thread(corpus)
    try:
        with caplog.at_level(logging.WARNING, logger="yuqing.demosite"):
            assert fetch(other + "/admin/")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
    assert server.admin_hits == 1 and server.hits["/admin/"] == 1
    assert any("/admin/" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com", ""])
def test_refuses_non_loopback(corpus: DemoCorpus, host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_server(corpus, host=host)


def test_binds_localhost(corpus: DemoCorpus) -> None:
    server = make_server(corpus, host="localhost")
    try:
        assert server.server_address[0] == "127.0.0.1" and server.server_address[1] > 0
    finally:
        server.server_close()


def test_template_file_errors_name_the_line() -> None:
    with pytest.raises(ValueError, match=r"templates.txt:2: unknown sentiment 'angry'"):
        parse("# comment\n[post wages angry s]\n标题\n正文\n")


def test_complaint_site_lists_status_and_response(
    corpus: DemoCorpus, site: tuple[object, str]
) -> None:
    _, base = site
    complaints = corpus.of_kind("complaint")
    link = r'<a class="c-link" href="([^"]+)">'
    links, pages = crawl_list(base, "/complaints/", link)
    assert (links, pages) == ([p.path for p in complaints], n_pages(len(complaints)))
    states = Counter()
    for n in range(1, pages + 1):
        html = fetch(base + f"/complaints/?page={n}")[2].decode()
        states.update(re.findall(r'<span class="c-state">(.+?)</span>', html))
    assert states == Counter(p.status for p in complaints)
    assert set(states) == set(gen.COMPLAINT_STATUSES)
    for post in (
        next(p for p in complaints if p.reply),
        next(p for p in complaints if not p.reply),
    ):
        html = fetch(base + post.path)[2].decode()
        assert f'<h1 class="c-title">{post.title}</h1>' in html
        assert f'<span class="c-status">{post.status}</span>' in html
        assert f'<span class="c-author">{post.author}</span>' in html
        assert post.published_at.strftime("%Y/%m/%d %H:%M") in html
        body = re.search(r'<div class="c-body">(.+?)</div>', html).group(1)
        assert re.sub(r"</?p>", "", body.replace("</p><p>", "\n")) == post.text
        if post.reply is None:
            assert "c-response" not in html
            continue
        assert f'<span class="c-response-org">{post.reply.org}</span>' in html
        assert post.reply.replied_at.strftime("%Y/%m/%d %H:%M") in html
        assert post.reply.text.split("\n")[0] in html


def post_json(url: str, data: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(data).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if e.headers["Content-Type"] == "application/json" else {}


@pytest.mark.parametrize(
    ("board", "start", "link"),
    [
        ("staff", "/forum/board/staff/", "thread"),
        ("retirees", "/forum/board/retirees/", "thread"),
        ("message", "/board/", "msg"),
        ("complaint", "/complaints/", r'<a class="c-link" href="([^"]+)">'),
    ],
)
def test_posts_added_at_run_time_go_on_top(board: str, start: str, link: str) -> None:
    corpus = generate(5, TODAY)
    server, base = serve_in_thread(corpus)
    try:
        before = datetime.now(SHANGHAI).replace(microsecond=0)
        status, answer = post_json(
            base + "/_demo/posts",
            {
                "board": board,
                "title": "新帖：食堂涨价",
                "text": "第一段\n第二段",
                "author": "测试用户",
                "reply": {"org": "集团公司办公室", "text": "已转有关部门。"},
            },
        )
        assert status == 201, answer
        added = server.add_post(board, "又一帖", "正文", "另一位")
        first, _ = crawl_list(base, start, link)
        page = fetch(base + answer["path"])[2].decode("gbk" if board == "retirees" else "utf-8")
    finally:
        server.shutdown()
        server.server_close()
    assert first[:2] == [added.path, answer["path"]]
    assert answer["url"] == base + answer["path"]
    published = datetime.fromisoformat(answer["published_at"])
    assert before <= published <= datetime.now(SHANGHAI)
    assert "新帖：食堂涨价" in page and "第二段" in page
    assert ("已转有关部门。" in page) == (board in ("message", "complaint"))
    assert len(server.site.posts) == len(corpus.posts) + 2


def test_adding_a_post_rejects_bad_input(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    status, answer = post_json(
        base + "/_demo/posts", {"board": "nosuch", "title": "t", "text": "x"}
    )
    assert status == 400 and "unknown board 'nosuch'" in answer["error"]
    status, answer = post_json(base + "/_demo/posts", {"board": "staff", "title": "t", "text": ""})
    assert status == 400 and "non-empty" in answer["error"]
    assert post_json(base + "/forum/", {})[0] == 405


def test_chaos_plan_is_deterministic_and_covers_every_fault(corpus: DemoCorpus) -> None:
    assert chaos.plan(corpus, 3) == chaos.plan(corpus, 3)
    assert chaos.plan(corpus, 3) != chaos.plan(corpus, 4)
    faults = Counter(chaos.plan(corpus, 3, per_kind=2).faults.values())
    assert faults == {f: 2 for f in chaos.FAULTS}


def test_chaos_faults_as_served(corpus: DemoCorpus) -> None:
    plan = chaos.plan(corpus, 1)
    server, base = serve_in_thread(corpus, chaos=plan)
    by_path = {p.path: p for p in corpus.posts}
    try:
        [err] = plan.paths("error500")[:1]
        assert [fetch(base + err)[0] for _ in range(4)] == [500] * chaos.ERROR_TIMES + [200, 200]
        [drop] = plan.paths("drop")[:1]
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            fetch(base + drop)
        assert fetch(base + drop)[0] == 200
        assert fetch(base + plan.paths("gone404")[0])[0] == 404
        assert fetch(base + plan.paths("gone410")[0])[0] == 410
        deleted = fetch(base + plan.paths("deleted")[0])
        assert deleted[0] == 200 and "该帖已被删除" in deleted[2].decode(deleted[1].split("=")[1])
        assert fetch(base + plan.paths("empty")[0])[:3:2] == (200, b"")
        huge = fetch(base + plan.paths("huge")[0])[2]
        assert len(huge) > chaos.HUGE_BYTES
        for path in plan.paths("broken_html"):
            status, content_type, body = fetch(base + path)
            text = body.decode(content_type.split("=")[1])
            assert status == 200 and "</p>" not in text and not text.rstrip().endswith("</html>")
            assert by_path[path].title in text
        for path in plan.paths("wrong_charset"):
            status, content_type, body = fetch(base + path)
            declared = content_type.split("=")[1]
            actual = "utf-8" if declared == "gbk" else "gbk"
            assert f'<meta charset="{declared}">' in body.decode(actual)
            assert by_path[path].title in body.decode(actual)
            assert by_path[path].title not in body.decode(declared, errors="replace")
        lists = [t for (t, f) in server.faults_served if t not in plan.faults]
        assert not lists  # only detail pages were fetched so far
        assert fetch(base + "/robots.txt")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
