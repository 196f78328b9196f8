"""Alerts: what the alerts stage raised, newest first; officers acknowledge or resolve them.

Each alert links to its posts: the search its `dashboard_url` (or its scope and window)
describes, and the posts it names one by one.
"""

from __future__ import annotations

import streamlit as st

from dashboard import alert_desk as alerts
from dashboard import context
from dashboard.plaintext import escape_markdown

ctx = context.current()
ICONS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}

st.title("Alerts")
status = st.segmented_control(
    "Status", ("active", *alerts.STATUSES, "all"), default="active", key="alert_status"
)
found = alerts.list_alerts(ctx.records)
if status == "active":
    found = [a for a in found if a.get("status") in alerts.ACTIVE]
elif status and status != "all":
    found = [a for a in found if a.get("status") == status]
st.caption(f"{len(found)} alerts")
if not found:
    st.info("No alerts here.")


def show(alert: dict) -> None:
    aid = str(alert.get("id"))
    with st.container(border=True):
        icon = ICONS.get(alert.get("severity", ""), "⚪")
        st.markdown(f"{icon} **{escape_markdown(str(alert.get('title') or aid))}**")
        meta = [
            str(alert.get("status", "?")),
            str(alert.get("severity", "")),
            str(alert.get("detector", "")),
            f"fired {str(alert.get('fired_at') or '')[:16]}",
        ]
        if alert.get("department"):
            meta.append(f"department {alert['department']}")
        if alert.get("sensitive_period"):
            meta.append(f"sensitive period {alert['sensitive_period']}")
        if alert.get("acked_by"):
            meta.append(f"acknowledged by {alert['acked_by']} {str(alert.get('acked_at'))[:16]}")
        st.caption(escape_markdown(" · ".join(meta)))
        if alert.get("summary"):
            st.text(str(alert["summary"]))
        numbers = []
        if alert.get("observed") is not None:
            numbers.append(f"observed {alert['observed']}")
        if alert.get("expected") is not None:
            numbers.append(f"expected {alert['expected']}")
        if alert.get("p_value") is not None:
            numbers.append(
                f"p = {alert['p_value']:.2g}"
                if isinstance(alert["p_value"], float)
                else f"p = {alert['p_value']}"
            )
        if alert.get("top_words"):
            numbers.append("words: " + " ".join(map(str, alert["top_words"])))
        if numbers:
            st.caption(escape_markdown(" · ".join(numbers)))
        cols = st.columns([1, 1, 3])
        cols[0].page_link(
            "views/search.py",
            label="Matching posts",
            query_params=alerts.search_filters(alert).link_params(),
        )
        post_ids = alert.get("post_ids") or []
        if post_ids:
            with cols[1].popover(f"{len(post_ids)} posts"):
                for pid in post_ids[:50]:
                    st.page_link("views/post.py", label=str(pid), query_params={"post": str(pid)})
        if ctx.can("officer") and alert.get("status") in alerts.ACTIVE:
            with cols[2].form(f"alert-{aid}"):
                comment = st.text_input("Comment", key=f"alert-comment-{aid}")
                ack, resolve = st.columns(2)
                do_ack = alert.get("status") == "open" and ack.form_submit_button("Acknowledge")
                do_resolve = resolve.form_submit_button("Resolve")
            if do_ack or do_resolve:
                change = alerts.acknowledge if do_ack else alerts.resolve
                try:
                    change(ctx.records, ctx.actor, aid, comment)
                except (KeyError, ValueError, PermissionError) as e:
                    st.error(str(e))
                else:
                    st.rerun()
        if ctx.can("officer") and alert.get("status") in alerts.ACTIVE:
            st.page_link("views/cases.py", label="Open a case for it", query_params={"alert": aid})


for alert in found:
    show(alert)
