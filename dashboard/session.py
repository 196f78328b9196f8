"""Login, logout and the first-login password change, as Streamlit forms.

The logged-in user lives in this browser session's server-side state only (Streamlit keeps
it in memory; nothing is put in a cookie), so closing the tab or restarting the dashboard
logs out. Checking passwords and the audit log are `dashboard.auth`'s job.
"""

from __future__ import annotations

import streamlit as st

from dashboard.auth import Accounts, User
from dashboard.context import USER_KEY


def current_user() -> User | None:
    return st.session_state.get(USER_KEY)


def login_form(accounts: Accounts) -> None:
    """The login form; on success the user is kept in the session and the page reruns."""
    st.title("舆情 Yuqing — log in")
    with st.form("login"):
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        user = accounts.authenticate(name, password)
        if user is None:
            st.error("Wrong user name or password.")
        else:
            st.session_state[USER_KEY] = user
            st.rerun()
    st.caption(
        "No account? An admin adds one with `yuqing users add NAME --role viewer|officer|admin`; "
        "`yuqing demo` prints the admin's one-time password."
    )


def change_password_form(accounts: Accounts, user: User) -> None:
    """Asked once after logging in with a one-time password."""
    st.title("Choose your password")
    st.info("You logged in with a one-time password. Choose your own to go on.")
    with st.form("new_password"):
        first = st.text_input("New password", type="password", key="new_password")
        second = st.text_input("Again", type="password", key="new_password_again")
        submitted = st.form_submit_button("Save password")
    if submitted:
        if first != second:
            st.error("The two passwords differ.")
            return
        try:
            accounts.set_password(user.name, first)
        except ValueError as e:
            st.error(str(e))
            return
        st.rerun()


def logout_button(user: User) -> None:
    with st.sidebar:
        st.caption(f"Logged in as **{user.name}** ({user.role})")
        if st.button("Log out", key="logout"):
            st.session_state.pop(USER_KEY, None)
            st.rerun()
