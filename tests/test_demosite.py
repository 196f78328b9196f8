"""The demo site: a deterministic corpus, served for real on 127.0.0.1 (port 0), fetched with urllib."""

from __future__ import annotations

import dataclasses
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

from yuqing.demosite import DemoCorpus, generate, make_server, serve_in_thread
from yuqing.demosite.corpus import thread_replies
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


def crawl_list(base: str, start: str, link_class: str) -> tuple[list[str], int]:
    """Follow a.next from ``start``; returns the item links in order and the page count."""
    links, url, pages = [], base + start, 0
    while url:
        status, _, body = fetch(url)
        assert status == 200
        html = body.decode("gbk" if "/retirees/" in url else "utf-8")
        links += re.findall(rf'<li class="{link_class}"><a class="title" href="([^"]+)"', html)
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
    assert kinds == {"forum": 195, "news": 40, "message": 90}
    boards = Counter(p.board for p in corpus.posts if p.kind == "forum")
    assert boards == {"staff": 75, "retirees": 60, "youth": 60}
    assert corpus.boards == {
        "staff": "职工论坛",
        "retirees": "退休职工之家",
        "youth": "子女就业交流",
    }
    assert sum(p.reply is not None for p in corpus.posts) == 54  # 60% of 90 messages
    assert all(p.reply is None for p in corpus.posts if p.kind != "message")
    assert len({p.id for p in corpus.posts}) == len({p.path for p in corpus.posts}) == 325


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
        25,
        date(2026, 10, 12),
        date(2026, 10, 14),
    )
    by_id = {p.id: p for p in corpus.posts}
    posts = [by_id[i] for i in spike["ids"]]
    assert Counter(p.kind for p in posts) == {"forum": 15, "message": 10}
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

    assert window(spike["end"]) >= 25
    assert max(window(spike["start"] - timedelta(days=k)) for k in range(1, 57)) < 5


def test_forum_pagination_newest_first(corpus: DemoCorpus, site: tuple[object, str]) -> None:
    _, base = site
    status, content_type, body = fetch(base + "/forum/")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    boards = re.findall(r'<a class="board" href="([^"]+)">', body.decode())
    assert boards == ["/forum/board/staff/", "/forum/board/retirees/", "/forum/board/youth/"]
    for bid, expected_pages in [("staff", 4), ("retirees", 3), ("youth", 3)]:
        links, pages = crawl_list(base, f"/forum/board/{bid}/", "thread")
        threads = sorted(
            (p for p in corpus.posts if p.board == bid), key=lambda p: p.published_at, reverse=True
        )
        assert (links, pages) == ([p.path for p in threads], expected_pages)
    assert fetch(base + "/forum/board/staff/?page=5")[0] == 404
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
    assert len(items) == 40
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
    links, pages = crawl_list(base, "/board/", "msg")
    assert (len(links), len(set(links)), pages) == (90, 90, 5)
    statuses = Counter()
    for n in range(1, 6):
        html = fetch(base + f"/board/?page={n}")[2].decode()
        statuses.update(re.findall(r'<span class="status">(.+?)</span>', html))
    assert statuses == {"已回复": 54, "未回复": 36}
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
    assert fetch(base + "/robots.txt") == (
        200,
        "text/plain; charset=utf-8",
        b"User-agent: *\nDisallow: /admin/\n",
    )
    home = fetch(base + "/")[2].decode()
    assert all(f'href="{p}"' in home for p in ["/forum/", "/news/", "/board/"])
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
