"""`configs/sources.yaml`: what to crawl. A new site is a new entry here, never new code.

Each entry names a generic spider by `type` and gives it the site's selectors (HTML) or field
paths (JSON). `load_sources` validates the file, fills in `{demo_site}` and attaches the
watch-list (`units.yaml`) that broad sources filter by.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from yuqing.config_errors import ConfigError, load_model, read_yaml
from yuqing.watchlist import UNITS_FILE, SearchTerms, Watchlist

SOURCES_FILE = "sources.yaml"
SourceType = Literal["board", "message_board", "feed", "json", "search"]
# Types whose posts come from anywhere on the web: filtered by the watch-list unless told not to.
BROAD_TYPES = ("search", "feed")
REPLIED_WORDS = ["已回复", "已答复", "已办结", "已处理", "已反馈"]
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListSelectors(_Strict):
    """Where a list page keeps its links. CSS by default; prefix with `xpath:` for XPath."""

    index_links: str | None = None  # board index -> list pages (optional first hop)
    item_links: str
    next_page: str | None = None


class DetailSelectors(_Strict):
    title: str
    text: str
    author: str | None = None
    published_at: str | None = None
    reply_text: str | None = None
    reply_by: str | None = None
    reply_at: str | None = None
    status: str | None = None  # 已回复 / 未回复, where the page says so
    comments: str | None = None  # each match is one comment (跟帖), appended to the text
    max_comments: int = Field(50, ge=0)


class ApiSettings(_Strict):
    """A JSON API: where the records are and how to reach the next page."""

    items: str  # dotted path to the list of records, e.g. data.list ("" for a top-level list)
    next_page: str | None = None  # dotted path to the next page's URL
    page_param: str | None = None  # or: the query parameter that counts pages
    page_start: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _one_way_to_page(self) -> ApiSettings:
        if self.next_page and self.page_param:
            raise ValueError("give `api.next_page` or `api.page_param`, not both")
        return self


class JsonFields(_Strict):
    """Dotted paths into one record (`user.name`, `replies.0.text`). `url` may instead be a
    template of paths in braces: `https://example.org/thread/{tid}`."""

    url: str
    text: str
    title: str | None = None
    author: str | None = None
    published_at: str | None = None
    reply_text: str | None = None
    reply_by: str | None = None
    reply_at: str | None = None
    status: str | None = None


class SearchSettings(_Strict):
    """A site's own search: its URL template is filled with each watch-list term."""

    url: str  # https://example.org/search?q={term}&page={page}
    terms: SearchTerms | list[str] = "enterprise"
    encoding: str = "utf-8"  # how the site expects the term encoded (gbk on older sites)
    page_start: int = Field(1, ge=0)

    @field_validator("url")
    @classmethod
    def _template(cls, v: str) -> str:
        names = set(_PLACEHOLDER.findall(v))
        if "term" not in names:
            raise ValueError("must contain {term}, where the site puts the search words")
        if names - {"term", "page", "demo_site"}:
            raise ValueError("the only placeholders are {term} and {page} (and {demo_site})")
        return v

    @field_validator("encoding")
    @classmethod
    def _codec(cls, v: str) -> str:
        try:
            "".encode(v)
        except LookupError as e:
            raise ValueError("not a known encoding; use utf-8, gbk or gb18030") from e
        return v

    @field_validator("terms")
    @classmethod
    def _some_terms(cls, v: SearchTerms | list[str]) -> SearchTerms | list[str]:
        if isinstance(v, list) and not any(t.strip() for t in v):
            raise ValueError("give at least one term, or `enterprise` or `all`")
        return v

    @property
    def paged(self) -> bool:
        return "{page}" in self.url


# Which blocks each type reads; any other block on a source is a mistake.
_BLOCKS = {
    "board": {"listing", "detail"},
    "message_board": {"listing", "detail"},
    "search": {"listing", "detail", "search"},
    "json": {"api", "fields"},
    "feed": set(),
}
_KEY = {"listing": "list"}


