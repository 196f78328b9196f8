"""Acceptance: a site nobody has seen, crawled with only a sources.yaml entry, no code.

A small server on 127.0.0.1 (port 0) serves tests/fixtures/unseen/: a Discuz-like forum in
GBK (declared only in a <meta http-equiv>, not in the Content-Type header), with relative dates
(刚刚, 3分钟前, 2小时前, 昨天 14:20, 前天) and pagination, and a government-style message board
(tables, XPath pagination) with official replies. Its HTML and class names share nothing with
the demo site. The test writes the sources.yaml, runs the real `yuqing crawl` and checks every
post's title, text, date and reply exactly.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from index.sqlite_store import SqliteStore
from tests.cli import TEST_KEY, yuqing
from yuqing.schema import SHANGHAI, Post, post_id, pseudonymise

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "unseen"
ROOT = Path(__file__).resolve().parents[1]
SITE = json.loads((FIXTURES / "site.json").read_text(encoding="utf-8"))


def _template(name: str) -> Template:
    return Template((FIXTURES / name).read_text(encoding="utf-8"))


def _page(items: list[dict], per_page: int, query: str) -> tuple[list[dict], int, int] | None:
    raw = parse_qs(query).get("page", ["1"])[-1]
    page, pages = int(raw) if raw.isdigit() else 0, -(-len(items) // per_page)
    if not 1 <= page <= pages:
        return None
    return items[(page - 1) * per_page : page * per_page], page, pages


def _forum_list(query: str) -> str | None:
    forum = SITE["forum"]
    found = _page(forum["threads"], forum["per_page"], query)
    if found is None:
        return None
    threads, page, pages = found
    row = _template("thread_row.html")
    rows = "\n".join(row.substitute(t) for t in threads)
    pager = "".join(
        f"<strong>{n}</strong>"
        if n == page
        else f'<a href="forumdisplay.php?fid=2&amp;page={n}">{n}</a>'
        for n in range(1, pages + 1)
    )
    if page < pages:
        pager += f'<a href="forumdisplay.php?fid=2&amp;page={page + 1}" class="nxt">下一页</a>'
    return _template("forumdisplay.html").substitute(name=forum["name"], rows=rows, pager=pager)


def _thread(query: str) -> str | None:
    tid = parse_qs(query).get("tid", [""])[-1]
    thread = next((t for t in SITE["forum"]["threads"] if str(t["tid"]) == tid), None)
    if thread is None:
        return None
    return _template("viewthread.html").substitute(thread, text="<br />\n".join(thread["text"]))


def _board_list(query: str) -> str | None:
    board = SITE["board"]
    found = _page(board["messages"], board["per_page"], query)
    if found is None:
        return None
    messages, page, pages = found
    row = _template("lyb_row.html")
    rows = "\n".join(
        row.substitute(m, state="已答复" if m["reply"] else "办理中") for m in messages
    )
    pager = f"<span>共{pages}页 第{page}页</span>"
    if page < pages:
        pager += f' <a href="/lyb/list.jsp?page={page + 1}" title="下一页">&gt;</a>'
    return _template("lyb_list.html").substitute(rows=rows, pager=pager)


def _message(query: str) -> str | None:
    mid = parse_qs(query).get("id", [""])[-1]
    message = next((m for m in SITE["board"]["messages"] if str(m["id"]) == mid), None)
    if message is None:
        return None
    reply = ""
    if message["reply"]:
        r = message["reply"]
        text = "<br>".join(r["text"])
        reply = _template("lyb_reply.html").substitute(by=r["by"], when=r["when"], text=text)
    text = "".join(f"<p>{p}</p>" for p in message["text"])
    return _template("lyb_detail.html").substitute(message, text=text, reply=reply)


ROUTES = {
    "/bbs/forumdisplay.php": (_forum_list, "gbk"),
    "/bbs/viewthread.php": (_thread, "gbk"),
    "/lyb/list.jsp": (_board_list, "utf-8"),
    "/lyb/detail.jsp": (_message, "utf-8"),
}


class UnseenHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        split = urlsplit(self.path)
        if split.path == "/robots.txt":
            self._send(200, "text/plain", b"User-agent: *\nDisallow: /bbs/admin.php\n")
            return
        render, charset = ROUTES.get(split.path, (lambda q: None, "utf-8"))
        html = render(split.query)
        if html is None:
            self._send(404, "text/html", b"<h1>404</h1>")
        elif charset == "gbk":  # the charset only in <meta http-equiv>, as old forums do
            self._send(200, "text/html", html.encode("gbk"))
        else:
            self._send(200, "text/html;charset=UTF-8", html.encode("utf-8"))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


SOURCES = """
sources:
  - name: xinyuan-bbs
    type: board
    platform: forum
    start_urls: ["{base}/bbs/forumdisplay.php?fid=2"]
    download_delay: 0
    list:
      item_links: "th.common a.xst::attr(href)"
      next_page: "div.pg a.nxt::attr(href)"
    detail:
      title: "span#thread_subject"
      text: "td.t_f"
      author: "td.pls a.xw1"
      published_at: "em[id^=authorposton]"
  - name: xinyuan-lyb
    type: board
    platform: message_board
    start_urls: ["{base}/lyb/list.jsp"]
    download_delay: 0
    list:
      item_links: "table.lyb-table td.zt a::attr(href)"
      next_page: "xpath://a[@title='下一页']/@href"
    detail:
      title: "div.xq-title"
      text: "div.xq-nr"
      author: "xpath://td[@id='lyr']"
      published_at: "td#lysj"
      reply_text: "div.hf-box div.hf-nr"
      reply_by: "b.hfdw"
      reply_at: "b.hfsj"
