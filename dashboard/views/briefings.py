"""Briefings: a day's or a week's briefing as DOCX, HTML or Markdown (as `yuqing report`)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import context
from dashboard.briefing import write
from dashboard.briefing.content import PERIODS
from yuqing.schema import SHANGHAI

ctx = context.current()
st.title("Briefings")
st.caption(
    "The period's volume and negative share against the period before, top themes and units, "
    "notable stories, alerts and case progress; every number links to its posts."
)
if not ctx.can("officer"):
    st.info("Briefings are made by officers and admins.")
    st.stop()

cols = st.columns(3)
period = cols[0].segmented_control("Period", tuple(PERIODS), default="day", key="brief_period")
day = cols[1].date_input("Last day", value=datetime.now(SHANGHAI).date(), key="brief_day")
fmt = cols[2].segmented_control("Format", tuple(write.FORMATS), default="docx", key="brief_fmt")
period, fmt = period or "day", fmt or "docx"


def make() -> bytes:  # runs when the button is clicked
    return write.make(
        ctx.store, ctx.records, period, day, fmt, ctx.base_url, ctx.theme_names, ctx.actor
    )[1]


st.download_button(
    f"Download the {period} briefing ({fmt})",
    data=make,
    file_name=f"briefing-{period}-{day}.{fmt}",
    mime=write.FORMATS[fmt],
    key="brief_download",
    on_click="ignore",
    type="primary",
)
