"""The store protocol, the query and result types, and what both stores share.

Both stores index the same jieba segmentation (`seg`) and parse queries the same way, so
the contract suite can demand the same answers from each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from nlp.segment import Segmenter
from yuqing.schema import SHANGHAI, Annotations, Post

_PHRASE = re.compile(r'"([^"]+)"|(\S+)')
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


Cursor = tuple[int, str]  # search_after: (the post date in epoch milliseconds, the post id)
TOP_FIELDS = ("units", "source", "platform", "story_id", "words", "themes", "sentiment")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. Empty `text` matches every post; filters combine with AND, and the
    values within one filter with OR."""

    text: str = ""
    themes: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    story_ids: tuple[str, ...] = ()
    deleted: bool | None = None  # True: only posts gone from their site; False: only live ones
    replied: bool | None = None  # True: only posts with an official reply; False: without one
    since: datetime | None = None  # inclusive, on the post's date
    until: datetime | None = None  # exclusive
    limit: int = 20
    offset: int = 0  # for small page numbers; deep paging uses `after`
    sort: Literal["newest", "oldest"] = "newest"  # by post date, then by id the same way
    after: Cursor | None = None  # the previous page's `next_after`: search_after paging


@dataclass(frozen=True)
class SearchHit:
    post: Post
    snippet: str  # the original text around the first query word, words marked 【】


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[SearchHit] = field(default_factory=list)
    next_after: Cursor | None = None  # pass as `after` for the next page; None on the last

    @staticmethod
    def cursor(post: Post) -> Cursor:
        # Exact integer milliseconds, truncated as Elasticsearch truncates a date to its millis.
        return (epoch_ms(post_date(post)), post.id)


@dataclass(frozen=True)
class Bucket:
    """One value of a field and how many matching posts have it."""

    key: str
    count: int


@dataclass(frozen=True, order=True)
class DayCount:
    """Posts published on one Asia/Shanghai day, by theme (or None) and sentiment."""

    day: str
    theme: str | None
    sentiment: str | None
    count: int


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated


class StoreUnavailable(RuntimeError):
    """The store cannot be reached; the caller spools the batch and replays it later."""


class Store(Protocol):
    """What every backend offers. New backends are one class behind this protocol."""

    name: str

    def setup(self) -> None:
        """Create tables or indices. Safe to call on every start."""

    def upsert(self, posts: Iterable[Post]) -> UpsertResult:
        """Insert or update posts by id; writing the same post twice stores it once."""

    def get(self, post_id: str) -> Post | None: ...

    def count(self) -> int: ...

    def search(self, query: SearchQuery) -> SearchResult:
        """Matching posts, newest first, with a snippet of the original text."""

    def counts_by_day(
        self, query: SearchQuery | None = None, by_theme: bool = True
    ) -> list[DayCount]:
        """Matching posts per day × theme × sentiment (per day × sentiment if not by_theme)."""

    def top(self, query: SearchQuery | None, field: str, size: int = 10) -> list[Bucket]:
        """The `size` most frequent values of `field` (one of TOP_FIELDS) among matching posts,
        most posts first, then by key. `words` gives hot words: the posts' words with stopwords,
        numbers and single characters left out (see `hot_words`)."""

    def annotate(self, post_id: str, annotations: Annotations) -> None:
        """Store an officer's labels and case links on a post. Upserts of the crawled post keep
        them, and so does a migration. Raises KeyError if there is no such post."""

    def purge(self, before: datetime) -> int:
        """Delete posts dated before `before` (retention); return how many went."""

    def migrate(self) -> dict[str, Any]:
        """Rebuild the store under the current schema with no downtime; report what was done."""

    def close(self) -> None: ...


def query_terms(text: str, segmenter: Segmenter) -> list[list[str]]:
    """The query as terms, each a list of words that must appear next to each other.

    `工资` is one word; `"工资 拖欠"` is a phrase; `工资拖欠` is segmented into the phrase
    工资 拖欠, so it matches the words in that order.
    """
    terms = []
    for quoted, bare in _PHRASE.findall(text or ""):
        words = index_words(quoted or bare, segmenter).split()
        if words:
            terms.append(words)
    return terms


