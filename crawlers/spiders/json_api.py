"""JSON APIs: each page is a JSON document holding a list of records, one post each.

sources.yaml says where the list is (`api.items`), where each field of a record is
(`fields.*`, dotted paths) and how to page: a field holding the next page's URL
(`api.next_page`) or a query parameter that counts pages (`api.page_param`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response
from w3lib.url import add_or_replace_parameter

from crawlers.dates import parse_datetime
from crawlers.extract import dig, plain
from crawlers.items import PostItem
from crawlers.spiders.base import SourceSpider
from yuqing.schema import SHANGHAI, content_sha256

_PATH = re.compile(r"\{([^{}]+)\}")


def when(value: Any) -> tuple[str | None, datetime | None]:
    """A record's date as written, and parsed: text, or Unix seconds or milliseconds."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None, None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        return str(value), datetime.fromtimestamp(seconds, SHANGHAI)
    return str(value), parse_datetime(str(value))


class JsonApiSpider(SourceSpider):
    name = "json"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._seen: set[str | None] = set()

    async def start(self) -> Any:
        for url in self.start_urls:
            yield self._page(url, self.source.api.page_start)

    def _page(self, url: str, page: int) -> scrapy.Request:
        param = self.source.api.page_param
        target = add_or_replace_parameter(url, param, str(page)) if param else url
        return scrapy.Request(target, callback=self.parse, cb_kwargs={"base": url, "page": page})

    def parse(self, response: Response, base: str, page: int) -> Iterator[Any]:
        if not self._page_budget_left():
            return
        api = self.source.api
        try:
            data = json.loads(response.text)
        except ValueError as e:
            self._bad_page(response, f"not JSON ({e})")
            return
        records = dig(data, api.items)
        if not isinstance(records, list):
            self._bad_page(response, f"no list at `api.items` ({api.items!r})")
            return
        new = 0
        for record in filter(lambda r: isinstance(r, dict), records):
            url = self._url(response, record)
            new += url not in self._seen
            self._seen.add(url)
            if item := self._record(record, url):
                yield item
        if api.next_page:
            following = dig(data, api.next_page)
            if isinstance(following, str) and following.strip():
                yield response.follow(
                    following.strip(), callback=self.parse, cb_kwargs={"base": base, "page": page}
                )
        elif api.page_param and new:  # an empty page, or the last one again, is the end
            yield self._page(base, page + 1)

    def _bad_page(self, response: Response, why: str) -> None:
        self.crawler.stats.inc_value("yuqing/api_bad_page")
        self.logger.warning(
            "%(source)s: %(url)s: %(why)s; check the source's `api` settings",
            {"source": self.name, "url": response.url, "why": why},
        )

    def _url(self, response: Response, record: dict[str, Any]) -> str | None:
        spec = self.source.fields.url
        if "{" not in spec:
            value = dig(record, spec)
            return response.urljoin(str(value)) if value not in (None, "") else None
        values = {p: dig(record, p) for p in _PATH.findall(spec)}
        if any(v in (None, "") for v in values.values()):
            return None
        return response.urljoin(_PATH.sub(lambda m: str(values[m[1]]), spec))

    def _record(self, record: dict[str, Any], url: str | None) -> PostItem | None:
        f = self.source.fields
        published_raw, published_at = when(dig(record, f.published_at))
        _, reply_at = when(dig(record, f.reply_at))
        reply = self._reply(
            plain(dig(record, f.status)),
            plain(dig(record, f.reply_text)),
            plain(dig(record, f.reply_by)),
            reply_at,
        )
        return self._post(
            url=url,
            title=plain(dig(record, f.title)) or "",
            text=plain(dig(record, f.text)),
            author=plain(dig(record, f.author)),
            published_raw=published_raw,
            published_at=published_at,
            content_sha256=content_sha256(json.dumps(record, ensure_ascii=False, sort_keys=True)),
            **reply,
        )
