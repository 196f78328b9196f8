"""A site's own search: its URL template filled with each watch-list term, the result pages
read like a board's list pages, each result's page like a board's detail page.

Results are paged by `{page}` in the template (counted up while a page brings new results)
or by the list's `next_page` link. A search finds pages that name the term somewhere, often
in a sidebar; the watch-list filter (on by default) keeps only posts that name the enterprise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers import extract
from crawlers.spiders.board import BoardSpider
from yuqing.settings import Source


def search_url(source: Source, term: str, page: int) -> str:
    """The source's search template filled with one term (in the site's encoding) and a page."""
    search = source.search
    encoded = quote(term, safe="", encoding=search.encoding)
    return search.url.replace("{term}", encoded).replace("{page}", str(page))


class SearchSpider(BoardSpider):
    name = "search"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        terms = self.source.search.terms
        if isinstance(terms, list):
            self.terms = [t.strip() for t in terms if t.strip()]
        else:  # `enterprise` or `all`: the base class made sure there is a watch-list
            self.terms = self.source.watchlist.search_terms(terms)
        self._seen: dict[str, set[str]] = {term: set() for term in self.terms}

    def search_url(self, term: str, page: int) -> str:
        return search_url(self.source, term, page)

    async def start(self) -> Any:
        for term in self.terms:
            yield self._results(term, self.source.search.page_start)

    def _results(self, term: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.search_url(term, page),
            callback=self.parse_results,
            cb_kwargs={"term": term, "page": page},
        )

    def parse_results(self, response: Response, term: str, page: int) -> Iterator[scrapy.Request]:
        if not self._page_budget_left():
            return
        self.crawler.stats.inc_value("yuqing/search_pages")
        found = [
            response.urljoin(h) for h in extract.links(response, self.source.listing.item_links)
        ]
        new = [url for url in found if url not in self._seen[term]]
        self._seen[term].update(new)
        follow, _ = self.new_links(new)  # posts captured before are re-checked, not re-fetched
        for url in follow:
            yield self.detail_request(url, self.parse_detail)
        if self.source.search.paged:
            if new:  # a page of nothing new is the end (some sites repeat their last page)
                yield self._results(term, page + 1)
            return
        for href in extract.links(response, self.source.listing.next_page)[:1]:
            yield response.follow(href, callback=self.parse_list)
