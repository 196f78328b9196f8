"""Do a source's selectors still match its site? Fetch its first list page and one detail page,
politely (robots.txt obeyed, the crawl's User-Agent, the source's delay between requests),
and count what each selector finds.

This is a handful of requests, not a crawl, so it uses the standard library's HTTP client
(passed in as `fetch`) rather than starting Scrapy's reactor.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from protego import Protego
from w3lib.url import add_or_replace_parameter

from crawlers import encoding, extract
from crawlers.spiders.json_api import _PATH
from crawlers.spiders.search import search_url
from yuqing.settings import CrawlSettings, Source

OPTIONAL = (
    "reply_text",
    "reply_by",
    "reply_at",
    "status",
    "comments",
)  # may match nothing on one post


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    charset: str | None


Fetch = Callable[[str, str], Page]


def http_fetch(url: str, user_agent: str, timeout: float = 20.0) -> Page:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Page(response.status, response.read(), response.headers.get_content_charset())
    except urllib.error.HTTPError as e:
        return Page(e.code, e.read() or b"", None)


class Checker:
    def __init__(self, source: Source, crawl: CrawlSettings, fetch: Fetch = http_fetch):
        self.source = source
        self.crawl = crawl
        self.fetch = fetch
        self.delay = (
            source.download_delay if source.download_delay is not None else crawl.download_delay
        )
        self._robots: dict[str, Protego] = {}
        self._last = 0.0
        self.fetched: list[str] = []
        self._charset: str | None = None

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            page = self.fetch(root + "/robots.txt", self.crawl.user_agent)
            text = page.body.decode("utf-8", "replace") if page.status == 200 else ""
            self._robots[root] = Protego.parse(text)
        return self._robots[root].can_fetch(url, self.crawl.user_agent)

    def get(self, url: str) -> Selector:
        text, _ = encoding.decode(self.get_bytes(url), self._charset)
        return Selector(text=text, base_url=url) if text.strip() else Selector(text="<html/>")

    def get_bytes(self, url: str) -> bytes:
        """The body of a page, fetched politely; OSError unless it answers 200."""
        if not self._allowed(url):
            raise PermissionError(f"robots.txt forbids {url}")
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        page = self.fetch(url, self.crawl.user_agent)
        self._last = time.monotonic()
        self.fetched.append(url)
        if page.status != 200:
            raise OSError(f"HTTP {page.status} for {url}")
        self._charset = page.charset
        return page.body

    def run(self) -> dict[str, Any]:
        """{"checked", "matches": {selector key: count}, "unmatched": [keys], "error", "fetched"};
        `checked` is False for a source type this check does not know."""
        matches: dict[str, int] = {}
        try:
            error = None
            if self.source.type in ("board", "message_board"):
                self._board(matches)
            elif self.source.type == "search":
                self._search(matches)
            elif self.source.type == "json":
                self._json(matches)
            elif self.source.type == "feed":
                page = self.get(self.source.start_urls[0])
                page.remove_namespaces()
                matches["feed entries"] = len(page.xpath("//item | //entry"))
            else:
                return {"checked": False, "matches": {}, "unmatched": [], "error": None,
                        "fetched": []}  # fmt: skip
        except (OSError, PermissionError, ValueError) as e:
            error = str(e)
        unmatched = [k for k, n in matches.items() if n == 0 and "optional" not in k]
        return {"checked": True, "matches": matches, "unmatched": unmatched, "error": error,
                "fetched": self.fetched}  # fmt: skip

    def _board(self, matches: dict[str, int]) -> None:
        listing = self.source.listing
        url = self.source.start_urls[0]
        page = self.get(url)
        if listing.index_links:
            found = extract.links(page, listing.index_links)
            matches["list.index_links"] = len(found)
            if not found:
                return
            url = urljoin(url, found[0])
            page = self.get(url)
        self._list_and_detail(url, page, matches)

    def _search(self, matches: dict[str, int]) -> None:
        """The first result page of the first search term, then one result."""
        source = self.source
        terms = source.search.terms
        terms = terms if isinstance(terms, list) else source.watchlist.search_terms(terms)
        url = search_url(source, terms[0], source.search.page_start)
        self._list_and_detail(url, self.get(url), matches)

    def _json(self, matches: dict[str, int]) -> None:
        """The first API page: how many records `api.items` finds, and for each field path
        how many of them have a value there."""
        api, fields = self.source.api, self.source.fields
        url = self.source.start_urls[0]
        if api.page_param:
            url = add_or_replace_parameter(url, api.page_param, str(api.page_start))
        page = self.get_bytes(url)
        try:
            data = json.loads(page)
        except ValueError as e:
            raise ValueError(f"{url} is not JSON: {e}") from e
        records = extract.dig(data, api.items)
        records = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
        matches["api.items"] = len(records)
        for key, path in fields.model_dump().items():
            if not path:
                continue
            paths = _PATH.findall(path) if "{" in path else [path]
            found = sum(all(extract.dig(r, p) not in (None, "") for p in paths) for r in records)
            name = f"fields.{key}" + (" (optional)" if key in OPTIONAL else "")
            matches[name] = found

    def _list_and_detail(self, url: str, page: Selector, matches: dict[str, int]) -> None:
        listing, detail = self.source.listing, self.source.detail
        items = extract.links(page, listing.item_links)
        matches["list.item_links"] = len(items)
        if listing.next_page:
            matches["list.next_page"] = len(extract.links(page, listing.next_page))
        if not items:
            return
        post = self.get(urljoin(url, items[0]))
        for key, selector in detail.model_dump().items():
            if not isinstance(selector, str):
                continue  # a number such as max_comments, not a selector
            if selector and key not in OPTIONAL:
                matches[f"detail.{key}"] = len(extract.find(post, selector))
            elif selector:
                matches.setdefault("detail.reply, status, comments (optional)", 0)
                matches["detail.reply, status, comments (optional)"] += len(
                    extract.find(post, selector)
                )


def check_source(source: Source, crawl: CrawlSettings, fetch: Fetch = http_fetch) -> dict[str, Any]:
    return Checker(source, crawl, fetch).run()
