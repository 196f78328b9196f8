"""Fixtures and steps for the dashboard in a real browser: headless Chromium driven by Selenium
against `streamlit run dashboard/app.py` on a free loopback port, filled by `yuqing demo`.

Needs the Debian packages chromium and chromium-driver (`scripts/setup.sh --dev`).
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.links import URL_ENV
from tests.cli import environment, yuqing

KEY_ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}  # no dev-key warning

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 60


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
    url = f"http://127.0.0.1:{port}"
    env = {**environment(), URL_ENV: url}  # links in briefings and exports point here
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
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
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def make_driver(downloads: Path):
    """Headless Chromium that saves downloads into `downloads`."""
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
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return driver


@pytest.fixture
def browser(downloads: Path):
    if not CHROMEDRIVER.exists():
        pytest.skip(
            "no /usr/bin/chromedriver: run scripts/setup.sh --dev (chromium, chromium-driver)"
        )
    driver = make_driver(downloads)
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
        ec.element_to_be_clickable(
            (By.CSS_SELECTOR, f'input[aria-label="{label}"], textarea[aria-label="{label}"]')
        )
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


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def log_in(driver, password: str) -> None:
    """Fill the login form shown in place of the page asked for."""
    wait_for_text(driver, "log in")
    fill(driver, "User name", "admin")
    fill(driver, "Password", password)
    click(driver, "Log in")


def open_expander(driver, label: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    summary = WebDriverWait(driver, WAIT_S).until(
        ec.element_to_be_clickable((By.XPATH, f'//summary[contains(., "{label}")]'))
    )
    if summary.find_element(By.XPATH, "..").get_attribute("open") is None:
        summary.click()


def click_link(driver, text: str):
    """Follow a link inside the app (page links and the sidebar keep the session)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    link = WebDriverWait(driver, WAIT_S).until(
        ec.element_to_be_clickable((By.XPATH, f'//a[normalize-space(.)="{text}"]'))
    )
    href = link.get_attribute("href")
    link.click()
    return href


def click_when_ready(driver, by: str, locator: str) -> None:
    """Click the element once it takes the click: Streamlit re-renders a page while it runs
    (an expander opening, a rerun), so an element found clickable can be replaced or covered
    before the click lands; find it again until the click goes through."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def clicked(d) -> bool:
        d.find_element(by, locator).click()
        return True

    WebDriverWait(
        driver,
        WAIT_S,
        ignored_exceptions=(
            ElementClickInterceptedException,
            ElementNotInteractableException,
            NoSuchElementException,
            StaleElementReferenceException,
        ),
    ).until(clicked)


def choose(driver, label: str, option: str) -> None:
    """Pick `option` in the selectbox or multiselect labelled `label`."""
    from selenium.webdriver.common.by import By

    click_when_ready(driver, By.CSS_SELECTOR, f'input[aria-label="{label}"]')
    click_when_ready(driver, By.XPATH, f'//*[@role="option"][normalize-space(.)="{option}"]')


def nav(driver, page: str) -> None:
    """Go to a page by its sidebar link (keeps the session, unlike typing its address)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = f'//a[@data-testid="stSidebarNavLink"][.//span[normalize-space(.)="{page}"]]'
    WebDriverWait(driver, WAIT_S).until(ec.element_to_be_clickable((By.XPATH, xpath))).click()
