"""Generate the demo site's corpus: forum threads, news, leadership-board messages, complaints.

The corpus is a snapshot taken at midnight starting ``today`` (Asia/Shanghai): every timestamp
falls in the 60 days before it, so nothing is ever in the future, whatever the time of day.
``generate(seed, today)`` is deterministic: it draws only from ``random.Random(seed)`` (and,
for the complaint site, from ``random.Random(f"{seed}:complaints")``, so adding that section left
the other posts exactly as they were). Complaints are spread over the whole window like the
rest: the injected spike stays the only burst in the corpus.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import templates, vocab
from .templates import Template

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
WINDOW_DAYS = 60
FORUM_PER_BOARD = 60
NEWS_COUNT = 40
MESSAGE_COUNT = 80
COMPLAINT_COUNT = 50
# A complaint's progress on the complaint site, and whether the company has responded by then.
COMPLAINT_STATUSES = {"待受理": False, "处理中": False, "已回复": True, "已完成": True}
SPIKE_THEME = "wages"
SPIKE_DAYS = 3
SPIKE_BOARD = "staff"
SPIKE_FORUM = 15
SPIKE_MESSAGES = 10
REPLY_SHARE = 0.6
MAX_REPLY_DAYS = 20
# Posting hours and how often people post in each (few at night).
_HOURS = tuple(range(24))
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 7, 6, 6, 7, 7, 6, 6, 6, 8, 9, 9, 7, 4)


@dataclass(frozen=True)
class DemoReply:
    """An official reply to a message on the leadership message board."""

    org: str
    text: str
    replied_at: datetime


@dataclass(frozen=True)
class DemoPost:
    """One page of the demo site, with the ground truth its template implies."""

    kind: str  # "forum" | "news" | "message" | "complaint"
    id: str
    board: str | None
    title: str
    text: str
    author: str
    published_at: datetime
    themes: tuple[str, ...]
    sentiment: str
    unit: str | None
    reply: DemoReply | None  # the official reply, or the company's response to a complaint
    path: str
    status: str | None = None  # a complaint's progress (COMPLAINT_STATUSES)


@dataclass(frozen=True)
class DemoCorpus:
    """Everything the demo site serves, plus the spike that was injected into it."""

    seed: int
    today: date
    enterprise: str
    boards: dict[str, str]
    posts: tuple[DemoPost, ...]
    spike: dict

    def of_kind(self, kind: str) -> tuple[DemoPost, ...]:
        """Posts of one kind, newest first."""
        found = [p for p in self.posts if p.kind == kind]
        return tuple(sorted(found, key=lambda p: (p.published_at, p.id), reverse=True))


@dataclass(frozen=True)
class ThreadReply:
    """A short reply by another user below a forum thread (page decoration, no ground truth)."""

    author: str
    text: str
    posted_at: datetime


def midnight(day: date) -> datetime:
    """The start of ``day`` in Asia/Shanghai: the corpus snapshot time for ``today``."""
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def _handle(rng: random.Random) -> str:
    suffix = rng.choice((*vocab.HANDLE_SUFFIXES, str(rng.randint(1965, 2005))))
    return rng.choice(vocab.HANDLE_STEMS) + suffix


def _moment(rng: random.Random, today: date, first: int, last: int, office: bool) -> datetime:
    """A time between ``first`` and ``last`` days before ``today``."""
    day = today - timedelta(days=rng.randint(first, last))
    hour = rng.randint(8, 17) if office else rng.choices(_HOURS, _HOUR_WEIGHTS)[0]
    return datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=SHANGHAI)


def _values(rng: random.Random, today: date, unit: str | None) -> dict[str, object]:
    return {
        "unit": unit or "",
        "ent": vocab.ENTERPRISE,
        "months": rng.choice(vocab.CN_MONTH_COUNTS),
        "month": (today.month - 1 - rng.randint(0, 3)) % 12 + 1,
        "day": rng.randint(1, 28),
        "amount": rng.choice(vocab.AMOUNTS),
        "year": rng.randint(1996, 2008),
        "n": rng.randint(8, 60),
    }


def _deck(rng: random.Random, pool: list[Template], count: int) -> list[Template]:
    """``count`` templates: shuffled rounds through ``pool``, so each is used about equally."""
    deck: list[Template] = []
    while len(deck) < count:
        deck.extend(rng.sample(pool, len(pool)))
    return deck[:count]


def _draft(
    rng: random.Random,
    template: Template,
    kind: str,
    board: str | None,
    when: datetime,
    values: dict[str, object],
) -> DemoPost:
    """A post without its id yet (ids follow publication order)."""
    paragraphs = [p.format_map(values) for p in template.paragraphs]
    if kind == "message":
        opening = rng.choice(vocab.MESSAGE_OPENINGS[template.sentiment])
        closing = rng.choice(vocab.MESSAGE_CLOSINGS[template.sentiment])
        paragraphs = [opening, *paragraphs, closing]
    author = rng.choice(vocab.REPORTERS) if kind == "news" else _handle(rng)
    unit = str(values["unit"]) if template.mentions_unit else None
    title = template.title.format_map(values)
    text = "\n".join(paragraphs)
    return DemoPost(
        kind=kind,
        id="",
        board=board,
        title=title,
        text=text,
        author=author,
        published_at=when,
        themes=template.themes,
        sentiment=template.sentiment,
        unit=unit,
        reply=None,
        path="",
    )


def _background(
    rng: random.Random,
    today: date,
    pool: list[Template],
    kind: str,
    board: str | None,
    count: int,
) -> list[DemoPost]:
    drafts = []
    for template in _deck(rng, pool, count):
        unit = template.unit or rng.choice(vocab.DRAWN_UNITS)
        when = _moment(rng, today, 1, WINDOW_DAYS, office=kind == "news")
        drafts.append(_draft(rng, template, kind, board, when, _values(rng, today, unit)))
    return drafts


def _spike(rng: random.Random, today: date, pool: list[Template]) -> list[DemoPost]:
    """The injected spike: one unit's wage arrears, on the forum and the message board."""
    unit = rng.choice(vocab.SPIKE_UNITS)
    shared = _values(rng, today, unit)  # one story: the same unit, months and start month
    drafts = []
    kinds = [("forum", SPIKE_BOARD)] * SPIKE_FORUM + [("message", None)] * SPIKE_MESSAGES
    for template, (kind, board) in zip(_deck(rng, pool, len(kinds)), kinds, strict=True):
        days_ago = rng.choices(range(1, SPIKE_DAYS + 1), weights=(5, 3, 2))[0]
        when = _moment(rng, today, days_ago, days_ago, office=False)
        drafts.append(_draft(rng, template, kind, board, when, shared))
    return drafts