def index_words(text: str, segmenter: Segmenter) -> str:
    """The segmented form a store indexes: lowercase word tokens split on spaces."""
    return " ".join(w for tok in segmenter.segmented(text).split() for w in _WORD.findall(tok))


def fine_words(text: str, segmenter: Segmenter) -> str:
    """Every word and the words inside long ones, so 工资 finds 拖欠工资. Single words match here;
    phrases match `index_words`, whose positions are the text's."""
    tokens = segmenter.cut_for_search(_SPACE.sub(" ", text or "").lower())
    return " ".join(w for tok in tokens for w in _WORD.findall(tok))


def index_and_fine_words(text: str, segmenter: Segmenter) -> tuple[str, str]:
    """`index_words` and `fine_words` of a text, segmenting it once where that gives both."""
    seg, fine = segmenter.segmented_and_search(text)
    return (
        " ".join(w for tok in seg.split() for w in _WORD.findall(tok)),
        " ".join(w for tok in fine for w in _WORD.findall(tok)),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def post_date(post: Post) -> datetime:
    return post.published_at or post.fetched_at


def post_day(post: Post) -> str:
    return post_date(post).astimezone(SHANGHAI).date().isoformat()


STOPWORDS = frozenset(
    "的 了 是 在 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那 他 她 它 们 我们"
    " 你们 他们 这个 那个 什么 怎么 为什么 还是 但是 因为 所以 如果 可以 已经 现在 还 又 被 把 让 给 对 从 与 及 或"
    " 等 吧 吗 呢 啊 呀 么 嘛 哦 这样 那样 这些 那些 一些 一下 一直 大家 时候 问题 情况 事情 没 能 想 年 月 日 里"
    " 后 前 中 下 之 其 而 但 并 则 再 才 只 多 少 个 次 号 请 您 谢谢".split()
)  # fmt: skip


def hot_words(seg: str) -> list[str]:
    """The distinct words of a segmented text worth counting as hot words: two or more
    characters, not a number, not a stopword. Both stores index these as `words`."""
    return sorted({w for w in seg.split() if len(w) > 1 and not w.isdigit() and w not in STOPWORDS})


def to_document(post: Post, segmenter: Segmenter) -> dict[str, Any]:
    """The flat document both stores keep: the post, plus fields for search and counts.
    Annotations are not part of it: they are written by `annotate` alone, so an upsert of the
    crawled post never overwrites them."""
    doc = post.model_dump(mode="json", exclude={"annotations"})
    doc["seg"], doc["seg_fine"] = index_and_fine_words(post.full_text(), segmenter)
    doc["date"] = post_date(post).isoformat()
    doc["day"] = post_day(post)
    doc["themes"] = list(post.themes)
    doc["sentiment"] = post.sentiment
    doc["replied"] = post.replied
    doc["words"] = hot_words(doc["seg"])
    return doc


def from_document(doc: dict[str, Any]) -> Post:
    fields = Post.model_fields
    return Post.model_validate({k: v for k, v in doc.items() if k in fields})


def snippet(post: Post, terms: list[list[str]], width: int = 60) -> str:
    """A window of the original text around the first query word, marked with 【】."""
    text = post.full_text().replace("\n", " ")
    words = sorted({w for term in terms for w in term}, key=len, reverse=True)
    lowered = text.lower()
    hits = [(lowered.find(w), w) for w in words if lowered.find(w) >= 0]
    if not hits:
        return text[:width] + ("…" if len(text) > width else "")
    pos, _ = min(hits)
    start = max(0, pos - width // 3)
    window = text[start : start + width]
    for w in words:
        window = re.sub(re.escape(w), lambda m: f"【{m.group(0)}】", window, flags=re.IGNORECASE)
    return ("…" if start else "") + window + ("…" if start + width < len(text) else "")
