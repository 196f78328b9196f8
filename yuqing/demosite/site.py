"""Route a request path to a page of the demo site and encode it.

``Site`` knows nothing about HTTP: :mod:`yuqing.demosite.server` hands it the request target
and the base URL, and sends back the :class:`Response` it returns.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from . import pages
from .corpus import SHANGHAI, DemoCorpus, DemoPost, DemoReply, added_post, thread_replies
from .vocab import GBK_BOARD

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
HTML_UTF8 = "text/html; charset=utf-8"
HTML_GBK = "text/html; charset=gbk"
_BOARD_PATH = re.compile(r"/forum/board/([a-z]+)/")


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


def is_admin_path(path: str) -> bool:
    """Whether ``path`` is under /admin/, which robots.txt forbids."""
    return path == "/admin" or path.startswith("/admin/")


class Site:
    """The demo site for one corpus: ``site.respond(target, base_url)`` gives the page."""

    def __init__(self, corpus: DemoCorpus) -> None:
        self.corpus = corpus
        self.by_path = {post.path: post for post in corpus.posts}
        forum = corpus.of_kind("forum")
        self.threads = {bid: [p for p in forum if p.board == bid] for bid in corpus.boards}
        self.news = list(corpus.of_kind("news"))
        self.messages = list(corpus.of_kind("message"))
        self.complaints = list(corpus.of_kind("complaint"))
        self.added: list[DemoPost] = []
        self._lock = threading.Lock()

    @property
    def posts(self) -> tuple[DemoPost, ...]:
        """Every post served: the corpus and those added since with :meth:`add_post`."""
        return (*self.corpus.posts, *self.added)

    def add_post(
        self,
        board: str,
        title: str,
        text: str,
        author: str,
        reply: dict[str, str] | None = None,
    ) -> DemoPost:
        """Publish a new post now, at the top of its list; returns it (ground truth: none).

        ``board`` is a forum board id (``staff`` …), ``message``, ``complaint`` or ``news``;
        ``reply`` (``{"org", "text"}``) is the official reply or the company's response.
        """
        kind = board if board in _KINDS else "forum"
        if kind == "forum" and board not in self.corpus.boards:
            known = ", ".join([*self.corpus.boards, *_KINDS])
            raise ValueError(f"unknown board {board!r}; one of: {known}")
        if not title.strip() or not text.strip():
            raise ValueError("a post needs a non-empty title and text")
        now = datetime.now(SHANGHAI).replace(microsecond=0)
        answer = None
        if reply is not None and kind in ("message", "complaint"):
            answer = DemoReply(str(reply.get("org", "")), str(reply.get("text", "")), now)
        with self._lock:
            post = added_post(self.posts, kind, board, title, text, author, now, answer)
            self.added.append(post)
            self.by_path[post.path] = post
            if kind == "forum":
                self.threads[board] = [post, *self.threads[board]]
            else:
                lists = {"news": "news", "message": "messages", "complaint": "complaints"}
                setattr(self, lists[kind], [post, *getattr(self, lists[kind])])
        logger.info("Demo site: added %(path)s", {"path": post.path})
        return post

    def respond(self, target: str, base_url: str) -> Response:
        """The response for a request target such as ``/board/?page=2``."""
        split = urlsplit(target)
        path, query = split.path, parse_qs(split.query)
        page = self._page_number(query)
        c = self.corpus
        if is_admin_path(path):
            return self._html(pages.admin(c))
        if path == "/robots.txt":
            return Response(200, "text/plain; charset=utf-8", pages.ROBOTS_TXT.encode())
        if path in ("/", "/index.html"):
            return self._html(pages.home(c))
        if path == "/forum/":
            return self._html(pages.forum_index(c))
        if path == "/news/":
            return self._html(pages.news_index(c, self.news))
        if path == "/news/rss.xml":
            body = pages.rss(c, self.news, base_url).encode("utf-8")
            return Response(200, "application/rss+xml; charset=utf-8", body)
        if path == "/board/":
            chunk = _chunk(self.messages, page)
            if chunk is None:
                return self.not_found()
            return self._html(pages.message_list(c, chunk, page, _pages(self.messages)))
        if path == "/complaints/":
            chunk = _chunk(self.complaints, page)
            if chunk is None:
                return self.not_found()
            return self._html(pages.complaint_list(c, chunk, page, _pages(self.complaints)))
        match = _BOARD_PATH.fullmatch(path)
        if match and match.group(1) in self.threads:
            return self._board(match.group(1), page)
        post = self.by_path.get(path)
        if post is not None:
            return self._post(post)
        return self.not_found()

    def not_found(self) -> Response:
        return Response(404, HTML_UTF8, pages.not_found(self.corpus).encode("utf-8"))

    @staticmethod
    def _page_number(query: dict[str, list[str]]) -> int:
        """The ?page= number; 0 (no such page) when it is not a positive integer."""
        raw = query.get("page", ["1"])[-1]
        return int(raw) if raw.isascii() and raw.isdigit() else 0

    @staticmethod
    def _html(text: str) -> Response:
        return Response(200, HTML_UTF8, text.encode("utf-8"))

    @staticmethod
    def _encoded(text: str, charset: str) -> Response:
        content_type = HTML_GBK if charset == "gbk" else HTML_UTF8
        return Response(200, content_type, text.encode(charset))

    def _board(self, bid: str, page: int) -> Response:
        threads = self.threads[bid]
        chunk = _chunk(threads, page)
        if chunk is None:
            return self.not_found()
        charset = _charset(bid)
        text = pages.board_list(self.corpus, bid, chunk, page, _pages(threads), charset)
        return self._encoded(text, charset)

    def _post(self, post: DemoPost) -> Response:
        c = self.corpus
        if post.kind == "forum":
            charset = _charset(post.board)
            replies = thread_replies(c, post)
            return self._encoded(pages.thread(c, post, replies, charset), charset)
        if post.kind == "news":
            return self._html(pages.news_page(c, post))
        if post.kind == "complaint":
            return self._html(pages.complaint_page(c, post))
        return self._html(pages.message_page(c, post))


# Where a post added at run time goes, by its `board` value (other values are forum boards).
_KINDS = ("news", "message", "complaint")  # `board` values that name a section, not a board


def _charset(board: str | None) -> str:
    return "gbk" if board == GBK_BOARD else "utf-8"


def _pages(items: Sequence[DemoPost]) -> int:
    return max(1, math.ceil(len(items) / PAGE_SIZE))


def _chunk(items: Sequence[DemoPost], page: int) -> Sequence[DemoPost] | None:
    """The items on list page ``page`` (1-based); None when there is no such page."""
    if not 1 <= page <= _pages(items):
        return None
    return items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
