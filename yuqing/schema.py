"""The one `Post` schema that every stage uses, and the helpers that build its fields.

A post's id is derived from its canonical URL, so a re-crawl of the same page maps to the
same record and an upsert never duplicates it. Author handles are never stored: only a
keyed hash of them (see `pseudonymise`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Annotated
from urllib.parse import unquote_plus, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from w3lib.url import canonicalize_url

SHANGHAI = ZoneInfo("Asia/Shanghai")
SENTIMENTS = ("negative", "neutral", "positive")


# Query parameters that say how a link was shared, not which page it is. `x_*` matches every
# parameter starting with `x_`. settings.yaml `crawl.tracking_params` replaces this list.
TRACKING_PARAMS = (
    "utm_*", "spm", "from", "share_token", "share_source", "share_medium", "share_from",
    "sharer", "shareid", "timestamp", "tt_from", "isappinstalled", "scene", "wfr", "fbclid",
    "gclid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "vd_source", "ref", "ref_src",
)  # fmt: skip


def _tracking(name: str, params: Iterable[str]) -> bool:
    name = name.lower()
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in params)


def canonical_url(url: str, tracking: Iterable[str] = TRACKING_PARAMS) -> str:
    """The URL that identifies a page: no tracking parameters, sorted query, no fragment,
    normalised escapes."""
    return _canonical_url(url, tuple(tracking))


@lru_cache(maxsize=4096)  # a crawl asks for each link's several times (list, dedup, post id)
def _canonical_url(url: str, tracking: tuple[str, ...]) -> str:
    parts = urlsplit(url.strip())
    # The raw pieces are kept as they are, so GBK-escaped values survive.
    pieces = [p for p in parts.query.split("&") if p]
    kept = [p for p in pieces if not _tracking(unquote_plus(p.split("=", 1)[0]), tracking)]
    if len(kept) != len(pieces):
        parts = parts._replace(query="&".join(kept))
    return canonicalize_url(urlunsplit(parts), keep_fragments=False)


def post_id(url: str, tracking: Iterable[str] = TRACKING_PARAMS) -> str:
    """A stable 20-hex-digit id from the canonical URL."""
    return hashlib.sha256(canonical_url(url, tracking).encode("utf-8")).hexdigest()[:20]


def content_sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def pseudonymise(handle: str | None, key: bytes) -> str | None:
    """A keyed hash of an author handle; the handle itself is never kept."""
    if not handle or not handle.strip():
        return None
    digest = hmac.new(key, handle.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"anon-{digest[:12]}"


def as_shanghai(value: datetime) -> datetime:
    """Naive datetimes from Chinese sites are Asia/Shanghai local time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value


AwareDatetime = Annotated[datetime, AfterValidator(as_shanghai)]


class OfficialReply(BaseModel):
    """The answer an official body posted under a message, where a board has one."""

    model_config = ConfigDict(extra="forbid")

    text: str
    replied_at: AwareDatetime | None = None
    by: str | None = None


class Classification(BaseModel):
    """What a classifier said about a post, with the cues that explain it."""

    model_config = ConfigDict(extra="forbid")

    themes: list[str] = Field(default_factory=list)
    sentiment: str | None = None
    sentiment_score: float | None = None
    cues: dict[str, list[str]] = Field(default_factory=dict)
    classifier: str | None = None


class Annotations(BaseModel):
    """What officers add to a post: their corrected labels and the cases it belongs to."""

    model_config = ConfigDict(extra="forbid")

    labels: Classification | None = None
    case_ids: list[str] = Field(default_factory=list)
    updated_at: AwareDatetime | None = None


class Post(BaseModel):
    """One public post, as collected, classified and stored."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    platform: str
    url: str
    title: str = ""
    text: str
    author: str | None = None
    published_at: AwareDatetime | None = None
    fetched_at: AwareDatetime
    reply: OfficialReply | None = None
    content_sha256: str
    units: list[str] = Field(default_factory=list)  # watch-list units the post mentions
    story_id: str | None = None  # posts telling the same grievance share a story
    deleted: bool = False  # gone from its site on a later crawl; the evidence is kept
    deleted_at: AwareDatetime | None = None  # when a crawl first found it gone
    evidence_sha256: str | None = None  # the raw page at first capture, in data/evidence/
    captured_at: AwareDatetime | None = None  # when it was first captured
    classification: Classification | None = None
    annotations: Annotations | None = None  # officers' labels and case links; see Store.annotate

    @property
    def themes(self) -> list[str]:
        return self.classification.themes if self.classification else []

    @property
    def sentiment(self) -> str | None:
        return self.classification.sentiment if self.classification else None

    @property
    def replied(self) -> bool:
        return self.reply is not None

    @property
    def reply_days(self) -> int | None:
        """Calendar days (Asia/Shanghai) from the post to its official reply; None if either
        date is unknown or there is no reply."""
        if self.reply is None or self.reply.replied_at is None or self.published_at is None:
            return None
        asked = self.published_at.astimezone(SHANGHAI).date()
        return (self.reply.replied_at.astimezone(SHANGHAI).date() - asked).days

    @property
    def day(self) -> str | None:
        """The Asia/Shanghai calendar day the post was published, as YYYY-MM-DD."""
        when = self.published_at or self.fetched_at
        return when.astimezone(SHANGHAI).date().isoformat()

    def full_text(self) -> str:
        return f"{self.title}\n{self.text}".strip()
