"""A search as plain data and as a URL: the search page's widgets, alert links and briefing
links all use these query parameters, so a link opens exactly the posts it counts.

    /search?q=工资&themes=wages&units=第三采油厂&sentiments=negative&since=2026-03-01

Lists repeat a parameter (`themes=wages&themes=welfare`); `deleted` and `replied` are `yes` or
`no`; `since` and `until` are Asia/Shanghai days, `until` exclusive (as `yuqing search`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any
from urllib.parse import parse_qs, urlencode

from index.base import SearchQuery
from yuqing.schema import SHANGHAI

LISTS = {  # query parameter -> Filters field
    "themes": "themes",
    "sentiments": "sentiments",
    "sources": "sources",
    "platforms": "platforms",
    "units": "units",
    "stories": "story_ids",
}
FLAGS = ("deleted", "replied")
DAYS = ("since", "until")
YES_NO = {"yes": True, "no": False}


def parse_day(value: Any) -> str | None:
    """`value` as a YYYY-MM-DD day, or None if it is not one."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        return None


def _midnight(day: str | None) -> datetime | None:
    if not day:
        return None
    return datetime.combine(date.fromisoformat(day), time(0, 0), tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Filters:
    text: str = ""
    themes: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    story_ids: tuple[str, ...] = ()
    deleted: bool | None = None
    replied: bool | None = None
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None  # YYYY-MM-DD, exclusive

    def query(self, **page: Any) -> SearchQuery:
        """The store query; `page` adds limit, offset, sort or after."""
        return SearchQuery(
            text=self.text.strip(),
            themes=self.themes,
            sentiments=self.sentiments,
            sources=self.sources,
            platforms=self.platforms,
            units=self.units,
            story_ids=self.story_ids,
            deleted=self.deleted,
            replied=self.replied,
            since=_midnight(self.since),
            until=_midnight(self.until),
            **page,
        )

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str]]) -> Filters:
        """From `st.query_params.to_dict()`-like or `parse_qs` mappings; bad values are dropped."""

        def values(key: str) -> list[str]:
            raw = params.get(key, [])
            items = [raw] if isinstance(raw, str) else list(raw)
            return [v for v in (i.strip() for i in items) if v]

        def flag(key: str) -> bool | None:
            got = values(key)
            return YES_NO.get(got[0].lower()) if got else None

        def day(key: str) -> str | None:
            got = values(key)
            return parse_day(got[0]) if got else None

        text = values("q")
        return cls(
            text=text[0] if text else "",
            **{name: tuple(dict.fromkeys(values(key))) for key, name in LISTS.items()},
            deleted=flag("deleted"),
            replied=flag("replied"),
            since=day("since"),
            until=day("until"),
        )

    @classmethod
    def from_query_string(cls, query_string: str) -> Filters:
        return cls.from_params(parse_qs(query_string.lstrip("?")))

    def params(self) -> list[tuple[str, str]]:
        """As query parameters, in a fixed order; empty filters are left out."""
        out: list[tuple[str, str]] = [("q", self.text)] if self.text.strip() else []
        for key, name in LISTS.items():
            out += [(key, v) for v in getattr(self, name)]
        for key in FLAGS:
            value = getattr(self, key)
            if value is not None:
                out.append((key, "yes" if value else "no"))
        out += [(key, getattr(self, key)) for key in DAYS if getattr(self, key)]
        return out

    def link_params(self) -> dict[str, str | list[str]]:
        """For `st.page_link(query_params=…)`: repeated parameters as lists."""
        out: dict[str, str | list[str]] = {}
        for key, value in self.params():
            if key in LISTS:
                out.setdefault(key, [])
                out[key].append(value)  # type: ignore[union-attr]
            else:
                out[key] = value
        return out

    def query_string(self) -> str:
        return urlencode(self.params())

    def url(self, base_url: str) -> str:
        """The dashboard's search page for these filters."""
        qs = self.query_string()
        return f"{base_url.rstrip('/')}/search" + (f"?{qs}" if qs else "")

    def describe(self) -> str:
        """In words, for export file headers and the audit log."""
        return "; ".join(f"{k}={v}" for k, v in self.params()) or "all posts"

    def is_empty(self) -> bool:
        return self == Filters()


FILTER_FIELDS = tuple(f.name for f in fields(Filters))
