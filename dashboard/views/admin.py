"""Admins: accounts and roles, the audit log and the configuration in effect."""

from __future__ import annotations

import streamlit as st

from dashboard import audit, context
from dashboard.auth import ROLES, Accounts, new_password, require

ctx = context.current()
require(ctx.user, "admin", "manage users")  # the page is only listed for admins; this holds too
accounts = Accounts(ctx.records)
st.title("Users & audit")

st.subheader("Accounts")
st.dataframe(accounts.list(), hide_index=True)
with st.form("add-user"):
    cols = st.columns(2)
    name = cols[0].text_input("New user", key="add-name")
    role = cols[1].selectbox("Role", ROLES, key="add-role")
    if st.form_submit_button("Add with a one-time password"):
        try:
            password = new_password()
            accounts.add(name, role, password, must_change=True)
            audit.record(ctx.records, "user_added", ctx.actor.name, target=name, role=role)
        except ValueError as e:
            st.error(str(e))
        else:
            st.success(f"Added {name}. One-time password (shown once):")
            st.code(password, language=None)
with st.form("set-role"):
    cols = st.columns(2)
    who = cols[0].selectbox("User", [u["name"] for u in accounts.list()], key="role-user")
    new_role = cols[1].selectbox("New role", ROLES, key="role-role")
    if st.form_submit_button("Change role"):
        try:
            accounts.set_role(ctx.actor, who, new_role)
        except (KeyError, PermissionError) as e:
            st.error(str(e))
        else:
            st.success(f"{who} is now a {new_role}.")

st.subheader("Audit log")
event = st.selectbox(
    "Event",
    ["all", "login", "login_failed", "export", "case_opened", "case_changed", "case_reopened",
     "label_correction", "alert_acknowledged", "alert_resolved", "user_added", "role_changed",
     "report"],
    key="audit-event",
)  # fmt: skip
entries = audit.entries(ctx.records, event=None if event == "all" else event)
st.dataframe(
    [{"at": e["at"][:19], "event": e["event"], "user": e["user"], "detail": str(e["detail"])}
     for e in entries],
    hide_index=True,
)  # fmt: skip

st.subheader("Configuration")
st.caption(f"Config folder {ctx.config.config_dir} · data folder {ctx.config.data_dir}")
st.json(ctx.config.settings.model_dump(mode="json"), expanded=False)
st.json(ctx.departments.model_dump(mode="json"), expanded=False)
