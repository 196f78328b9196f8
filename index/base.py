"""The store protocol, the query and result types, and what both stores share.

Both stores index the same jieba segmentation (`seg`) and parse queries the same way, so
the contract suite can demand the same answers from each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from nlp.segment import Segmenter
from yuqing.schema import SHANGHAI, Post

_PHRASE = re.compile(r'"([^"]+)"|(\S+)')
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. Empty `text` matches every post; filters combine with AND."""

    text: str = ""
    themes: tuple[str, ...] = ()  # any of these
    sentiments: tuple[str, ...] = ()  # any of these
    sources: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive, on the post's date
    until: datetime | None = None  # exclusive
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    post: Post
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[SearchHit] = field(default_factory=list)


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


def post_date(post: Post) -> datetime:
    return post.published_at or post.fetched_at


def post_day(post: Post) -> str:
    return post_date(post).astimezone(SHANGHAI).date().isoformat()


def to_document(post: Post, segmenter: Segmenter) -> dict[str, Any]:
    """The flat document both stores keep: the post, plus fields for search and counts."""
    doc = post.model_dump(mode="json")
    doc["seg"] = index_words(post.full_text(), segmenter)
    doc["seg_fine"] = fine_words(post.full_text(), segmenter)
    doc["date"] = post_date(post).isoformat()
    doc["day"] = post_day(post)
    doc["themes"] = list(post.themes)
    doc["sentiment"] = post.sentiment
    doc["replied"] = post.replied
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
