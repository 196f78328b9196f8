"""The dashboard in a real browser: headless Chromium driven by Selenium against
`streamlit run dashboard/app.py` on a free loopback port, filled by `yuqing demo`.

It logs in with the demo's one-time admin password, chooses a new one, opens the overview
and the search page, saves screenshots under tests/artifacts/ and checks the page text.
Needs the Debian packages chromium and chromium-driver (`scripts/setup.sh --dev`).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dashboard.filters import Filters
from index.factory import sqlite_path
from index.sqlite_store import SqliteStore
from tests.cli import environment, yuqing
from yuqing.schema import SHANGHAI
from yuqing.settings import load_config

KEY_ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}  # no dev-key warning

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 60

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard(config_dir: Path, tmp_path: Path):
    """The demo's data, the dashboard serving it, and the admin's one-time password."""
    data = tmp_path / "data"
    done = yuqing(config_dir, data, "demo", "--no-dashboard", "--port", "0")
    assert done.returncode == 0, done.stderr
    password = re.search(r"Dashboard login: admin / (\S+) ", done.stdout).group(1)
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--", "--config-dir", str(config_dir), "--data-dir", str(data),
    ]  # fmt: skip
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=environment(), cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "the dashboard did not start: " + (tmp_path / "streamlit.log").read_text()
                )
            time.sleep(0.5)
        yield url, password, data
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def browser():
    if not CHROMEDRIVER.exists():
        pytest.skip(
            "no /usr/bin/chromedriver: run scripts/setup.sh --dev (chromium, chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1800",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def wait_for_text(driver, text: str) -> str:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, WAIT_S).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text
        )
    except TimeoutException:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "failure.png"))
        body = driver.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"no {text!r} on the page (tests/artifacts/failure.png); it says: {body}")
    return driver.find_element(By.TAG_NAME, "body").text


def fill(driver, label: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, WAIT_S).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f'input[aria-label="{label}"]'))
    )
    box.send_keys(Keys.CONTROL, "a")  # clear() would not tell React the value changed
    box.send_keys(Keys.DELETE)
    box.send_keys(value)
    box.send_keys(Keys.TAB)


def click(driver, label: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(
        By.XPATH, f'//button[.//p[normalize-space()="{label}"] or normalize-space()="{label}"]'
    ).click()


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
    browser.get(f"{url}/search?{link}")
    wait_for_text(browser, "log in")  # a new browser session logs in again
    fill(browser, "User name", "admin")
    fill(browser, "Password", "browser test password")
    click(browser, "Log in")
    text = wait_for_text(browser, "newest first")
    time.sleep(1)
    browser.save_screenshot(str(ARTIFACTS / "search.png"))
    found = re.search(r"([\d,]+) posts; showing 1–(\d+)", text)
    total = expected_total(config_dir, data, segmenter, link)
    assert total >= 25  # the demo's spike: 25 negative wages posts in the last 3 days
    assert found and int(found.group(1).replace(",", "")) == total
    assert "薪酬分配" in text.split("Sentiments")[0]  # the theme chip, before the next filter
