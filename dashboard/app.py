"""The Yuqing dashboard: `yuqing dashboard`, or

    streamlit run dashboard/app.py -- --config-dir configs [--data-dir data]

The folders come from the arguments after `--`, else from YUQING_CONFIG_DIR and
YUQING_DATA_DIR, else `configs` and settings.yaml's `data_dir`. This file loads the config
and the store once per process, says in words what is missing, asks the user to log in, and
hands over to a page their role may see.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import streamlit as st

from dashboard import links, session
from dashboard.auth import Accounts
from dashboard.context import STORE_ERRORS, AppContext, set_current
from index.base import Store
from index.records import RecordStore
from yuqing.config_errors import ConfigError
from yuqing.routing import Departments
from yuqing.services import departments_for, records_for, store_for
from yuqing.settings import Config, load_config

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


def parse_args(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    """The config and data folders: arguments first, then the environment, then defaults."""
    parser = argparse.ArgumentParser(prog="dashboard/app.py", allow_abbrev=False)
    parser.add_argument("--config-dir", default=environ.get("YUQING_CONFIG_DIR") or "configs")
    parser.add_argument("--data-dir", default=environ.get("YUQING_DATA_DIR") or None)
    args, _ = parser.parse_known_args(list(argv))
    return args


@st.cache_resource(show_spinner="Loading configuration…")
def get_config(config_dir: str, data_dir: str | None) -> Config:
    return load_config(config_dir, data_dir=data_dir)


@st.cache_resource(show_spinner="Opening the store…")
def get_store(config_dir: str, data_dir: str | None) -> Store:
    return store_for(get_config(config_dir, data_dir))


@st.cache_resource(show_spinner=False)
def get_records(config_dir: str, data_dir: str | None) -> RecordStore:
    return records_for(get_config(config_dir, data_dir))


@st.cache_resource(show_spinner=False)
def get_departments(config_dir: str, data_dir: str | None) -> Departments:
    return departments_for(get_config(config_dir, data_dir))


def pages(admin: bool) -> list:
    """Every page; the users and audit page for admins only."""

    def page(name: str, title: str, icon: str, **kw: object) -> st.Page:
        return st.Page(HERE / "views" / f"{name}.py", title=title, icon=icon, **kw)

    found = [
        page("overview", "Overview", ":material/monitoring:", default=True),
        page("search", "Search", ":material/search:"),
        page("post", "Post", ":material/article:"),
        page("alerts", "Alerts", ":material/notifications:"),
        page("cases", "Cases", ":material/assignment:"),
        page("briefings", "Briefings", ":material/description:"),
        page("health", "Sources", ":material/health_and_safety:"),
    ]
    if admin:
        found.append(page("admin", "Users & audit", ":material/admin_panel_settings:"))
    return found


def _where(config: Config) -> str:
    if config.settings.store.backend == "elasticsearch":
        es = config.settings.store.elasticsearch
        return f"Elasticsearch at {es.url} (index `{es.index}`)"
    return f"the SQLite store in `{config.data_dir}`"


def show_config_error(error: ConfigError) -> None:
    details = str(error).replace("```", "'''")
    st.error(
        "**The dashboard cannot start: a configuration file is invalid.** "
        f"Fix it as the message says, then reload this page.\n\n```text\n{details}\n```"
    )


def show_store_unreachable(config: Config, error: Exception) -> None:
    logger.warning("store unreachable: %s", error)
    st.info(
        f"**Cannot reach {_where(config)}.** Start it (`scripts/elasticsearch.sh start`) "
        "or set `store.backend: sqlite` in settings.yaml, then reload this page. "
        "To fill a store: run `yuqing demo` for generated demo posts, or `yuqing crawl`."
    )


def show_empty_store(config: Config) -> None:
    st.info(
        f"**No posts yet** in {_where(config)}. Run `yuqing demo` to crawl the built-in demo "
        "site, or `yuqing crawl` to collect from the sources in sources.yaml, "
        "then reload this page."
    )


def main() -> None:
    args = parse_args(sys.argv[1:], os.environ)
    st.set_page_config(page_title="舆情 Yuqing", layout="wide")

    try:
        config = get_config(args.config_dir, args.data_dir)
    except ConfigError as e:
        show_config_error(e)
        st.stop()
    try:
        departments = get_departments(args.config_dir, args.data_dir)
    except ConfigError as e:
        show_config_error(e)
        st.stop()
    try:
        store = get_store(args.config_dir, args.data_dir)
        records = get_records(args.config_dir, args.data_dir)
        empty = store.count() == 0
    except STORE_ERRORS as e:
        show_store_unreachable(config, e)
        st.stop()

    accounts = Accounts(records)
    user = session.current_user(accounts)
    # The page asked for (say /search?themes=wages from an alert) is kept through the login.
    page = st.navigation(
        pages(admin=user is not None and user.can("admin")),
        position="sidebar" if user else "hidden",
    )
    if user is None:
        session.login_form(accounts)
        st.stop()
    if accounts.must_change(user.name):
        session.change_password_form(accounts, user)
        st.stop()
    session.logout_button(accounts, user)
    if empty:
        show_empty_store(config)
        st.stop()

    set_current(
        AppContext.build(
            config,
            store,
            records,
            departments,
            f"{args.config_dir}|{args.data_dir}",
            links.base_url(config),
            user,
        )
    )
    try:
        page.run()
    except STORE_ERRORS as e:
        show_store_unreachable(config, e)


if __name__ == "__main__":  # streamlit runs this file as __main__
    main()
