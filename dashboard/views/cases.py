"""Cases (闭环): open a case from an alert or a story, follow each to its end, overdue first.

Opening from a post is on the post's page. /cases?alert=<id> or ?story=<id> opens the form
for that alert or story; /cases?case=<id> shows one case. The rules (routing, forward-only
steps, roles) are in `dashboard.cases`.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import cases, context
from dashboard.plaintext import escape_markdown
from index.base import SearchQuery
from yuqing.schema import SHANGHAI

ctx = context.current()
today = datetime.now(SHANGHAI).date()
st.title("Cases 闭环")


def open_form(*, title: str, themes: list[str], units: list[str], **origin) -> None:
    route = ctx.departments.route(themes, units)
    st.caption(
        escape_markdown(f"Routed to {route.name} ({route.id}); due in {route.due_days} days")
    )
    with st.form("open-case"):
        title = st.text_input("Case title", value=title, key="new-case-title")
        department = st.selectbox(
            "Department",
            [d.id for d in ctx.departments.departments],
            index=[d.id for d in ctx.departments.departments].index(route.id),
            format_func=lambda d: f"{ctx.departments.get(d).name} ({d})",
            key="new-case-department",
        )
        owner = st.text_input("Owner", value=route.owner or "", key="new-case-owner")
        comment = st.text_area("Comment", key="new-case-comment")
        if st.form_submit_button("Open case"):
            try:
                case = cases.open_case(
                    ctx.records, ctx.store, ctx.departments, ctx.actor, title=title,
                    themes=themes, units=units, owner=owner, department=department,
                    comment=comment, **origin,
                )  # fmt: skip
            except (ValueError, PermissionError, KeyError) as e:
                st.error(str(e))
            else:
                st.success(f"Case {case['id']} opened for {case['department_name']}.")


alert_id = st.query_params.get("alert")
story_id = st.query_params.get("story")
if ctx.can("officer") and alert_id:
    alert = ctx.records.get("alert", alert_id)
    if alert is None:
        st.warning("No such alert.")
    else:
        st.subheader("Open a case for the alert")
        scope = alert.get("scope") or {}
        open_form(
            title=str(alert.get("title") or alert_id),
            themes=[scope["theme"]] if scope.get("theme") else [],
            units=[scope["unit"]] if scope.get("unit") else [],
            alert_id=alert_id,
            post_ids=list(alert.get("post_ids") or []),
            story_id=scope.get("story_id"),
        )
elif ctx.can("officer") and story_id:
    newest = ctx.store.search(SearchQuery(story_ids=(story_id,), limit=1)).hits
    st.subheader("Open a case for the story")
    if not newest:
        st.warning("No posts in that story.")
    else:
        post = newest[0].post
        open_form(
            title=post.title or post.text[:40],
            themes=post.themes,
            units=post.units,
            story_id=story_id,
        )


def show(case: dict) -> None:
    overdue = cases.is_overdue(case, today)
    flag = " :red-badge[overdue]" if overdue else ""
    label = (
        f"{case['id']} · {cases.STATUS_NAMES[case['status']]} · "
        f"{escape_markdown(case['title'])} · due {case['due']}{flag}"
    )
    with st.expander(label, expanded=st.query_params.get("case") == case["id"]):
        st.caption(escape_markdown(
            f"{case['department_name']} ({case['department']}) · owner {case['owner'] or '–'} · "
            f"opened by {case['opened_by']} {case['opened_at'][:16]} from a {case['origin']} · "
            f"{cases.days_open(case, today)} days open"
        ))  # fmt: skip
        if case.get("reply"):
            st.markdown("**Reply given to the public**")
            st.text(case["reply"])
        for pid in case.get("post_ids", [])[:20]:
            st.page_link("views/post.py", label=f"Post {pid}", query_params={"post": pid})
        if case.get("alert_id"):
            st.caption(escape_markdown(f"From alert {case['alert_id']}"))
        st.table(  # a few rows, as text (comments are read, and found by the browser's search)
            [
                {"at": h["at"][:16], "status": h["status"], "by": h["by"], "comment": h["comment"]}
                for h in case["history"]
            ],
        )
        if ctx.can("officer") and cases.next_statuses(case):
            advance_form(case)
        if ctx.can("admin") and case["status"] in ("replied", "closed"):
            with st.form(f"reopen-{case['id']}"):
                why = st.text_input("Why reopen", key=f"reopen-why-{case['id']}")
                if st.form_submit_button("Reopen"):
                    act(case["id"], lambda: cases.reopen(ctx.records, ctx.actor, case["id"], why))


def advance_form(case: dict) -> None:
    cid = case["id"]
    step = f"{cid}-{case['status']}"  # new, empty fields at each step
    with st.form(f"advance-{step}"):
        status = st.selectbox(
            "Next status", cases.next_statuses(case), format_func=cases.STATUS_NAMES.get,
            key=f"status-{step}",
        )  # fmt: skip
        comment = st.text_input("Comment (what was done)", key=f"comment-{step}")
        owner = st.text_input("Owner", value=case["owner"], key=f"owner-{step}")
        reply = st.text_area(
            "Reply or feedback given to the public (for 已反馈)", key=f"reply-{step}"
        )
        if st.form_submit_button("Save"):
            act(cid, lambda: cases.advance(
                ctx.records, ctx.actor, cid, status, comment, reply=reply, owner=owner
            ))  # fmt: skip


def act(cid: str, change) -> None:
    """Make the change, then show the case again, open, whatever the list's filter."""
    try:
        change()
    except (ValueError, PermissionError, KeyError) as e:
        st.error(str(e))
    else:
        st.query_params["case"] = cid
        st.rerun()


counts = cases.counts(ctx.records, today)
cols = st.columns(len(cases.STATUSES) + 1)
for col, status in zip(cols, cases.STATUSES, strict=False):
    col.metric(cases.STATUS_NAMES[status], counts[status])
cols[-1].metric("Overdue", counts["overdue"])

choice = st.segmented_control(
    "Show", ("open", "overdue", *cases.STATUSES, "all"), default="open", key="case_filter"
)
every = cases.list_cases(ctx.records)
if choice == "open":
    shown = [c for c in every if c["status"] in cases.OPEN]
elif choice == "overdue":
    shown = [c for c in every if cases.is_overdue(c, today)]
elif choice in cases.STATUSES:
    shown = [c for c in every if c["status"] == choice]
else:
    shown = every
shown.sort(key=lambda c: (not cases.is_overdue(c, today), c["due"]))
wanted = st.query_params.get("case")  # /cases?case=<id> shows that case whatever the filter
shown = [c for c in every if c["id"] == wanted] + [c for c in shown if c["id"] != wanted]
if not shown:
    st.info("No cases here. Open one from a post, a story or an alert.")
for case in shown:
    show(case)
