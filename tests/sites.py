"""Serve the fixture site (tests/fixtures/sources_site/) on 127.0.0.1, on a free port.

Files are served as they are, with three dynamic routes a real site would have:
`/search?kw=TERM&p=PAGE` (UTF-8) and `/search-gbk?kw=TERM&p=PAGE` (GBK) list the pages
that `search/index.json` gives for TERM, two per page, with a link to the next page, and
repeat the last page past the end as some sites do; `/api/posts?page=N` is
`api/posts-N.json`, an empty list past the last page, and `/api/posts-repeating?page=N` the
same but the last page again past the end.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

ROOT = Path(__file__).resolve().parent / "fixtures" / "sources_site"
PAGE_SIZE = 2
LAST_API_PAGE = 2
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/rss+xml",
}
EMPTY_API_PAGE = b'{"code": 0, "data": {"items": []}}'


class FixtureSite(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()  # path -> requests
        self.queries: list[tuple[str, dict[str, list[str]]]] = []  # search requests, decoded

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FixtureSite

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.hits[parts.path] += 1
        if parts.path in ("/search", "/search-gbk"):
            encoding = "gbk" if parts.path.endswith("gbk") else "utf-8"
            query = parse_qs(parts.query, encoding=encoding)
            self.server.queries.append((parts.path, query))
            term, page = query.get("kw", [""])[0], int(query.get("p", ["1"])[0])
            body = _results(parts.path, term, page, encoding)
            return self._send(200, body.encode("utf-8"), TYPES[".html"])
        if parts.path in ("/api/posts", "/api/posts-repeating"):
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            if parts.path.endswith("repeating"):
                page = min(page, LAST_API_PAGE)
            path = ROOT / "api" / f"posts-{page}.json"
            data = path.read_bytes() if path.is_file() else EMPTY_API_PAGE
            return self._send(200, data, TYPES[".json"])
        path = (ROOT / parts.path.lstrip("/")).resolve()
        if ROOT not in path.parents or not path.is_file():
            return self._send(404, b"not found", "text/plain")
        self._send(200, path.read_bytes(), TYPES.get(path.suffix, "text/plain; charset=utf-8"))

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _results(path: str, term: str, page: int, encoding: str) -> str:
    index = json.loads((ROOT / "search" / "index.json").read_text(encoding="utf-8"))
    found = index.get(term, [])
    pages = max(1, -(-len(found) // PAGE_SIZE))
    start = (min(page, pages) - 1) * PAGE_SIZE  # past the end: the last page again
    items = "\n".join(
        f'<li><a class="hit" href="{escape(p)}">{escape(p)}</a></li>'
        for p in found[start : start + PAGE_SIZE]
    )
    more = ""
    if page < pages:
        href = f"{path}?kw={quote(term, encoding=encoding)}&p={page + 1}"
        more = f'<a class="next" href="{escape(href)}">下一页</a>'
    return (
        f"<!DOCTYPE html><html><body><h1>{escape(term)}</h1>"
        f'<ul class="results">{items}</ul>{more}</body></html>'
    )


def serve() -> FixtureSite:
    """Start the site in a thread; call .shutdown() and .server_close() when done."""
    site = FixtureSite()
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site
