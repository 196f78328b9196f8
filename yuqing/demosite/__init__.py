"""A fictional enterprise's public web, served on 127.0.0.1 for demos and crawler tests.

``generate(seed, today)`` builds a deterministic corpus of forum threads, news items and
leadership-message-board messages, each with its ground-truth themes and sentiment, including
one injected negative spike. ``serve_in_thread(corpus)`` serves it: a paginated forum (one
board in GBK), an RSS news feed, a message board with official replies, robots.txt and a
forbidden /admin/ area whose fetches are counted in ``server.admin_hits``.
"""

from .corpus import DemoCorpus, DemoPost, DemoReply, generate
from .server import DemoServer, make_server, serve_in_thread

__all__ = [
    "DemoCorpus",
    "DemoPost",
    "DemoReply",
    "DemoServer",
    "generate",
    "make_server",
    "serve_in_thread",
]