class Source(_Strict):
    name: str
    type: SourceType
    platform: str
    start_urls: list[str] = Field(default_factory=list)
    enabled: bool = True
    listing: ListSelectors | None = Field(None, alias="list")
    detail: DetailSelectors | None = None
    api: ApiSettings | None = None
    fields: JsonFields | None = None
    search: SearchSettings | None = None
    replied_when: list[str] = Field(default_factory=lambda: list(REPLIED_WORDS))
    watchlist_filter: bool | None = None
    download_delay: float | None = Field(None, ge=0)
    max_pages: int | None = Field(None, ge=1)

    _watchlist: Watchlist | None = PrivateAttr(None)

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", v):
            raise ValueError("must be a slug of lowercase letters, digits, '_' or '-'")
        return v

    @model_validator(mode="after")
    def _blocks_fit_type(self) -> Source:
        wanted = _BLOCKS[self.type]
        given = {b for b in ("listing", "detail", "api", "fields", "search") if getattr(self, b)}
        if missing := sorted(wanted - given):
            keys = " and ".join(f"`{_KEY.get(b, b)}`" for b in missing)
            raise ValueError(f"a `{self.type}` source needs {keys} (see the README's table)")
        if extra := sorted(given - wanted):
            keys = " and ".join(f"`{_KEY.get(b, b)}`" for b in extra)
            raise ValueError(f"a `{self.type}` source does not read {keys}; remove it")
        if self.type == "message_board" and not self.detail.reply_text:
            raise ValueError(
                "a `message_board` source needs `detail.reply_text`, where a message's official "
                "reply is; use type `board` for a board without replies"
            )
        if self.type != "search" and not self.start_urls:
            raise ValueError(f"a `{self.type}` source needs `start_urls`: where the crawl starts")
        return self

    @property
    def filters_by_watchlist(self) -> bool:
        """Whether posts that do not name the enterprise are dropped (default: broad types)."""
        if self.watchlist_filter is None:
            return self.type in BROAD_TYPES
        return self.watchlist_filter

    @property
    def needs_watchlist(self) -> bool:
        searches_names = self.search is not None and not isinstance(self.search.terms, list)
        return self.filters_by_watchlist or searches_names

    @property
    def watchlist(self) -> Watchlist | None:
        """units.yaml, attached by `load_sources`: what the source's posts are matched against."""
        return self._watchlist

    def with_watchlist(self, watchlist: Watchlist | None) -> Source:
        self._watchlist = watchlist
        return self


class SourcesFile(_Strict):
    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> SourcesFile:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return self


def _fill_demo_site(path: Path, key: str, url: Any, demo_site_url: str) -> Any:
    if not isinstance(url, str) or "{" not in url:
        return url
    if "{demo_site}" not in url:
        raise ConfigError(
            path,
            [
                f"key `{key}`: unknown placeholder in {url!r}. Fix: the only placeholder is {{demo_site}}."
            ],
        )
    return url.replace("{demo_site}", demo_site_url)


def load_sources(
    config_dir: Path, demo_site_url: str, watchlist: Watchlist | None = None
) -> list[Source]:
    """Read sources.yaml; `{demo_site}` in a URL becomes the demo site's base URL."""
    path = config_dir / SOURCES_FILE
    data = read_yaml(path)
    for i, src in enumerate(data.get("sources") or []):
        if not isinstance(src, dict):
            continue
        urls = src.get("start_urls")
        if isinstance(urls, list):
            for j, url in enumerate(urls):
                urls[j] = _fill_demo_site(path, f"sources[{i}].start_urls[{j}]", url, demo_site_url)
        search = src.get("search")
        if isinstance(search, dict) and isinstance(search.get("url"), str):
            search["url"] = search["url"].replace("{demo_site}", demo_site_url)
    sources = load_model(path, SourcesFile, data).sources
    for i, source in enumerate(sources):
        if source.needs_watchlist and watchlist is None:
            raise ConfigError(
                path,
                [
                    f"key `sources[{i}]`: source {source.name!r} filters or searches by the watch-list, but {config_dir / UNITS_FILE} does not exist. Fix: create it (see the README's `units.yaml` table) or set `watchlist_filter: false` and give `search.terms` as a list."
                ],
            )
        source.with_watchlist(watchlist)
    return sources
