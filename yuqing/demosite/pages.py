"""Render the demo site's pages: HTML5 for people, RSS 2.0 for the news feed.

Every function returns text; :mod:`yuqing.demosite.site` encodes it (GBK for the retirees'
board, UTF-8 elsewhere). All post content is escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape as xml_escape

from .corpus import DemoCorpus, DemoPost, ThreadReply
from .vocab import SITE_NOTE

ROBOTS_TXT = "User-agent: *\nDisallow: /admin/\nDisallow: /_demo/\n"
DELETED_MARKER = "该帖已被删除"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def forum_time(moment: datetime) -> str:
    """Forum and news time: naive local time, e.g. 2026-10-01 14:20."""
    return moment.strftime("%Y-%m-%d %H:%M")


def board_time(moment: datetime) -> str:
    """Message-board time, Chinese style, e.g. 2026年10月01日 14:20."""
    return moment.strftime("%Y年%m月%d日 %H:%M")


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in text.split("\n"))


def _lines(text: str) -> str:
    return "<br>\n".join(_e(line) for line in text.split("\n"))


def _layout(corpus: DemoCorpus, title: str, body: str, charset: str = "utf-8") -> str:
    ent = _e(corpus.enterprise)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{charset}">
<title>{_e(title)} - {ent}</title>
</head>
<body>
<header><a class="site" href="/">{ent}</a>
<nav><a href="/forum/">论坛</a> | <a href="/news/">新闻中心</a> | <a href="/board/">领导留言板</a> | <a href="/complaints/">投诉平台</a></nav>
</header>
<main>
{body}
</main>
<footer><p>{_e(SITE_NOTE)}</p></footer>
</body>
</html>
"""


def _pager(base: str, page: int, pages: int) -> str:
    parts = []
    if page > 1:
        prev = base if page == 2 else f"{base}?page={page - 1}"
        parts.append(f'<a class="prev" href="{prev}">上一页</a>')
    parts.append(f'<span class="page">第{page}/{pages}页</span>')
    if page < pages:
        parts.append(f'<a class="next" href="{base}?page={page + 1}">下一页</a>')
    return f'<div class="pager">{" ".join(parts)}</div>'


def home(corpus: DemoCorpus) -> str:
    body = f"""<h1>{_e(corpus.enterprise)}</h1>
<ul class="sections">
<li><a href="/forum/">职工论坛</a>：职工、退休职工和子女的交流园地</li>
<li><a href="/news/">新闻中心</a>（<a href="/news/rss.xml">RSS订阅</a>）</li>
<li><a href="/board/">领导留言板</a>：反映问题，领导回复</li>
<li><a href="/complaints/">投诉平台</a>：投诉进度与企业回复</li>
</ul>"""
    return _layout(corpus, "首页", body)


def forum_index(corpus: DemoCorpus) -> str:
    items = "".join(
        f'<li><a class="board" href="/forum/board/{bid}/">{_e(name)}</a></li>'
        for bid, name in corpus.boards.items()
    )
    return _layout(corpus, "论坛", f'<h1>论坛</h1>\n<ul class="boards">{items}</ul>')


def board_list(
    corpus: DemoCorpus, bid: str, threads: Sequence[DemoPost], page: int, pages: int, charset: str
) -> str:
    items = "\n".join(
        f'<li class="thread"><a class="title" href="{p.path}">{_e(p.title)}</a> '
        f'<span class="date">{forum_time(p.published_at)}</span></li>'
        for p in threads
    )
    name = _e(corpus.boards[bid])
    body = (
        f'<p class="crumbs"><a href="/forum/">论坛</a> &gt; {name}</p>\n<h1>{name}</h1>\n'
        f'<ul class="threads">\n{items}\n</ul>\n{_pager(f"/forum/board/{bid}/", page, pages)}'
    )
    return _layout(corpus, corpus.boards[bid], body, charset)


def _forum_post(css: str, author: str, moment: datetime, text: str) -> str:
    return (
        f'<div class="post {css}"><span class="author">{_e(author)}</span> '
        f'<span class="time">{forum_time(moment)}</span>'
        f'<div class="content">{_paragraphs(text)}</div></div>'
    )


def thread(corpus: DemoCorpus, post: DemoPost, replies: Sequence[ThreadReply], charset: str) -> str:
    bid = post.board or ""
    posts = [_forum_post("first", post.author, post.published_at, post.text)]
    posts += [_forum_post("reply", r.author, r.posted_at, r.text) for r in replies]
    body = (
        f'<p class="crumbs"><a href="/forum/">论坛</a> &gt; '
        f'<a href="/forum/board/{bid}/">{_e(corpus.boards.get(bid, ""))}</a></p>\n'
        f'<h1 class="thread-title">{_e(post.title)}</h1>\n' + "\n".join(posts)
    )
    return _layout(corpus, post.title, body, charset)


def news_index(corpus: DemoCorpus, items: Sequence[DemoPost]) -> str:
    lis = "\n".join(
        f'<li class="news"><a class="title" href="{p.path}">{_e(p.title)}</a> '
        f'<span class="date">{forum_time(p.published_at)}</span></li>'
        for p in items
    )
    body = f'<h1>新闻中心</h1>\n<p><a href="/news/rss.xml">RSS订阅</a></p>\n<ul class="news">\n{lis}\n</ul>'
    return _layout(corpus, "新闻中心", body)


def news_page(corpus: DemoCorpus, post: DemoPost) -> str:
    body = (
        f'<h1 class="news-title">{_e(post.title)}</h1>\n'
        f'<div class="news-meta"><span class="author">{_e(post.author)}</span> '
        f'<span class="time">{forum_time(post.published_at)}</span></div>\n'
        f'<div class="news-body">{_paragraphs(post.text)}</div>'
    )
    return _layout(corpus, post.title, body)