"""


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, segmenter) -> Iterator[dict]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), UnseenHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    root = tmp_path_factory.mktemp("unseen")
    config_dir = root / "configs"
    shutil.copytree(ROOT / "configs", config_dir)
    (config_dir / "sources.yaml").write_text(SOURCES.format(base=base), encoding="utf-8")
    assert yaml.safe_load((config_dir / "sources.yaml").read_text(encoding="utf-8"))
    try:
        before = datetime.now(SHANGHAI)
        proc = yuqing(config_dir, root / "data", "crawl")
        after = datetime.now(SHANGHAI)
    finally:
        server.shutdown()
        server.server_close()
    store = SqliteStore(root / "data" / "yuqing.sqlite3", segmenter)
    yield {"proc": proc, "base": base, "store": store, "before": before, "after": after}
    store.close()


def _expected_dates(expect: dict, before: datetime, after: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest date the crawl may have resolved `expect` to (seconds dropped)."""
    if "absolute" in expect:
        value = datetime.fromisoformat(expect["absolute"])
        return value, value
    if "minutes_ago" in expect:
        ago = timedelta(minutes=expect["minutes_ago"])
        return (before - ago).replace(microsecond=0), (after - ago).replace(microsecond=0)
    hour, minute = map(int, expect["time"].split(":"))

    def on(day: date) -> datetime:
        back = day - timedelta(days=expect["days_back"])
        return datetime(back.year, back.month, back.day, hour, minute, tzinfo=SHANGHAI)

    return on(before.date()), on(after.date())


def test_unseen_site_is_crawled_from_configuration_alone(crawled):
    proc = crawled["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    threads, messages = SITE["forum"]["threads"], SITE["board"]["messages"]
    n = len(threads) + len(messages)
    assert f"{n} posts, 0 quarantined" in proc.stdout
    assert crawled["store"].count() == n


def _stored(crawled: dict, path: str, expected: dict, source: str, platform: str) -> Post:
    """The stored post at ``path``, checked against the fixture's title, text and author."""
    post = crawled["store"].get(post_id(crawled["base"] + path))
    assert post is not None, path
    assert (post.source, post.platform) == (source, platform)
    assert post.title == expected["title"]
    assert post.text == "\n".join(expected["text"])
    assert post.author == pseudonymise(expected["author"], TEST_KEY.encode())
    return post


def test_forum_posts_exactly(crawled):
    for thread in SITE["forum"]["threads"]:
        path = f"/bbs/viewthread.php?tid={thread['tid']}"
        post = _stored(crawled, path, thread, "xinyuan-bbs", "forum")
        low, high = _expected_dates(thread["expect"], crawled["before"], crawled["after"])
        published = post.published_at.astimezone(SHANGHAI).replace(microsecond=0)
        assert low <= published <= high, (thread["when"], published, low, high)
        assert post.reply is None


def test_message_board_posts_and_replies_exactly(crawled):
    for message in SITE["board"]["messages"]:
        path = f"/lyb/detail.jsp?id={message['id']}"
        post = _stored(crawled, path, message, "xinyuan-lyb", "message_board")
        assert post.published_at == datetime.fromisoformat(message["expect"]["absolute"])
        reply = message["reply"]
        if reply is None:
            assert post.reply is None
            continue
        assert post.reply.by == reply["by"]
        assert post.reply.text == "\n".join(reply["text"])
        assert post.reply.replied_at == datetime.fromisoformat(reply["expect"])
