"""Login, logout and the first-login password change, as Streamlit forms.

The logged-in user lives in this browser session's server-side state. Logging in also
puts a random token in a cookie (`dashboard.login_tokens`, valid for 12 hours), so a link
opened in a new tab — a briefing's, an alert's — finds the user logged in; logging out
revokes it. Checking passwords and the audit log are `dashboard.auth`'s job.
"""

from __future__ import annotations

import json

import streamlit as st
import streamlit.components.v1 as components

from dashboard import audit, login_tokens
from dashboard.auth import Accounts, User
from dashboard.context import USER_KEY

TOKEN_KEY = "yuqing_login_token"  # this session's token
COOKIE_KEY = "yuqing_cookie_to_set"  # a token (or "" to clear) the browser has yet to store


def current_user(accounts: Accounts) -> User | None:
    """The session's user, else the one the browser's login cookie names."""
    user = st.session_state.get(USER_KEY)
    if user is not None:
        return user
    token = _cookie()
    user = login_tokens.resolve(accounts.records, accounts, token)
    if user is not None:
        st.session_state[USER_KEY] = user
        st.session_state[TOKEN_KEY] = token
        audit.record(accounts.records, "login_resumed", user.name)
    return user


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(login_tokens.COOKIE)
    except (AttributeError, RuntimeError):  # no browser request behind this run
        return None
    return value if isinstance(value, str) else None  # AppTest has no real cookies


def _remember(accounts: Accounts, user: User) -> None:
    token = login_tokens.issue(accounts.records, user)
    login_tokens.revoke(accounts.records, st.session_state.get(TOKEN_KEY))
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_KEY] = token


def store_cookie() -> None:
    """Hand a new (or cleared) login cookie to the browser, once."""
    token = st.session_state.pop(COOKIE_KEY, None)
    if token is None:
        return
    age = int(login_tokens.TTL.total_seconds()) if token else 0
    cookie = json.dumps(f"{login_tokens.COOKIE}={token}; Path=/; Max-Age={age}; SameSite=Strict")
    components.html(
        "<script>const d = window.parent.document; d.cookie = "
        f"{cookie} + (d.location.protocol === 'https:' ? '; Secure' : '');</script>",
        height=0,
    )


def login_form(accounts: Accounts) -> None:
    """The login form; on success the user is kept in the session and the page reruns."""
    st.title("舆情 Yuqing — log in")
    store_cookie()
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
            _remember(accounts, user)
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
        _remember(accounts, user)  # the password change ended the older token
        st.rerun()


def logout_button(accounts: Accounts, user: User) -> None:
    with st.sidebar:
        st.caption(f"Logged in as **{user.name}** ({user.role})")
        store_cookie()
        if st.button("Log out", key="logout"):
            st.session_state.pop(USER_KEY, None)
            login_tokens.revoke(accounts.records, st.session_state.pop(TOKEN_KEY, None))
            login_tokens.revoke(accounts.records, _cookie())
            st.session_state[COOKIE_KEY] = ""  # and clear the cookie
            st.rerun()
