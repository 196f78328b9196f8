"""Show untrusted text (crawled titles, snippets, URLs) as text, never as markup.

Streamlit renders markdown with its own extensions (`:red[…]`, `:material/…:`, `$…$`), so
every ASCII punctuation character is backslash-escaped, which CommonMark allows for all of
them, and line breaks become spaces.
"""

from __future__ import annotations

import re
import string

_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_HTTP = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """`text` as markdown that displays exactly `text`, on one line."""
    return _SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", text or "").strip())


def http_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL (safe for a link button), else None."""
    if url and _HTTP.match(url.strip()):
        return url.strip()
    return None


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.1%}"
