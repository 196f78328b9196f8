"""One call for the CLI and the page: build a briefing and write it in a format."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from dashboard import audit
from dashboard.auth import User, require
from dashboard.briefing import charts, content, render
from dashboard.briefing.docx import to_docx
from index.base import Store
from index.records import RecordStore

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "md": "text/markdown",
}


def render_briefing(b: content.Briefing, fmt: str) -> bytes:
    """The briefing as file content. Markdown has no charts inline (see `write_files`)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "md":
        return render.to_markdown(b).encode("utf-8")
    pictures = charts.all_charts(b)
    return render.to_html(b, pictures).encode("utf-8") if fmt == "html" else to_docx(b, pictures)


def make(
    store: Store,
    records: RecordStore,
    period: str,
    day: date,
    fmt: str,
    base_url: str,
    theme_names: Mapping[str, str],
    actor: User | None = None,
) -> tuple[content.Briefing, bytes]:
    """Build and render a briefing; from the dashboard (`actor` given) officers only, audited."""
    if actor is not None:
        require(actor, "officer", "make briefings")
    b = content.build(store, records, period, day, base_url, theme_names)
    data = render_briefing(b, fmt)
    audit.record(
        records, "report", actor.name if actor else "cli", period=period, day=str(day), format=fmt
    )
    return b, data


def write_markdown_with_charts(b: content.Briefing, out: Path) -> list[Path]:
    """A Markdown file and its charts as PNG files beside it (`NAME-volume.png`, …)."""
    written = []
    names = {}
    for name, png in charts.all_charts(b).items():
        path = out.with_name(f"{out.stem}-{name}.png")
        path.write_bytes(png)
        names[name] = path.name
        written.append(path)
    out.write_text(render.to_markdown(b, names), encoding="utf-8")
    return [out, *written]


def default_name(b: content.Briefing, fmt: str) -> str:
    return f"briefing-{b.period}-{b.until.fromordinal(b.until.toordinal() - 1)}.{fmt}"
