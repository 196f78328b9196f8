"""Altair charts for the overview, built from the frames in `dashboard.data`.

Days are 'YYYY-MM-DD' strings; the charts read them as UTC dates so a browser west of UTC
does not shift every bar to the day before.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.data import UNCLASSIFIED

SENTIMENT_COLOURS = {
    "negative": "#d62728",
    "neutral": "#9e9e9e",
    "positive": "#2ca02c",
    UNCLASSIFIED: "#cfd8dc",
}
_DAY = alt.X("utcyearmonthdate(day):T", title=None, axis=alt.Axis(format="%m-%d"))
_DAY_TIP = alt.Tooltip("day:N", title="day")


def posts_per_day(sentiment_per_day: pd.DataFrame) -> alt.Chart:
    """Posts per day as bars, stacked by sentiment (negative at the bottom)."""
    present = set(sentiment_per_day["sentiment"])
    order = [s for s in SENTIMENT_COLOURS if s in present or s != UNCLASSIFIED]
    data = sentiment_per_day.assign(
        order=sentiment_per_day["sentiment"].map(
            lambda s: order.index(s) if s in order else len(order)
        )
    )
    return (
        alt.Chart(data, title="Posts per day")
        .mark_bar()
        .encode(
            x=_DAY,
            y=alt.Y("sum(count):Q", title="posts"),
            color=alt.Color(
                "sentiment:N",
                scale=alt.Scale(domain=order, range=[SENTIMENT_COLOURS[s] for s in order]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[_DAY_TIP, "sentiment:N", alt.Tooltip("sum(count):Q", title="posts")],
        )
    )


def negative_share(negative_share_per_day: pd.DataFrame) -> alt.Chart:
    """The share of each day's posts that are negative, as a line."""
    return (
        alt.Chart(negative_share_per_day, title="Negative share per day")
        .mark_line(
            color=SENTIMENT_COLOURS["negative"],
            point=alt.OverlayMarkDef(color=SENTIMENT_COLOURS["negative"]),
        )
        .encode(
            x=_DAY,
            y=alt.Y(
                "share:Q",
                title="negative share",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[
                _DAY_TIP,
                alt.Tooltip("share:Q", format=".0%"),
                "negative:Q",
                alt.Tooltip("total:Q", title="posts"),
            ],
        )
    )


def theme_mix(theme_mix: pd.DataFrame) -> alt.Chart:
    """Posts per grievance theme, by the theme's Chinese name, most mentioned on top."""
    return (
        alt.Chart(theme_mix, title="Theme mix")
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="posts"),
            y=alt.Y("name:N", title=None, sort="-x"),
            tooltip=[alt.Tooltip("name:N", title="theme"), "theme:N", "count:Q"],
        )
    )


def shade_periods(chart: alt.Chart | alt.LayerChart, periods: pd.DataFrame) -> alt.LayerChart:
    """`chart` with sensitive periods (name, start, end: 'YYYY-MM-DD', end inclusive) shaded
    behind it, named in the tooltip."""
    if periods.empty:
        return chart
    data = periods.assign(
        end_next=(pd.to_datetime(periods["end"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    )
    shade = (
        alt.Chart(data)
        .mark_rect(color="#ffb300", opacity=0.18)
        .encode(
            x="utcyearmonthdate(start):T",
            x2="utcyearmonthdate(end_next):T",
            tooltip=[alt.Tooltip("name:N", title="sensitive period"), "start:N", "end:N"],
        )
    )
    return alt.layer(shade, chart)


def lines_by(frame: pd.DataFrame, field: str, title: str, label: str | None = None) -> alt.Chart:
    """Posts per day, one line per value of `field`; click the legend to pick lines."""
    pick = alt.selection_point(fields=[field], bind="legend")
    return (
        alt.Chart(frame, title=title)
        .mark_line(point=True)
        .encode(
            x=_DAY,
            y=alt.Y("sum(count):Q", title="posts"),
            color=alt.Color(f"{field}:N", title=label or field, legend=alt.Legend(orient="top")),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[_DAY_TIP, alt.Tooltip(f"{field}:N", title=label or field), "sum(count):Q"],
        )
        .add_params(pick)
    )


def theme_trend(theme_per_day: pd.DataFrame) -> alt.Chart:
    return lines_by(theme_per_day, "name", "Posts per day by theme", "theme")


def counts_bar(buckets: list, title: str, label: str) -> alt.Chart:
    """Bars for (key, count) buckets, largest on top."""
    frame = pd.DataFrame([(b.key, b.count) for b in buckets], columns=[label, "count"])
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="posts"),
            y=alt.Y(f"{label}:N", title=None, sort="-x"),
            tooltip=[f"{label}:N", "count:Q"],
        )
    )