def rss(corpus: DemoCorpus, items: Sequence[DemoPost], base_url: str) -> str:
    """The news feed; links are absolute, on ``base_url`` (the host the request came in on)."""
    x = xml_escape
    entries = []
    for p in items:
        link = x(base_url + p.path)
        entries.append(
            f"<item><title>{x(p.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid>'
            f"<pubDate>{format_datetime(p.published_at)}</pubDate>"
            f"<dc:creator>{x(p.author)}</dc:creator>"
            f"<description>{x(p.text)}</description></item>"
        )
    built = format_datetime(items[0].published_at) if items else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{x(corpus.enterprise)}新闻中心</title>\n<link>{x(base_url)}/news/</link>\n"
        f"<description>{x(corpus.enterprise)}要闻、通知公告（{x(SITE_NOTE)}）</description>\n"
        f"<language>zh-cn</language>\n<lastBuildDate>{built}</lastBuildDate>\n"
        + "\n".join(entries)
        + "\n</channel>\n</rss>\n"
    )


def message_list(corpus: DemoCorpus, messages: Sequence[DemoPost], page: int, pages: int) -> str:
    items = "\n".join(
        f'<li class="msg"><a class="title" href="{p.path}">{_e(p.title)}</a> '
        f'<span class="status">{"已回复" if p.reply else "未回复"}</span></li>'
        for p in messages
    )
    body = f'<h1>领导留言板</h1>\n<ul class="messages">\n{items}\n</ul>\n{_pager("/board/", page, pages)}'
    return _layout(corpus, "领导留言板", body)


def message_page(corpus: DemoCorpus, post: DemoPost) -> str:
    body = (
        f'<p class="crumbs"><a href="/board/">领导留言板</a></p>\n'
        f'<h1 class="msg-title">{_e(post.title)}</h1>\n'
        f'<div class="msg-meta"><span class="author">{_e(post.author)}</span> '
        f'<span class="time">{board_time(post.published_at)}</span></div>\n'
        f'<div class="msg-content">{_lines(post.text)}</div>'
    )
    if post.reply is not None:
        body += (
            f'\n<div class="reply"><span class="reply-org">{_e(post.reply.org)}</span> '
            f'<span class="reply-time">{board_time(post.reply.replied_at)}</span>'
            f'<div class="reply-content">{_lines(post.reply.text)}</div></div>'
        )
    return _layout(corpus, post.title, body)


def complaint_time(moment: datetime) -> str:
    """Complaint-site time, e.g. 2026/10/01 14:20."""
    return moment.strftime("%Y/%m/%d %H:%M")


def complaint_list(corpus: DemoCorpus, items: Sequence[DemoPost], page: int, pages: int) -> str:
    rows = "\n".join(
        f'<div class="complaint-item"><h3><a class="c-link" href="{p.path}">{_e(p.title)}</a></h3>'
        f'<p class="c-meta"><span class="c-state">{_e(p.status or "")}</span> '
        f'<span class="c-date">{complaint_time(p.published_at)}</span></p></div>'
        for p in items
    )
    body = (
        f'<h1>投诉平台</h1>\n<div class="complaint-list">\n{rows}\n</div>\n'
        f"{_pager('/complaints/', page, pages)}"
    )
    return _layout(corpus, "投诉平台", body)


def complaint_page(corpus: DemoCorpus, post: DemoPost) -> str:
    target = f"{corpus.enterprise}{post.unit or ''}"
    body = (
        f'<p class="crumbs"><a href="/complaints/">投诉平台</a></p>\n<article class="complaint">\n'
        f'<h1 class="c-title">{_e(post.title)}</h1>\n<ul class="c-info">'
        f'<li>投诉编号：<span class="c-no">{_e(post.id)}</span></li>'
        f'<li>投诉对象：<span class="c-target">{_e(target)}</span></li>'
        f'<li>投诉人：<span class="c-author">{_e(post.author)}</span></li>'
        f'<li>投诉时间：<span class="c-time">{complaint_time(post.published_at)}</span></li>'
        f'<li>投诉进度：<span class="c-status">{_e(post.status or "")}</span></li></ul>\n'
        f'<div class="c-body">{_paragraphs(post.text)}</div>'
    )
    if post.reply is not None:
        body += (
            f'\n<section class="c-response"><h2>企业回复</h2>'
            f'<p class="c-response-head"><span class="c-response-org">{_e(post.reply.org)}</span> '
            f'回复于 <span class="c-response-time">{complaint_time(post.reply.replied_at)}</span></p>'
            f'<div class="c-response-text">{_paragraphs(post.reply.text)}</div></section>'
        )
    return _layout(corpus, post.title, body + "\n</article>")


def deleted(corpus: DemoCorpus, charset: str = "utf-8") -> str:
    """What a site shows in place of a post its author or a moderator removed."""
    body = f'<h1>提示</h1>\n<p class="notice">{DELETED_MARKER}</p>\n<p><a href="/">返回首页</a></p>'
    return _layout(corpus, "提示", body, charset)


def admin(corpus: DemoCorpus) -> str:
    body = "<h1>管理后台</h1>\n<p>内部系统，仅限管理员登录。robots.txt 禁止抓取本目录。</p>"
    return _layout(corpus, "管理后台", body)


def not_found(corpus: DemoCorpus) -> str:
    body = '<h1>404 页面不存在</h1>\n<p><a href="/">返回首页</a></p>'
    return _layout(corpus, "页面不存在", body)
