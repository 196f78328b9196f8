"""The briefing's charts as PNG images (matplotlib, no display needed)."""

from __future__ import annotations

import io
import logging

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib import pyplot as plt

from dashboard.briefing.content import Briefing, Count

logger = logging.getLogger(__name__)

COLOURS = {
    "negative": "#d62728",
    "neutral": "#9e9e9e",
    "positive": "#2ca02c",
    "unclassified": "#cfd8dc",
}
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "WenQuanYi Micro Hei",
    "SimHei",
    "PingFang SC",
)


def _font() -> None:
    """A font with Chinese glyphs if the machine has one (fonts-noto-cjk); else the default."""
    have = {f.name for f in font_manager.fontManager.ttflist}
    found = [f for f in CJK_FONTS if f in have]
    if found:
        plt.rcParams["font.family"] = [*found, "DejaVu Sans"]
    else:
        logger.info("no CJK font installed; Chinese labels in charts may not show")


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def volume(b: Briefing) -> bytes:
    """Posts per day by sentiment, this period and the one before (the line between)."""
    _font()
    days = sorted({d for d, _, _ in b.per_day})
    fig, ax = plt.subplots(figsize=(7, 3))
    bottom = [0] * len(days)
    for sentiment, colour in COLOURS.items():
        heights = [sum(n for d2, s, n in b.per_day if d2 == d and s == sentiment) for d in days]
        if any(heights):
            ax.bar([d[5:] for d in days], heights, bottom=bottom, color=colour, label=sentiment)
            bottom = [x + y for x, y in zip(bottom, heights, strict=True)]
    since = b.since.isoformat()
    if days and since in days and days.index(since) > 0:
        ax.axvline(days.index(since) - 0.5, color="black", linestyle="--", linewidth=1)
    ax.set_ylabel("posts")
    ax.set_title("Posts per day (left of the dashes: the period before)")
    ax.legend(loc="upper left", fontsize=8)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    return _png(fig)


def bars(counts: list[Count], title: str) -> bytes:
    _font()
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(3, len(counts)) + 0.8))
    ax.barh(
        [c.label for c in reversed(counts)], [c.count for c in reversed(counts)], color="#1f77b4"
    )
    ax.set_title(title)
    ax.set_xlabel("posts")
    return _png(fig)


def all_charts(b: Briefing) -> dict[str, bytes]:
    """name -> PNG: volume, themes and units (when the period has any)."""
    found = {"volume": volume(b)}
    if b.themes:
        found["themes"] = bars(b.themes, "Top themes")
    if b.units:
        found["units"] = bars(b.units, "Top units")
    return found
