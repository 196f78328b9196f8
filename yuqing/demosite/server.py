"""Serve the demo site over HTTP on a loopback address only.

``make_server`` builds the server; ``serve_in_thread`` also starts it on a daemon thread.
The server counts every path it serves in ``server.hits``, and fetches of the robots-forbidden
/admin/ area in ``server.admin_hits``, so tests can check that a crawler stayed polite.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .corpus import DemoCorpus, DemoPost, with_post
from .site import Site, is_admin_path

logger = logging.getLogger(__name__)

# A Host header we are willing to echo into absolute links (host name or [IPv6], optional port).
_HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def loopback_host(host: str) -> str:
    """``host`` as a loopback IP address; raises ValueError for anything else."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError as e:
        raise ValueError(
            f"the demo site binds only to a loopback address (127.0.0.1 or ::1), not {host!r}"
        ) from e
    if not address.is_loopback:
        raise ValueError(
            f"the demo site binds only to a loopback address (127.0.0.1 or ::1), not {host!r}: "
            "it is a fictional site for tests and demos and must not be reachable from outside"
        )
    return str(address)


class DemoServer(ThreadingHTTPServer):
    """A threading HTTP server for one demo corpus, with hit counters."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], corpus: DemoCorpus) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.corpus = corpus
        self.site = Site(corpus)
        self.hits: Counter[str] = Counter()
        self.admin_hits = 0
        self._lock = threading.Lock()
        super().__init__(address, DemoHandler)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{host}:{port}"

    def add_post(self, data: dict[str, Any]) -> DemoPost:
        """Add a post at runtime (``POST /_demo/posts``): JSON {section: forum|board|news,
        board (forum only), title, text, author}. Raises ValueError on a bad request."""
        section = data.get("section", "forum")
        kind = {"forum": "forum", "board": "message", "news": "news"}.get(section, section)
        fields = {k: data.get(k) for k in ("title", "text", "author")}
        if not all(isinstance(v, str) and v.strip() for v in fields.values()):
            raise ValueError("title, text and author are required strings")
        board = data.get("board") or (next(iter(self.corpus.boards)) if kind == "forum" else None)
        with self._lock:
            self.corpus, post = with_post(self.corpus, kind, board=board, **fields)
            self.site = Site(self.corpus)
        return post

    def record(self, path: str) -> None:
        """Count a request for ``path`` (thread-safe); warn on /admin/."""
        with self._lock:
            self.hits[path] += 1
            if is_admin_path(path):
                self.admin_hits += 1
        if is_admin_path(path):
            logger.warning("Demo site: %(path)s fetched, which robots.txt forbids", {"path": path})


class DemoHandler(BaseHTTPRequestHandler):
    """Serves ``server.site``; quiet (logs requests at DEBUG)."""

    server: DemoServer
    server_version = "YuqingDemo/1.0"

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/_demo/posts":
            self._send(404, "application/json", b'{"error": "not found"}')
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            post = self.server.add_post(json.loads(self.rfile.read(length) or b"{}"))
        except (ValueError, TypeError) as e:
            self._send(400, "application/json", json.dumps({"error": str(e)}).encode())
            return
        answer = {"id": post.id, "path": post.path, "url": self._base_url() + post.path}
        answer["published_at"] = post.published_at.isoformat()
        self._send(201, "application/json", json.dumps(answer).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _respond(self, with_body: bool) -> None:
        self.server.record(urlsplit(self.path).path)
        response = self.server.site.respond(self.path, self._base_url())
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(response.body)

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        if _HOST_HEADER.fullmatch(host):
            return f"http://{host}"
        return self.server.base_url

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


def make_server(corpus: DemoCorpus, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """A server for ``corpus`` bound to ``host:port`` (port 0 picks a free one); not started."""
    return DemoServer((loopback_host(host), port), corpus)


def serve_in_thread(
    corpus: DemoCorpus, host: str = "127.0.0.1", port: int = 0
) -> tuple[DemoServer, str]:
    """Start a server on a daemon thread. Returns it and its base URL.

    The caller stops it with ``server.shutdown(); server.server_close()``.
    """
    server = make_server(corpus, host, port)
    thread = threading.Thread(target=server.serve_forever, name="yuqing-demosite", daemon=True)
    thread.start()
    logger.info("Demo site serving at %(url)s", {"url": server.base_url})
    return server, server.base_url
