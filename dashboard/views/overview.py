"""Overview: how many posts, how negative, about what, over the last weeks."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import charts, context
from dashboard.data import DEFAULT_RANGE, RANGE_CHOICES, day_window
from dashboard.plaintext import percent

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
view = context.overview(ctx.store, ctx.key, since, until, dict(ctx.theme_names))

kpis = st.columns(4)
kpis[0].metric("Posts", f"{view.total:,}", border=True)
kpis[1].metric("Negative posts", f"{view.negative:,}", border=True)
kpis[2].metric("Negative share", percent(view.negative_share), border=True)
top = view.top_theme(skip=ctx.config.taxonomy.fallback)
kpis[3].metric("Top grievance theme", top or "–", border=True)
last_day = until - timedelta(days=1)
st.caption(f"Posts published {since:%Y-%m-%d} – {last_day:%Y-%m-%d} (Asia/Shanghai days).")

if view.total == 0:
    st.info(f"No posts were published in the last {days} days. Pick a longer range.")
    st.stop()

left, right = st.columns(2)
left.altair_chart(charts.posts_per_day(view.sentiment_per_day), width="stretch")
right.altair_chart(charts.negative_share(view.negative_share_per_day), width="stretch")
st.altair_chart(charts.theme_mix(view.theme_mix), width="stretch")
