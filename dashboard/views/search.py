"""Search: full-text search over the posts, filtered by theme and sentiment, a page at a time.

Post titles and snippets are crawled, untrusted text: they are escaped, never rendered as
markdown or HTML, and a post's link is only a button to an http(s) URL.
"""

from __future__ import annotations

import streamlit as st

from dashboard import context
from dashboard.data import ResultRow, explain
from dashboard.plaintext import escape_markdown, http_url
from yuqing.schema import SENTIMENTS

PAGE_SIZE = 10
ctx = context.current()
st.session_state.setdefault("page", 1)


def _first_page() -> None:
    st.session_state.page = 1


def show(row: ResultRow) -> None:
    with st.container(border=True):
        meta = " · ".join(
            [row.day, row.source, row.sentiment, "、".join(row.theme_names) or "no theme"]
        )
        st.caption(escape_markdown(meta))
        st.markdown(f"**{escape_markdown(row.title) or '(no title)'}**")
        st.markdown(escape_markdown(row.snippet))
        for line in explain(row.cues, ctx.theme_names):
            st.caption(escape_markdown(line))
        url = http_url(row.url)
        if url:
            st.link_button("Open original ↗", url)
        with st.expander("Correct the tags"):
            correction_form(row)


def correction_form(row: ResultRow) -> None:
    """Officers' corrections become labelled data (`yuqing labels export`)."""
    with st.form(key=f"correct-{row.id}"):
        themes = st.multiselect(
            "Themes",
            list(ctx.theme_names),
            default=[t for t in row.themes if t in ctx.theme_names],
            format_func=lambda theme: ctx.theme_names.get(theme, theme),
            key=f"fix-themes-{row.id}",
        )
        current = SENTIMENTS.index(row.sentiment) if row.sentiment in SENTIMENTS else 1
        sentiment = st.radio(
            "Sentiment", SENTIMENTS, index=current, horizontal=True, key=f"fix-sentiment-{row.id}"
        )
        if st.form_submit_button("Save correction"):
            try:
                context.record_correction(ctx, row.id, themes, sentiment)
            except ValueError as e:
                st.error(str(e))
            except context.STORE_ERRORS as e:
                st.warning(
                    "Saved as labelled data, but the store could not take the officer's labels "
                    f"now ({e}). Save again when it is back."
                )
            else:
                st.success("Saved. It will train the next model.")


st.title("Search")
text = st.text_input(
    "Search posts",
    key="q",
    bind="query-params",  # a search is a link: /search?q=工资&themes=薪酬分配
    placeholder='Words, e.g. 工资 or "拖欠 工资" for a phrase; empty shows every post',
    on_change=_first_page,
)
left, right = st.columns(2)
themes = left.multiselect(
    "Themes",
    list(ctx.theme_names),
    format_func=lambda theme: ctx.theme_names.get(theme, theme),
    key="themes",
    bind="query-params",
    on_change=_first_page,
)
sentiments = right.multiselect(
    "Sentiments", SENTIMENTS, key="sentiments", on_change=_first_page, bind="query-params"
)

found = context.search(
    ctx.store,
    ctx.key,
    text,
    tuple(themes),
    tuple(sentiments),
    st.session_state.page,
    PAGE_SIZE,
    dict(ctx.theme_names),
)
st.session_state.page = found.page  # a narrower search may have fewer pages
if found.total == 0:
    st.info("No posts match. Try fewer words or filters.")
    st.stop()

first = (found.page - 1) * PAGE_SIZE + 1
st.write(f"{found.total:,} posts; showing {first}–{first + len(found.rows) - 1}, newest first.")
for row in found.rows:
    show(row)
if found.page_count > 1:
    st.number_input(
        f"Page (of {found.page_count})",
        min_value=1,
        max_value=found.page_count,
        step=1,
        key="page",
        persist_state="session",
    )