def _reply(rng: random.Random, post: DemoPost, today: date) -> DemoReply:
    """An official reply 1-20 days after ``post``, in office hours, before ``today``."""
    replies = templates.load().replies
    key = "thanks" if post.sentiment == "positive" else post.themes[0]
    template = replies.get(key, replies["other"])
    latest = min(MAX_REPLY_DAYS, (today - post.published_at.date()).days - 1)
    day = post.published_at.date() + timedelta(days=rng.randint(1, latest))
    at = datetime.combine(day, time(8, 30), tzinfo=SHANGHAI)
    at += timedelta(minutes=rng.randint(0, 9 * 60))
    fallback = "集团" if key == "thanks" else "有关单位"
    return DemoReply(template.org, template.text.format(unit=post.unit or fallback), at)


def _number(drafts: list[DemoPost], prefix: str, first: int, path: str) -> list[DemoPost]:
    """Give ids in publication order; the returned list keeps the drafts' order."""
    order = sorted(range(len(drafts)), key=lambda i: (drafts[i].published_at, i))
    numbered = list(drafts)
    for rank, i in enumerate(order):
        post_id = f"{prefix}{first + rank}"
        numbered[i] = replace(drafts[i], id=post_id, path=path.format(id=post_id))
    return numbered


def _by_time(posts: list[DemoPost]) -> list[DemoPost]:
    return sorted(posts, key=lambda p: (p.published_at, p.id))


def generate(seed: int = 7, today: date | None = None) -> DemoCorpus:
    """Build the demo corpus for ``seed``; ``today`` defaults to today in Asia/Shanghai."""
    if today is None:
        today = datetime.now(SHANGHAI).date()
    rng = random.Random(seed)
    ts = templates.load()
    forum: list[DemoPost] = []
    for board, letter in vocab.BOARD_LETTERS.items():
        pool = [t for t in ts.posts if letter in t.where]
        forum += _background(rng, today, pool, "forum", board, FORUM_PER_BOARD)
    pool = [t for t in ts.posts if vocab.MESSAGE_LETTER in t.where]
    messages = _background(rng, today, pool, "message", None, MESSAGE_COUNT)
    news = _background(rng, today, list(ts.news), "news", None, NEWS_COUNT)
    spike = _spike(rng, today, list(ts.spike))
    forum = _number(forum + spike[:SPIKE_FORUM], "t", 1001, "/forum/thread/{id}.html")
    messages = _number(messages + spike[SPIKE_FORUM:], "m", 101, "/board/msg/{id}.html")
    news = _number(news, "n", 1, "/news/{id}.html")
    spike_ids = [p.id for p in _by_time(forum[-SPIKE_FORUM:] + messages[-SPIKE_MESSAGES:])]

    eligible = [i for i, p in enumerate(messages) if (today - p.published_at.date()).days >= 2]
    wanted = min(round(REPLY_SHARE * len(messages)), len(eligible))
    for i in sorted(rng.sample(eligible, wanted)):
        messages[i] = replace(messages[i], reply=_reply(rng, messages[i], today))

    complaints = _complaints(seed, today)
    posts = _by_time(forum) + _by_time(news) + _by_time(messages) + _by_time(complaints)
    corpus = DemoCorpus(
        seed=seed,
        today=today,
        enterprise=vocab.ENTERPRISE,
        boards=dict(vocab.BOARDS),
        posts=tuple(posts),
        spike={
            "theme": SPIKE_THEME,
            "sentiment": "negative",
            "unit": spike[0].unit,
            "forum": SPIKE_FORUM,
            "message": SPIKE_MESSAGES,
            "start": today - timedelta(days=SPIKE_DAYS),
            "end": today - timedelta(days=1),
            "count": len(spike),
            "ids": tuple(spike_ids),
        },
    )
    logger.debug(
        "Generated demo corpus: seed %(seed)d, %(n)d posts", {"seed": seed, "n": len(posts)}
    )
    return corpus


