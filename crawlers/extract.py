"""Apply what sources.yaml says: CSS or `xpath:` selectors on HTML, dotted paths into JSON."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lxml import etree
from parsel import Selector
from parsel.csstranslator import GenericTranslator, HTMLTranslator
from w3lib.html import remove_tags, replace_entities

XPATH_PREFIX = "xpath:"
_BREAK = re.compile(r"<\s*(br\s*/?|/p|/div|/li)\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_TEXT = etree.XPath(".//text()")


_TRANSLATORS = {"html": HTMLTranslator(), "xml": GenericTranslator()}  # as parsel's


@lru_cache(maxsize=1024)
def _compiled(selector: str, kind: str, namespaces: tuple[tuple[str, str], ...]) -> etree.XPath:
    """A configured selector as compiled XPath, once: CSS translated as parsel translates it
    for an HTML or XML document, with the document's namespaces (parsel's `re:` and `set:`)."""
    if selector.startswith(XPATH_PREFIX):
        expr = selector.removeprefix(XPATH_PREFIX).strip()
    else:
        expr = _TRANSLATORS[kind].css_to_xpath(selector)
    try:
        return etree.XPath(expr, namespaces=dict(namespaces), smart_strings=False)
    except etree.XPathError as e:  # as parsel reports it
        raise ValueError(f"XPath error: {e} in {expr}") from e


def find(node: Any, selector: str) -> list[Any]:
    """What a configured selector finds in a response or parsel `Selector`, as lxml results
    (elements or strings): what parsel's `css`/`xpath` find, without parsel's wrapping of each
    result (the spiders apply a few selectors to every page: this halves the cost)."""
    page = node.selector if hasattr(node, "selector") else node
    kind = "xml" if page.type == "xml" else "html"
    xpath = _compiled(selector, kind, tuple(sorted(page.namespaces.items())))
    try:
        found = xpath(page.root)
    except etree.XPathError as e:
        raise ValueError(f"XPath error: {e} in {selector}") from e
    return found if isinstance(found, list) else [found]


def links(node: Selector, selector: str | None) -> list[str]:
    """The hrefs a selector picks (it should end in `::attr(href)` or `/@href`)."""
    if not selector:
        return []
    return [str(v).strip() for v in find(node, selector) if isinstance(v, str) and v.strip()]


def _node_text(found: Any) -> str | None:
    if isinstance(found, str):  # ::text, ::attr() or an XPath string
        value = found.strip()
    elif isinstance(found, (bool, float)):  # an XPath count() or boolean
        value = str(found)
    else:
        value = "\n".join(p for p in (t.strip() for t in _TEXT(found)) if p)
    return value or None


def text(node: Selector, selector: str | None) -> str | None:
    """The text of the first matching element, paragraphs kept as lines."""
    if not selector:
        return None
    found = find(node, selector)
    return _node_text(found[0]) if found else None


def texts(node: Selector, selector: str | None, limit: int) -> list[str]:
    """The text of each matching element (up to `limit`), each on one line."""
    if not selector or limit <= 0:
        return []
    found = (_node_text(f) for f in find(node, selector))
    return [" ".join(t.split("\n")) for t in found if t][:limit]


def dig(data: Any, path: str | None) -> Any:
    """The value at a dotted path (`data.list`, `user.name`, `replies.0.text`); "" is `data`."""
    if path is None:
        return None
    for part in (p for p in path.split(".") if p):
        if isinstance(data, dict):
            data = data.get(part)
        elif (
            isinstance(data, list)
            and part.lstrip("-").isdigit()
            and -len(data) <= int(part) < len(data)
        ):
            data = data[int(part)]
        else:
            return None
    return data


def plain(value: Any) -> str | None:
    """A JSON value as text: HTML fragments lose their tags and entities, lines are kept."""
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value)
    if _TAG.search(value):
        value = remove_tags(_BREAK.sub("\n", value))
    value = replace_entities(value)
    lines = (line.strip() for line in value.splitlines())
    return "\n".join(line for line in lines if line) or None
