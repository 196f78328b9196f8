"""The dashboard in a real browser (fixtures in tests/browser.py).

It logs in with the demo's one-time admin password, chooses a new one, opens the overview
and the search page, saves screenshots under tests/artifacts/ and checks the page text.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dashboard.filters import Filters
from index.factory import sqlite_path
from index.sqlite_store import SqliteStore
from tests.browser import (
    ARTIFACTS,
    KEY_ENV,
    browser,
    click,
    dashboard,
    downloads,
    fill,
    wait_for_text,
)
from yuqing.schema import SHANGHAI
from yuqing.settings import load_config

__all__ = ["browser", "dashboard", "downloads"]  # fixtures
pytestmark = pytest.mark.slow


def expected_total(config_dir: Path, data: Path, segmenter, query_string: str) -> int:
    config = load_config(config_dir, data_dir=data, environ=KEY_ENV)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    try:
        return store.search(Filters.from_query_string(query_string).query()).total
    finally:
        store.close()


def test_log_in_and_use_overview_and_search(config_dir, dashboard, browser, segmenter) -> None:
    url, password, data = dashboard
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(url + "/")
    wait_for_text(browser, "log in")
    fill(browser, "User name", "admin")
    fill(browser, "Password", "not the password")
    click(browser, "Log in")
    wait_for_text(browser, "Wrong user name or password.")

    fill(browser, "Password", password)
    click(browser, "Log in")
    wait_for_text(browser, "Choose your password")
    fill(browser, "New password", "browser test password")
    fill(browser, "Again", "browser test password")
    click(browser, "Save password")
    text = wait_for_text(browser, "Posts this week")
    wait_for_text(browser, "Largest stories")
    time.sleep(2)  # let the charts draw before the screenshot
    browser.save_screenshot(str(ARTIFACTS / "overview.png"))
    for label in ("Posts today", "Negative share", "Active alerts", "Open cases"):
        assert label in text
    assert "Logged in as admin (admin)" in text

    # A link as an alert sends it: the negative wages posts of the last days.
    since = (datetime.now(SHANGHAI).date() - timedelta(days=3)).isoformat()
    link = f"themes=wages&sentiments=negative&since={since}"
    browser.get(f"{url}/search?{link}")  # a new session: the login cookie logs it in
    text = wait_for_text(browser, "newest first")
    assert "Logged in as admin (admin)" in text
    time.sleep(1)
    browser.save_screenshot(str(ARTIFACTS / "search.png"))
    found = re.search(r"([\d,]+) posts; showing 1–(\d+)", text)
    total = expected_total(config_dir, data, segmenter, link)
    assert total >= 25  # the demo's spike: 25 negative wages posts in the last 3 days
    assert found and int(found.group(1).replace(",", "")) == total
    assert "薪酬分配" in text.split("Sentiments")[0]  # the theme chip, before the next filter