def _complaints(seed: int, today: date) -> list[DemoPost]:
    """The complaint site: grievances against the enterprise, spread over the whole window.

    Drawn from their own random stream, so the other sections do not change with them.
    """
    rng = random.Random(f"{seed}:complaints")
    pool = [
        t
        for t in templates.load().posts
        if vocab.MESSAGE_LETTER in t.where and t.sentiment != "positive"
    ]
    drafts = _background(rng, today, pool, "complaint", None, COMPLAINT_COUNT)
    complaints = _number(drafts, "c", 2001, "/complaints/detail/{id}.html")
    for i, post in enumerate(complaints):
        fresh = (today - post.published_at.date()).days < 2
        status = "待受理" if fresh else rng.choice(tuple(COMPLAINT_STATUSES))
        reply = _reply(rng, post, today) if COMPLAINT_STATUSES[status] else None
        complaints[i] = replace(post, status=status, reply=reply)
    return complaints


def thread_replies(corpus: DemoCorpus, post: DemoPost) -> tuple[ThreadReply, ...]:
    """0-3 short replies below a forum thread, deterministic for the corpus seed and post."""
    rng = random.Random(f"{corpus.seed}:{post.id}")
    room = int((midnight(corpus.today) - post.published_at).total_seconds() // 60) - 1
    count = rng.randint(0, 3) if room >= 10 else 0
    offsets = sorted(rng.randint(5, min(room, 3 * 24 * 60)) for _ in range(count))
    return tuple(
        ThreadReply(
            author=_handle(rng),
            text=rng.choice(vocab.THREAD_REPLIES[post.sentiment]),
            posted_at=post.published_at + timedelta(minutes=minutes),
        )
        for minutes in offsets
    )


# The id prefix and the path of a post added after generation, by kind.
ADDED = {
    "forum": ("t", "/forum/thread/{id}.html"),
    "message": ("m", "/board/msg/{id}.html"),
    "news": ("n", "/news/{id}.html"),
    "complaint": ("c", "/complaints/detail/{id}.html"),
}


def added_post(
    posts: tuple[DemoPost, ...],
    kind: str,
    board: str | None,
    title: str,
    text: str,
    author: str,
    published_at: datetime,
    reply: DemoReply | None = None,
) -> DemoPost:
    """A post added after generation (no ground truth), numbered after the `posts` of its kind;
    a complaint's status follows from its response."""
    prefix, path = ADDED[kind]
    taken = [int(p.id[1:]) for p in posts if p.id.startswith(prefix)]
    post_id = f"{prefix}{max(taken, default=0) + 1}"
    return DemoPost(
        kind=kind,
        id=post_id,
        board=board if kind == "forum" else None,
        title=title,
        text=text,
        author=author,
        published_at=published_at,
        themes=(),
        sentiment="",
        unit=None,
        reply=reply,
        path=path.format(id=post_id),
        status=("已回复" if reply else "待受理") if kind == "complaint" else None,
    )


def with_post(
    corpus: DemoCorpus,
    kind: str,
    title: str,
    text: str,
    author: str,
    board: str | None = None,
    published_at: datetime | None = None,
) -> tuple[DemoCorpus, DemoPost]:
    """The corpus with one more post (published now unless given), and that post: what the
    demo server's ``POST /_demo/posts`` serves from then on."""
    if kind not in ADDED:
        raise ValueError(f"kind must be one of {', '.join(ADDED)}, not {kind!r}")
    if kind == "forum" and board not in corpus.boards:
        raise ValueError(f"board must be one of {', '.join(corpus.boards)}, not {board!r}")
    when = (published_at or datetime.now(SHANGHAI)).replace(second=0, microsecond=0)
    post = added_post(corpus.posts, kind, board, title, text, author, when)
    return replace(corpus, posts=(*corpus.posts, post)), post
