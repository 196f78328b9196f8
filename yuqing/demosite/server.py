"""Serve the demo site over HTTP on a loopback address only.

``make_server`` builds the server; ``serve_in_thread`` also starts it on a daemon thread.
The server counts every path it serves in ``server.hits``, and fetches of the robots-forbidden
/admin/ area in ``server.admin_hits``, so tests can check that a crawler stayed polite.

``chaos=`` (a :class:`~yuqing.demosite.chaos.ChaosPlan`) serves the faults of real sites:
slow pages, transient 500s, dropped connections, broken HTML, deleted posts, a wrong charset,
empty bodies, a 5 MB page; ``server.faults_served`` counts ``(target, fault)`` as served.
``delay=`` adds a fixed latency to every response.

New posts at run time (for live tests): ``server.add_post(board, title, text, author, reply)``
in Python, or over HTTP from a loopback client::

    POST /_demo/posts   {"board": "staff", "title": "…", "text": "…", "author": "…",
                         "reply": {"org": "…", "text": "…"}}        (reply optional)

``board`` is a forum board id (``staff``, ``retirees``, ``youth``), ``message``, ``complaint``
or ``news``. The post is published now, at the top of its list; the answer is ``201`` with
``{"id", "path", "url", "published_at"}``, or ``400`` saying what is wrong. robots.txt
disallows /_demo/.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import chaos as chaos_mode
from .corpus import DemoCorpus
from .site import Response, Site, is_admin_path

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

    def __init__(
        self,
        address: tuple[str, int],
        corpus: DemoCorpus,
        chaos: chaos_mode.ChaosPlan | None = None,
        delay: float = 0.0,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.corpus = corpus
        self.site = Site(corpus)
        self.add_post = self.site.add_post  # publish a post now, at the top of its list
        self.chaos = chaos
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()  # per request target, query included
        self.faults_served: Counter[tuple[str, str]] = Counter()
        self.admin_hits = 0
        self._lock = threading.Lock()
        super().__init__(address, DemoHandler)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{host}:{port}"

    def record(self, path: str, target: str | None = None) -> int:
        """Count a request for ``path`` (thread-safe); warn on /admin/.

        Returns how many times ``target`` (default: ``path``) has been requested, this one included.
        """
        with self._lock:
            self.hits[path] += 1
            self.attempts[target or path] += 1
            attempt = self.attempts[target or path]
            if is_admin_path(path):
                self.admin_hits += 1
        if is_admin_path(path):
            logger.warning("Demo site: %(path)s fetched, which robots.txt forbids", {"path": path})
        return attempt

    def served_fault(self, target: str, fault: str) -> None:
        with self._lock:
            self.faults_served[(target, fault)] += 1


class DemoHandler(BaseHTTPRequestHandler):
    """Serves ``server.site``; quiet (logs requests at DEBUG)."""

    server: DemoServer
    server_version = "YuqingDemo/1.0"

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.server.record(path)
        if path != "/_demo/posts":
            self._send(Response(405, "text/plain; charset=utf-8", b"POST only to /_demo/posts\n"))
            return
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self._send(Response(403, "text/plain; charset=utf-8", b"loopback clients only\n"))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            data = json.loads(self.rfile.read(length) or b"{}")
            post = self.server.add_post(
                str(data.get("board") or data.get("section") or ""),
                str(data.get("title", "")),
                str(data.get("text", "")),
                str(data.get("author", "")),
                data.get("reply"),
            )
        except (ValueError, AttributeError, TypeError) as e:
            self._send(Response(400, "application/json", _json({"error": str(e)})))
            return
        body = {
            "id": post.id,
            "path": post.path,
            "url": self._base_url() + post.path,
            "published_at": post.published_at.isoformat(),
        }
        self._send(Response(201, "application/json", _json(body)))

    def _respond(self, with_body: bool) -> None:
        path = urlsplit(self.path).path
        attempt = self.server.record(path, self.path)
        chaos = self.server.chaos
        fault = chaos.fault(self.path, path) if chaos else None
        if self.server.delay:
            time.sleep(self.server.delay)
        if fault is not None:
            self.server.served_fault(self.path, fault)
        if fault == "slow":
            time.sleep(chaos.slow_seconds)
        if chaos and chaos.fails(fault, attempt):
            if fault == "drop":
                self.close_connection = True  # no status line, no headers: the socket closes
                return
            self._send(Response(500, "text/plain; charset=utf-8", b"500 Internal Server Error\n"))
            return
        response = self.server.site.respond(self.path, self._base_url())
        if chaos:
            response = chaos_mode.apply(fault, response, self.server.corpus)
        self._send(response, with_body)

    def _send(self, response: Response, with_body: bool = True) -> None:
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


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def make_server(
    corpus: DemoCorpus,
    host: str = "127.0.0.1",
    port: int = 0,
    chaos: chaos_mode.ChaosPlan | None = None,
    delay: float = 0.0,
) -> DemoServer:
    """A server for ``corpus`` bound to ``host:port`` (port 0 picks a free one); not started."""
    return DemoServer((loopback_host(host), port), corpus, chaos, delay)


def serve_in_thread(
    corpus: DemoCorpus, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> tuple[DemoServer, str]:
    """Start a server on a daemon thread (``options``: ``chaos``, ``delay``). Returns it and its URL.

    The caller stops it with ``server.shutdown(); server.server_close()``.
    """
    server = make_server(corpus, host, port, **options)
    thread = threading.Thread(target=server.serve_forever, name="yuqing-demosite", daemon=True)
    thread.start()
    logger.info("Demo site serving at %(url)s", {"url": server.base_url})
    return server, server.base_url
