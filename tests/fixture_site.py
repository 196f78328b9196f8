"""A tiny web site on 127.0.0.1 for crawler edge cases: each path answers what a test sets.

`site.pages[path] = Page(body, content_type, status, headers)`; a callable value is called
with the hit count of that path (1, 2, …) and returns the Page. Every request is logged with
its time in `site.log`. `board_config` writes a sources.yaml entry for the site's board.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


ROBOTS = Page(b"User-agent: *\nDisallow: /private/\n", "text/plain")


class FixtureSite:
    def __init__(self) -> None:
        self.pages: dict[str, Page | Callable[[int], Page]] = {"/robots.txt": ROBOTS}
        self.log: list[tuple[float, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.log.append((time.monotonic(), self.path))
                found = site.pages.get(self.path)
                if callable(found):
                    found = found(sum(1 for _, p in site.log if p == self.path))
                page = found or Page(b"<html><body>not found</body></html>", status=404)
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                for name, value in page.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hits(self, path: str) -> list[float]:
        return [t for t, p in self.log if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def html(body: str, charset: str = "utf-8", meta: str | None = None) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<html><head>{head}<title>t</title></head><body>{body}</body></html>"


def thread_page(title: str, text: str, when: str = "2026-01-05 10:00", author: str = "u1") -> str:
    return html(
        f'<h1 class="title">{title}</h1><span class="author">{author}</span>'
        f'<span class="time">{when}</span><div class="content">{text}</div>'
    )


def list_page(links: list[str], next_page: str | None = None) -> str:
    items = "".join(f'<li><a class="t" href="{href}">x</a></li>' for href in links)
    nxt = f'<a class="next" href="{next_page}">next</a>' if next_page else ""
    return html(f"<ul>{items}</ul>{nxt}")


def board_config(
    config_dir: Path, name: str, start: str, settings: dict[str, Any] | None = None
) -> None:
    """sources.yaml with one board source on the fixture site; `settings` go under crawl:."""
    (config_dir / "sources.yaml").write_text(
        f"""sources:
  - name: {name}
    type: board
    platform: forum
    start_urls: ["{start}"]
    download_delay: 0
    list:
      item_links: "li a.t::attr(href)"
      next_page: "a.next::attr(href)"
    detail:
      title: "h1.title"
      text: "div.content"
      author: "span.author"
      published_at: "span.time"
""",
        encoding="utf-8",
    )
    if settings:
        set_crawl(config_dir, **settings)


def set_crawl(config_dir: Path, **values: Any) -> None:
    """Change keys under `crawl:` in the copy of settings.yaml."""
    path = config_dir / "settings.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["crawl"].update(values)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
