"""Chaos mode: the faults real sites have, served deterministically for crawler tests.

``plan(corpus, seed)`` assigns faults to the demo site's detail pages (forum threads,
message-board messages, complaints: the pages the crawler fetches one post from), ``per_kind``
pages for each fault, drawn from ``random.Random(f"chaos:{seed}")``, and gives a share of the
other pages (lists, board indexes, the RSS feed) a transient fault. The same seed gives the same
plan. Faults:

========================  ==================================================================
``slow``                  answered after ``slow_seconds``
``error500``              ``500`` the first ``ERROR_TIMES`` times, then the page (a retry wins)
``drop``                  the first request's connection closed without a response, then the page
``broken_html``           closing ``</p>``/``</li>`` tags removed, the page cut off in its footer;
                          the post itself is intact
``gone404``, ``gone410``  the post is gone: ``404`` or ``410``
``deleted``               ``200`` with a notice, ``该帖已被删除``, instead of the post
``wrong_charset``         the body in one charset, the header and ``<meta>`` naming the other
``empty``                 ``200`` with an empty body
``huge``                  the page padded to ``HUGE_BYTES`` (5 MB) with an HTML comment
========================  ==================================================================

Only the first three and ``broken_html`` are retrievable: a crawler should store those posts
with their exact text, and quarantine the others with a reason (or mark a known post deleted).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

from . import pages
from .corpus import DemoCorpus
from .site import Response

logger = logging.getLogger(__name__)

TRANSIENT = ("slow", "error500", "drop")
FAULTS = (
    *TRANSIENT,
    "broken_html",
    "gone404",
    "gone410",
    "deleted",
    "wrong_charset",
    "empty",
    "huge",
)
RETRIEVABLE = frozenset({*TRANSIENT, "broken_html"})
ERROR_TIMES = 2
HUGE_BYTES = 5 * 1024 * 1024
_DETAIL_KINDS = ("forum", "message", "complaint")
_NEVER = ("/robots.txt",)


@dataclass(frozen=True)
class ChaosPlan:
    """Which fault each page gets. ``faults`` maps a detail path to its fault."""

    seed: int
    faults: dict[str, str]
    list_share: float = 0.3
    slow_seconds: float = 0.3
    failures: dict[str, int] = field(default_factory=lambda: {"error500": ERROR_TIMES, "drop": 1})

    def fault(self, target: str, path: str) -> str | None:
        """The fault of a request target (path and query); None serves the page as it is."""
        if path in self.faults:
            return self.faults[path]
        if path in _NEVER or path.startswith("/_demo/") or path.startswith("/admin"):
            return None
        rng = random.Random(f"chaos:{self.seed}:{target}")
        return rng.choice(TRANSIENT) if rng.random() < self.list_share else None

    def fails(self, fault: str | None, attempt: int) -> bool:
        """Whether request number ``attempt`` (1-based) of a page with ``fault`` fails."""
        return fault in self.failures and attempt <= self.failures[fault]

    def paths(self, *faults: str) -> list[str]:
        """The detail paths with any of ``faults``, sorted."""
        return sorted(p for p, f in self.faults.items() if f in faults)


def plan(corpus: DemoCorpus, seed: int = 0, per_kind: int = 3) -> ChaosPlan:
    """A deterministic plan: ``per_kind`` detail pages for each fault, the rest served as-is."""
    paths = sorted(p.path for p in corpus.posts if p.kind in _DETAIL_KINDS)
    random.Random(f"chaos:{seed}").shuffle(paths)
    faults = {
        path: fault
        for i, fault in enumerate(FAULTS)
        for path in paths[i * per_kind : (i + 1) * per_kind]
    }
    return ChaosPlan(seed=seed, faults=faults)


def apply(fault: str | None, response: Response, corpus: DemoCorpus) -> Response:
    """``response`` as the fault changes it (``slow`` and ``drop`` are the server's part)."""
    if response.status != 200 or fault in (None, *TRANSIENT):
        return response
    charset = "gbk" if response.content_type.endswith("gbk") else "utf-8"
    if fault in ("gone404", "gone410"):
        status = 404 if fault == "gone404" else 410
        return Response(status, response.content_type, pages.not_found(corpus).encode(charset))
    if fault == "deleted":
        return Response(200, response.content_type, pages.deleted(corpus, charset).encode(charset))
    if fault == "empty":
        return Response(200, response.content_type, b"")
    text = response.body.decode(charset)
    if fault == "broken_html":
        text = text.replace("</p>", "").replace("</li>", "")
        text = text[: text.index("<footer>") + len("<footer><p>本站")]
        return Response(200, response.content_type, text.encode(charset))
    if fault == "wrong_charset":
        other = "utf-8" if charset == "gbk" else "gbk"
        return Response(200, response.content_type, text.encode(other))
    padding = "<!-- " + "x" * HUGE_BYTES + " -->\n"
    return Response(
        200, response.content_type, text.replace("</body>", padding + "</body>").encode(charset)
    )
