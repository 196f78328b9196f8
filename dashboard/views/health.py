"""Sources health: each source's last crawl, its posts and errors, and the quarantined items."""

from __future__ import annotations

import streamlit as st

from dashboard import context, health

ctx = context.current()
st.title("Sources")

rows = health.source_health(ctx.config, ctx.records)
bad = [r for r in rows if r.enabled and not r.ok]
cols = st.columns(3)
cols[0].metric("Sources", len(rows))
cols[1].metric("Need attention", len(bad))
items = health.quarantined_items(ctx.config.data_dir)
cols[2].metric("Quarantined items", len(items))
st.dataframe(
    [
        {
            "source": r.source,
            "enabled": r.enabled,
            "state": "ok" if r.ok else ("never crawled" if not r.runs else "check"),
            "last crawl": (r.last_finished or r.last_started or "")[:16],
            "status": r.last_status or "",
            "posts": r.last_posts,
            "new posts": r.last_new_posts,
            "errors": r.last_errors,
            "errors, all runs": r.total_errors,
            "runs": r.runs,
            "quarantined": r.quarantined,
        }
        for r in rows
    ],
    hide_index=True,
)
st.caption("Crawl runs are recorded by `yuqing crawl`; a source never crawled has no runs.")

st.subheader("Quarantined items")
if not items:
    st.caption("Nothing quarantined.")
else:
    st.dataframe(
        [
            {"file": i.file, "line": i.line, "source": i.source, "error": i.error, "url": i.url,
             "title": i.title}
            for i in items
        ],
        hide_index=True,
    )  # fmt: skip
    pick = st.selectbox(
        "Inspect", range(len(items)), format_func=lambda n: f"{items[n].file}:{items[n].line}"
    )
    st.code(items[pick].raw, language="json")
