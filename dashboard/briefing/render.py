"""The briefing as Markdown or HTML. Crawled text is escaped in both; charts are inline PNGs
in HTML (data URIs), and named files beside a Markdown file when it is written to disk."""

from __future__ import annotations

import base64
import html
import re

from dashboard.briefing.content import Briefing
from dashboard.briefing.text import Line, sections

_SPACE = re.compile(r"\s+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", str(text)))


def _md_line(line: Line) -> str:
    return "".join(
        md_escape(p) if isinstance(p, str) else f"[{md_escape(p[0])}](<{p[1]}>)" for p in line
    )


def to_markdown(b: Briefing, chart_files: dict[str, str] | None = None) -> str:
    """`chart_files`: chart name -> relative file name to show as images."""
    out = [f"# {md_escape(b.title)}", "", f"Generated {b.generated_at:%Y-%m-%d %H:%M %Z}.", ""]
    for heading, lines, chart in sections(b):
        out += [f"## {md_escape(heading)}", ""]
        out += [f"- {_md_line(line)}" for line in lines]
        if chart and chart_files and chart in chart_files:
            out += ["", f"![{chart}]({chart_files[chart]})"]
        out.append("")
    return "\n".join(out)


def _html_line(line: Line) -> str:
    return "".join(
        html.escape(p)
        if isinstance(p, str)
        else f'<a href="{html.escape(p[1], quote=True)}">{html.escape(p[0])}</a>'
        for p in line
    )


def to_html(b: Briefing, charts: dict[str, bytes]) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        f"<title>{html.escape(b.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.5}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(b.title)}</h1>",
        f"<p>Generated {b.generated_at:%Y-%m-%d %H:%M %Z}.</p>",
    ]
    for heading, lines, chart in sections(b):
        parts.append(f"<h2>{html.escape(heading)}</h2><ul>")
        parts += [f"<li>{_html_line(line)}</li>" for line in lines]
        parts.append("</ul>")
        if chart and chart in charts:
            data = base64.b64encode(charts[chart]).decode("ascii")
            parts.append(f'<img alt="{chart}" src="data:image/png;base64,{data}">')
    parts.append("</body></html>")
    return "\n".join(parts)
