"""The demo site's Chinese text templates, read from ``templates.txt`` next to this module.

The data file holds one block per template (its header comment describes the format). Each
post template carries the ground truth its text implies: theme ids from TAXONOMY.md and the
author's sentiment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources

logger = logging.getLogger(__name__)

SENTIMENTS = ("negative", "neutral", "positive")
KINDS = ("post", "spike", "news", "reply")


@dataclass(frozen=True)
class Template:
    """A post or news template. ``where`` lists the places it fits: s, r, y (boards), m, n."""

    themes: tuple[str, ...]
    sentiment: str
    where: str
    title: str
    paragraphs: tuple[str, ...]
    unit: str | None = None  # a fixed unit for ``{unit}``; None draws one at random

    @property
    def mentions_unit(self) -> bool:
        return any("{unit}" in s for s in (self.title, *self.paragraphs))


@dataclass(frozen=True)
class ReplyTemplate:
    """An official reply: ``key`` is the theme it answers, or "thanks" for praise."""

    key: str
    org: str
    text: str


@dataclass(frozen=True)
class TemplateSet:
    posts: tuple[Template, ...]
    spike: tuple[Template, ...]
    news: tuple[Template, ...]
    replies: dict[str, ReplyTemplate]


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Split the file into (line number, lines) blocks, each starting with a [header]."""
    blocks: list[tuple[int, list[str]]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            blocks.append((lineno, [line]))
        elif not blocks:
            raise ValueError(f"templates.txt:{lineno}: text before the first [header]")
        else:
            blocks[-1][1].append(line)
    return blocks


def _parse_template(lineno: int, fields: list[str], body: list[str]) -> Template:
    if len(fields) < 3 or len(body) < 2:
        raise ValueError(f"templates.txt:{lineno}: need THEMES SENTIMENT WHERE, a title, a text")
    themes, sentiment, where, *options = fields
    if sentiment not in SENTIMENTS:
        raise ValueError(f"templates.txt:{lineno}: unknown sentiment {sentiment!r}")
    unit = None
    for option in options:
        key, _, value = option.partition("=")
        if key != "unit" or not value:
            raise ValueError(f"templates.txt:{lineno}: unknown option {option!r}")
        unit = value
    return Template(tuple(themes.split(",")), sentiment, where, body[0], tuple(body[1:]), unit)


def parse(text: str) -> TemplateSet:
    """Parse the template file format; raises ValueError naming the bad line."""
    found: dict[str, list[Template]] = {"post": [], "spike": [], "news": []}
    replies: dict[str, ReplyTemplate] = {}
    for lineno, (header, *body) in _blocks(text):
        if not header.endswith("]"):
            raise ValueError(f"templates.txt:{lineno}: unclosed header {header!r}")
        kind, *fields = header[1:-1].split()
        if kind not in KINDS:
            raise ValueError(f"templates.txt:{lineno}: unknown block kind {kind!r}")
        if kind == "reply":
            if len(fields) != 2 or not body:
                raise ValueError(f"templates.txt:{lineno}: a reply needs KEY ORG and a text")
            replies[fields[0]] = ReplyTemplate(fields[0], fields[1], "\n".join(body))
        else:
            found[kind].append(_parse_template(lineno, fields, body))
    return TemplateSet(tuple(found["post"]), tuple(found["spike"]), tuple(found["news"]), replies)


@cache
def load() -> TemplateSet:
    """The packaged templates (parsed once)."""
    text = resources.files(__package__).joinpath("templates.txt").read_text(encoding="utf-8")
    templates = parse(text)
    logger.debug(
        "Loaded %(posts)d post, %(spike)d spike, %(news)d news and %(replies)d reply templates",
        {
            "posts": len(templates.posts),
            "spike": len(templates.spike),
            "news": len(templates.news),
            "replies": len(templates.replies),
        },
    )
    return templates
