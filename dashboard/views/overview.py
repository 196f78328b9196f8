"""Overview: how many posts, how negative, about what and where, over one shared time range."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import alert_desk as alerts
from dashboard import cases, charts, context, periods
from dashboard.data import DEFAULT_RANGE, RANGE_CHOICES, day_window
from dashboard.filters import Filters
from dashboard.plaintext import escape_markdown, percent

ctx = context.current()
st.session_state.setdefault("range_days", DEFAULT_RANGE)

st.title("Overview")
days = st.radio(
    "Time range",
    RANGE_CHOICES,
    format_func=lambda n: f"Last {n} days",
    horizontal=True,
    key="range_days",
    persist_state="session",
)
since, until = day_window(days)
last_day = until - timedelta(days=1)
t = context.overview_trends(ctx.store, ctx.key, since, until, dict(ctx.theme_names))
view = t.base
case_counts = cases.counts(ctx.records)

kpis = st.columns(6)
kpis[0].metric("Posts today", f"{t.posts_today:,}", border=True)
kpis[1].metric("Posts this week", f"{t.posts_week:,}", border=True)
kpis[2].metric("Posts", f"{view.total:,}", border=True)
change = None if t.share_change is None else f"{t.share_change * 100:+.1f} pts"
kpis[3].metric(
    "Negative share",
    percent(view.negative_share),
    delta=change,
    delta_color="inverse",
    help=f"Against the {days} days before: {percent(t.previous_share)}",
    border=True,
)
kpis[4].metric("Active alerts", alerts.active_count(ctx.records), border=True)
kpis[5].metric(
    "Open cases",
    case_counts["open"],
    delta=f"{case_counts['overdue']} overdue" if case_counts["overdue"] else None,
    delta_color="inverse",
    border=True,
)
more = st.columns(2)
more[0].metric("Negative posts", f"{view.negative:,}")
more[1].metric("Top grievance theme", view.top_theme(skip=ctx.config.taxonomy.fallback) or "–")
st.caption(f"Posts published {since:%Y-%m-%d} – {last_day:%Y-%m-%d} (Asia/Shanghai days).")

urgent = alerts.most_urgent(ctx.records)
if urgent:
    st.subheader("Active alerts")
for alert in urgent:
    with st.container(border=True):
        cols = st.columns([4, 1, 1])
        title = escape_markdown(str(alert.get("title") or alert.get("id")))
        cols[0].markdown(f"**{title}**")
        cols[0].caption(escape_markdown(
            f"{alert.get('severity', '')} · {alert.get('status')} · fired "
            f"{str(alert.get('fired_at') or '')[:16]} · {alert.get('summary') or ''}"
        ))  # fmt: skip
        cols[1].page_link(
            "views/search.py",
            label="Matching posts",
            query_params=alerts.search_filters(alert).link_params(),
        )
        cols[2].page_link("views/alerts.py", label="All alerts")

if view.total == 0:
    st.info(f"No posts were published in the last {days} days. Pick a longer range.")
    st.stop()

shaded = pd.DataFrame(
    [(p.name, p.start.isoformat(), p.end.isoformat()) for p in periods.load_periods(
        ctx.config.config_dir, since, until)],
    columns=["name", "start", "end"],
)  # fmt: skip
if not shaded.empty:
    st.caption("Shaded: sensitive periods — " + escape_markdown("; ".join(shaded["name"])))


def show(chart, where=st) -> None:  # every time chart shares the range and the shading
    where.altair_chart(charts.shade_periods(chart, shaded), width="stretch")


left, right = st.columns(2)
show(charts.posts_per_day(view.sentiment_per_day), left)
show(charts.negative_share(view.negative_share_per_day), right)
show(charts.theme_trend(view.theme_per_day))
left, right = st.columns(2)
if not t.unit_per_day.empty:
    show(charts.lines_by(t.unit_per_day, "unit", "Posts per day by unit (top units)"), left)
if not t.platform_per_day.empty:
    show(charts.lines_by(t.platform_per_day, "platform", "Posts per day by platform"), right)

left, right = st.columns(2)
left.altair_chart(charts.theme_mix(view.theme_mix), width="stretch")
if t.hot_words:
    right.altair_chart(charts.counts_bar(t.hot_words[:20], "Hot words", "word"), width="stretch")

st.subheader("Largest stories")
if not t.stories:
    st.caption("No stories in this range.")
for story in t.stories:
    search = Filters(story_ids=(story.story_id,), since=since.isoformat(), until=until.isoformat())
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(story.title) or '(no title)'}**")
        cols = st.columns(4)
        cols[0].caption(f"{story.posts} posts")
        if ctx.can("officer"):
            cols[3].page_link(
                "views/cases.py", label="Open a case", query_params={"story": story.story_id}
            )
        cols[1].page_link("views/search.py", label="Its posts", query_params=search.link_params())
        cols[2].page_link(
            "views/post.py", label="Newest post", query_params={"post": story.post_id}
        )
