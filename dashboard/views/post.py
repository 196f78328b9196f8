"""One post (/post?post=<id>): its text as plain text, the evidence, the official reply, the
tags and their cues, the other posts of its story, corrections and opening a case.

The post's title and text are untrusted: they go through `st.text` (rendered as text, never
markdown or HTML) or are escaped.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import cases, context
from dashboard.data import explain
from dashboard.filters import Filters
from dashboard.plaintext import escape_markdown, http_url
from index.base import SearchQuery
from yuqing.schema import SENTIMENTS, SHANGHAI

ctx = context.current()
DONE_KEY = "post_done"
OPTIONAL_EVIDENCE = (
    "evidence_path",
    "evidence_sha256",
    "archived_url",
    "deleted_at",
    "last_seen_at",
)


def when(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "–"


post_id = st.query_params.get("post", "")
st.title("Post")
if not post_id:
    st.info("No post chosen. Open one from Search (its Details link).")
    st.page_link("views/search.py", label="Go to search")
    st.stop()
post = ctx.store.get(post_id)
if post is None:
    st.warning(f"No post {escape_markdown(post_id)} in the store (purged, or a wrong link).")
    st.stop()


def details(post) -> None:
    """What the post is: text, evidence, reply, tags, its story and cases."""
    st.subheader("Title")
    st.text(post.title or "(no title)")
    st.subheader("Text")
    st.text(post.text)

    st.subheader("Evidence")
    facts = {
        "source": post.source,
        "platform": post.platform,
        "published": when(post.published_at),
        "captured": when(post.fetched_at),
        "content sha256": post.content_sha256,
        "status": "deleted from its site (kept as evidence)" if post.deleted else "live",
    }
    for name in OPTIONAL_EVIDENCE:  # fields the crawl stage may add; shown when present
        value = getattr(post, name, None)
        if value:
            facts[name.replace("_", " ")] = str(value)
    st.text("\n".join(f"{name}: {value}" for name, value in facts.items()))
    st.code(post.url, language=None)
    url = http_url(post.url)
    if url:
        st.link_button("Open original ↗", url)

    st.subheader("Official reply")
    if post.reply is None:
        st.caption("No official reply.")
    else:
        st.text(post.reply.text)
        by = escape_markdown(post.reply.by or "unknown body")
        line = f"By {by}, {when(post.reply.replied_at)}"
        if post.reply.replied_at and post.published_at:
            line += f" — {(post.reply.replied_at - post.published_at).days} days after the post"
        st.caption(line)

    st.subheader("Tags")
    names = [ctx.theme_names.get(t, t) for t in post.themes]
    st.markdown(
        escape_markdown(f"Themes: {'、'.join(names) or '–'} · sentiment: {post.sentiment or '–'}")
    )
    for line in explain(post.classification.cues if post.classification else {}, ctx.theme_names):
        st.caption(escape_markdown(line))
    labels = post.annotations.labels if post.annotations else None
    if labels:
        fixed = "、".join(ctx.theme_names.get(t, t) for t in labels.themes)
        st.caption(escape_markdown(f"Officer's labels: {fixed} · {labels.sentiment}"))
    if post.units:
        st.caption(escape_markdown("Units: " + "、".join(post.units)))

    if post.story_id:
        st.subheader("Same story")
        same = ctx.store.search(SearchQuery(story_ids=(post.story_id,), limit=20))
        st.caption(f"{same.total} posts in this story")
        for hit in same.hits:
            if hit.post.id != post.id:
                st.page_link(
                    "views/post.py",
                    label=escape_markdown(f"{hit.post.day} {hit.post.title or hit.post.text[:30]}"),
                    query_params={"post": hit.post.id},
                )
        st.page_link(
            "views/search.py",
            label="All its posts",
            query_params=Filters(story_ids=(post.story_id,)).link_params(),
        )

    case_ids = post.annotations.case_ids if post.annotations else []
    st.subheader("Cases")
    if case_ids:
        for cid in case_ids:
            st.page_link("views/cases.py", label=f"Case {cid}", query_params={"case": cid})
    else:
        st.caption("Not in a case yet.")


def done(form: str, message: str, case_id: str | None = None) -> None:
    """Rerun to show the change above (labels, case links); `said` then says what was done."""
    st.session_state[DONE_KEY] = (post.id, form, message, case_id)
    st.rerun()


def said(form: str) -> None:
    if (st.session_state.get(DONE_KEY) or ())[:2] != (post.id, form):
        return
    _, _, message, case_id = st.session_state.pop(DONE_KEY)
    st.success(message)
    if case_id:
        st.page_link(
            "views/cases.py", label=f"Go to case {case_id}", query_params={"case": case_id}
        )


# In one container, so the forms below keep their place (and stay open) when a
# correction or a new case adds lines above them.
with st.container():
    details(post)

if not ctx.can("officer"):
    st.stop()

with st.expander("Correct the tags"):
    with st.form("correct"):
        themes = st.multiselect(
            "Themes",
            list(ctx.theme_names),
            default=[t for t in cases.themes_of(post) if t in ctx.theme_names],
            format_func=lambda t: ctx.theme_names.get(t, t),
            key="fix-themes",
        )
        labels = post.annotations.labels if post.annotations else None
        now = labels.sentiment if labels else post.sentiment
        current = SENTIMENTS.index(now) if now in SENTIMENTS else 1
        sentiment = st.radio(
            "Sentiment", SENTIMENTS, index=current, horizontal=True, key="fix-sentiment"
        )
        if st.form_submit_button("Save correction"):
            try:
                context.record_correction(ctx, post.id, themes, sentiment)
            except (ValueError, PermissionError) as e:
                st.error(str(e))
            else:
                done("correct", "Saved. It will train the next model.")
    said("correct")

with st.expander("Open a case", expanded=False):
    themes = cases.themes_of(post)  # an officer's correction routes the case
    route = ctx.departments.route(themes, post.units)
    st.caption(
        escape_markdown(f"Routed to {route.name} ({route.id}), due in {route.due_days} days")
    )
    with st.form("open-case"):
        title = st.text_input("Case title", value=(post.title or post.text[:40]), key="case-title")
        owner = st.text_input("Owner", value=route.owner or "", key="case-owner")
        comment = st.text_area("Comment", key="case-comment")
        whole_story = st.checkbox(
            "Include the whole story", value=bool(post.story_id), key="case-story"
        )
        if st.form_submit_button("Open case"):
            try:
                case = cases.open_case(
                    ctx.records, ctx.store, ctx.departments, ctx.actor,
                    title=title, themes=themes, units=post.units, post_ids=[post.id],
                    story_id=post.story_id if whole_story else None, owner=owner, comment=comment,
                )  # fmt: skip
            except (ValueError, PermissionError) as e:
                st.error(str(e))
            else:
                done("case", f"Case {case['id']} opened for {case['department_name']}.", case["id"])
    said("case")
