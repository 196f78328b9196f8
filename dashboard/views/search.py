"""Search: full text and every filter the store has, a page at a time, with CSV/Excel export.

Every filter is bound to the URL's query parameters (see `dashboard.filters`), so an alert's
link such as /search?themes=wages&units=X&sentiments=negative&since=2026-03-01 opens its
posts. Post titles and snippets are crawled, untrusted text: they are escaped, never rendered
as markdown or HTML, and a post's link is only a button to an http(s) URL.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import context, export
from dashboard.data import ResultRow, explain
from dashboard.filters import Filters
from dashboard.plaintext import escape_markdown, http_url
from yuqing.schema import SENTIMENTS

PAGE_SIZE = 10
ANY, YES, NO = "any", "yes", "no"
ctx = context.current()
st.session_state.setdefault("page", 1)


def _first_page() -> None:
    st.session_state.page = 1


def show(row: ResultRow) -> None:
    with st.container(border=True):
        meta = [row.day, row.source, row.sentiment, "、".join(row.theme_names) or "no theme"]
        if row.units:
            meta.append("、".join(row.units))
        if row.replied:
            meta.append("replied")
        if row.deleted:
            meta.append("deleted from its site")
        if row.case_ids:
            meta.append("cases " + " ".join(row.case_ids))
        st.caption(escape_markdown(" · ".join(meta)))
        st.markdown(f"**{escape_markdown(row.title) or '(no title)'}**")
        st.markdown(escape_markdown(row.snippet))
        for line in explain(row.cues, ctx.theme_names):
            st.caption(escape_markdown(line))
        cols = st.columns([1, 1, 4])
        cols[0].page_link("views/post.py", label="Details", query_params={"post": row.id})
        url = http_url(row.url)
        if url:
            cols[1].link_button("Open original ↗", url)
        if ctx.can("officer"):
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
            save_correction(row.id, themes, sentiment)


def save_correction(post_id: str, themes: list[str], sentiment: str) -> None:
    try:
        context.record_correction(ctx, post_id, themes, sentiment)
    except (ValueError, PermissionError) as e:
        st.error(str(e))
    except context.STORE_ERRORS as e:
        st.warning(
            "Saved as labelled data, but the store could not take the officer's labels "
            f"now ({e}). Save again when it is back."
        )
    else:
        st.success("Saved. It will train the next model.")


def theme_ids_in_url() -> list[str]:
    """`themes` from the URL as theme ids (a Chinese name is taken too)."""
    by_name = {name: tid for tid, name in ctx.theme_names.items()}
    found = [
        t if t in ctx.theme_names else by_name.get(t) for t in st.query_params.get_all("themes")
    ]
    return list(dict.fromkeys(t for t in found if t))


def sync_themes() -> None:
    """Themes go into the URL as ids (themes=wages), which a widget bound to the URL would
    write as their displayed names: this page keeps them in step itself."""
    in_url = theme_ids_in_url()
    if st.session_state.get("themes_url") != in_url:  # a new link was opened
        st.session_state["themes"] = in_url
        st.session_state["themes_url"] = in_url


def themes_changed() -> None:
    chosen = list(st.session_state["themes"])
    st.query_params["themes"] = chosen
    if not chosen:
        del st.query_params["themes"]
    st.session_state["themes_url"] = chosen
    _first_page()


def values(field: str) -> list[str]:
    return context.field_values(ctx.store, ctx.key, field)


def flag(choice: str) -> bool | None:
    return {YES: True, NO: False}.get(choice)


def day(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


st.title("Search")
text = st.text_input(
    "Search posts",
    key="q",
    bind="query-params",
    placeholder='Words, e.g. 工资 or "拖欠 工资" for a phrase; empty shows every post',
    on_change=_first_page,
)
common = {"bind": "query-params", "on_change": _first_page}
row1 = st.columns(3)
sync_themes()
themes = row1[0].multiselect(
    "Themes",
    list(ctx.theme_names),
    format_func=lambda theme: ctx.theme_names.get(theme, theme),
    key="themes",
    on_change=themes_changed,
)
sentiments = row1[1].multiselect("Sentiments", SENTIMENTS, key="sentiments", **common)
units = row1[2].multiselect(
    "Units", values("units"), key="units", accept_new_options=True, **common
)
with st.expander("More filters", expanded=False):
    row2 = st.columns(3)
    sources = row2[0].multiselect(
        "Sources", values("source"), key="sources", accept_new_options=True, **common
    )
    platforms = row2[1].multiselect(
        "Platforms", values("platform"), key="platforms", accept_new_options=True, **common
    )
    stories = row2[2].multiselect(
        "Stories", values("story_id"), key="stories", accept_new_options=True, **common
    )
    row3 = st.columns(4)
    replied = row3[0].selectbox("Official reply", (ANY, YES, NO), key="replied", **common)
    deleted = row3[1].selectbox("Deleted from its site", (ANY, YES, NO), key="deleted", **common)
    since = row3[2].date_input("Since (inclusive)", value=None, key="since", **common)
    until = row3[3].date_input("Until (exclusive)", value=None, key="until", **common)

filters = Filters(
    text=text,
    themes=tuple(themes),
    sentiments=tuple(sentiments),
    sources=tuple(sources),
    platforms=tuple(platforms),
    units=tuple(units),
    story_ids=tuple(stories),
    deleted=flag(deleted),
    replied=flag(replied),
    since=day(since),
    until=day(until),
)
found = context.search_filtered(
    ctx.store, ctx.key, filters, st.session_state.page, PAGE_SIZE, dict(ctx.theme_names)
)
st.session_state.page = found.page  # a narrower search may have fewer pages
if found.total == 0:
    st.info("No posts match. Try fewer words or filters.")
    st.stop()

first = (found.page - 1) * PAGE_SIZE + 1
st.write(f"{found.total:,} posts; showing {first}–{first + len(found.rows) - 1}, newest first.")

if ctx.can("officer"):

    def exporter(fmt: str):
        def make() -> bytes:  # runs when the button is clicked; audited in export.export
            return export.export(
                ctx.store, ctx.records, ctx.actor, filters, fmt, ctx.base_url, ctx.theme_names
            )

        return make

    cols = st.columns([1, 1, 4])
    for col, (fmt, label) in zip(
        cols, (("csv", "Export CSV"), ("xlsx", "Export Excel")), strict=False
    ):
        col.download_button(
            label,
            data=exporter(fmt),
            file_name=f"yuqing-posts.{fmt}",
            mime=export.FORMATS[fmt],
            key=f"export-{fmt}",
            on_click="ignore",
        )

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
