"""The briefing's sentences, shared by the Markdown, HTML and DOCX writers: each is a list
of pieces, plain text or (text, link)."""

from __future__ import annotations

from collections.abc import Iterator

from dashboard.briefing.content import Briefing, Count
from dashboard.cases import STATUS_NAMES

Piece = str | tuple[str, str]  # text, or (text, url)
Line = list[Piece]


def pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.1%}"


def counted(c: Count) -> Line:
    return [f"{c.label}: ", (f"{c.count:,}", c.url)]


def sections(b: Briefing) -> Iterator[tuple[str, list[Line], str | None]]:
    """(heading, lines, chart name or None), in order."""
    change = "–"
    if b.negative_share is not None and b.previous_share is not None:
        change = f"{(b.negative_share - b.previous_share) * 100:+.1f} points"
    yield (
        "Volume and sentiment",
        [
            ["Posts this period: ", (f"{b.total.count:,}", b.total.url), " (period before: ",
             (f"{b.previous_total.count:,}", b.previous_total.url), ")"],
            ["Negative posts: ", (f"{b.negative.count:,}", b.negative.url),
             f", a share of {pct(b.negative_share)} (period before: ",
             (f"{b.previous_negative.count:,}", b.previous_negative.url),
             f", {pct(b.previous_share)}; change {change})"],
        ],
        "volume",
    )  # fmt: skip
    yield "Top themes", [counted(c) for c in b.themes] or [["No themed posts."]], "themes"
    yield "Top units", [counted(c) for c in b.units] or [["No units named."]], "units"
    yield "Notable stories", [counted(c) for c in b.stories] or [["No stories."]], None
    yield (
        "Negative posts quoted",
        [
            [f"{q.day} {q.source}: ", (q.title or "(no title)", q.url), f" — {q.text}"]
            for q in b.quotes
        ]
        or [["No negative posts."]],
        None,
    )
    alert_lines: list[Line] = []
    for a in b.alerts:
        link = a.get("dashboard_url") or ""
        title = str(a.get("title") or a.get("id"))
        head: Piece = (title, link) if link else title
        alert_lines.append(
            [
                f"[{a.get('severity', '')}, {a.get('status', '')}] ",
                head,
                f" — {a.get('summary') or ''}",
            ]
        )
    yield "Alerts", alert_lines or [["No alerts fired."]], None
    counts = b.case_counts
    case_lines: list[Line] = [
        [
            "Cases by status: "
            + ", ".join(f"{STATUS_NAMES[s]} {counts.get(s, 0)}" for s in STATUS_NAMES)
        ],
        [f"Opened this period: {len(b.new_cases)}; overdue now: {len(b.overdue_cases)}"],
    ]
    case_url = f"{b.base_url}/cases"
    for c in b.overdue_cases[:10]:
        case_lines.append(
            ["Overdue: ", (c["id"], f"{case_url}?case={c['id']}"),
             f" {c['title']} ({c['department_name']}, due {c['due']})"]
        )  # fmt: skip
    yield "Case progress (闭环)", case_lines, None
