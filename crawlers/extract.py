"""Apply the selectors written in sources.yaml: CSS by default, `xpath:` for XPath."""

from __future__ import annotations

from parsel import Selector, SelectorList

XPATH_PREFIX = "xpath:"


def select(node: Selector, selector: str) -> SelectorList:
    if selector.startswith(XPATH_PREFIX):
        return node.xpath(selector.removeprefix(XPATH_PREFIX).strip())
    return node.css(selector)


def links(node: Selector, selector: str | None) -> list[str]:
    """The hrefs a selector picks (it should end in `::attr(href)` or `/@href`)."""
    if not selector:
        return []
    return [v.strip() for v in select(node, selector).getall() if v and v.strip()]


def text(node: Selector, selector: str | None) -> str | None:
    """The text of the first matching element, paragraphs kept as lines."""
    if not selector:
        return None
    found = select(node, selector)
    if not found:
        return None
    first = found[0]
    if isinstance(first.root, str):  # ::text, ::attr() or an XPath string
        value = first.root.strip()
    else:
        parts = (t.strip() for t in first.xpath(".//text()").getall())
        value = "\n".join(p for p in parts if p)
    return value or None
