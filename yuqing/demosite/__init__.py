"""A fictional enterprise's public web, served on 127.0.0.1 for demos and crawler tests.

``generate(seed, today)`` builds a deterministic corpus of forum threads, news items,
leadership-message-board messages and complaints, each with its ground-truth themes and
sentiment, including one injected negative spike. ``serve_in_thread(corpus)`` serves it: a
paginated forum (one board in GBK), an RSS news feed, a paginated message board with official
replies, a paginated complaint site (status and the company's response), robots.txt and a
forbidden /admin/ area whose fetches are counted in ``server.admin_hits``.

``serve_in_thread(corpus, chaos=chaos.plan(corpus, seed))`` serves it in chaos mode (see
:mod:`yuqing.demosite.chaos`); ``server.add_post(...)`` or ``POST /_demo/posts`` publishes a new
post while it runs (see :mod:`yuqing.demosite.server`).
"""

from .chaos import ChaosPlan, plan
from .corpus import DemoCorpus, DemoPost, DemoReply, generate
from .server import DemoServer, make_server, serve_in_thread

__all__ = [
    "ChaosPlan",
    "DemoCorpus",
    "DemoPost",
    "DemoReply",
    "DemoServer",
    "generate",
    "make_server",
    "plan",
    "serve_in_thread",
]
