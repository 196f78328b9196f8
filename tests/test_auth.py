"""Accounts, roles, login and the audit log; `yuqing users` and the demo's admin account."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import audit
from dashboard.auth import Accounts, PermissionDenied, User, require
from index.factory import sqlite_path
from index.records import SqliteRecords
from tests import test_dashboard
from tests.cli import yuqing
from tests.test_dashboard import APP, fill_store
from yuqing.settings import load_config

KEY_ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}  # no dev-key warning

app_dirs = test_dashboard.app_dirs  # the fixture: configs and data in tmp_path


@pytest.fixture
def records(tmp_path: Path) -> SqliteRecords:
    records = SqliteRecords(tmp_path / "yuqing.sqlite3")
    records.setup()
    return records


def test_passwords_are_argon2_hashes_and_logins_are_audited(records) -> None:
    accounts = Accounts(records)
    accounts.add("li", "officer", "correct horse")
    stored = records.get("user", "li")
    assert stored["hash"].startswith("$argon2id$") and "correct horse" not in str(stored)
    assert accounts.authenticate("li", "correct horse") == User("li", "officer")
    assert accounts.authenticate("li", "wrong password") is None
    assert accounts.authenticate("nobody", "correct horse") is None
    events = [(e["event"], e["user"]) for e in audit.entries(records)]
    assert events == [("login_failed", "nobody"), ("login_failed", "li"), ("login", "li")]
    assert audit.entries(records, event="login_failed")[1]["detail"] == {"known_user": True}
    assert all("hash" not in u for u in accounts.list())


def test_account_rules(records) -> None:
    accounts = Accounts(records)
    accounts.add("li", "officer", "12345678")
    with pytest.raises(ValueError, match="exists"):
        accounts.add("li", "admin", "12345678")
    with pytest.raises(ValueError, match="at least 8"):
        accounts.add("wang", "viewer", "short")
    with pytest.raises(ValueError, match="role must be"):
        accounts.add("wang", "boss", "12345678")
    with pytest.raises(ValueError, match="user name"):
        accounts.add("a b", "viewer", "12345678")
    accounts.set_password("li", "new password", must_change=True)
    assert accounts.must_change("li")
    assert accounts.authenticate("li", "12345678") is None
    assert accounts.authenticate("li", "new password") == User("li", "officer")
    with pytest.raises(PermissionDenied):
        accounts.set_role(User("li", "officer"), "li", "admin")
    accounts.set_role(User("root", "admin"), "li", "viewer")
    assert accounts.get("li")["role"] == "viewer"


def test_roles_include_the_ones_below() -> None:
    assert User("a", "admin").can("officer") and User("a", "admin").can("viewer")
    assert User("o", "officer").can("viewer") and not User("o", "officer").can("admin")
    assert not User("v", "viewer").can("officer")
    with pytest.raises(PermissionDenied, match="needs the officer role"):
        require(User("v", "viewer"), "officer", "export posts")
    with pytest.raises(PermissionDenied, match="log in"):
        require(None, "viewer", "read")


# --- the login page ----------------------------------------------------------------------


def _accounts(config_dir: Path, data_dir: Path) -> Accounts:
    config = load_config(config_dir, data_dir=data_dir, environ=KEY_ENV)
    records = SqliteRecords(sqlite_path(config.settings))
    records.setup()
    return Accounts(records)


def _login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value(password)
    return next(b for b in at.button if b.label == "Log in").click().run()


def test_login_page_refuses_a_wrong_password_and_admits_the_right_one(app_dirs, segmenter) -> None:
    fill_store(*app_dirs, segmenter)
    accounts = _accounts(*app_dirs)
    accounts.add("li", "officer", "correct horse")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert at.title[0].value == "舆情 Yuqing — log in"
    assert not at.metric  # nothing shown before login
    _login(at, "li", "wrong")
    assert at.error[0].value == "Wrong user name or password."
    assert not at.metric
    _login(at, "li", "correct horse")
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Logged in as **li** (officer)" in [c.value for c in at.sidebar.caption]
    assert [e["event"] for e in audit.entries(accounts.records)] == ["login", "login_failed"]
    next(b for b in at.button if b.label == "Log out").click().run()
    assert at.title[0].value == "舆情 Yuqing — log in"


def test_a_one_time_password_must_be_changed_first(app_dirs, segmenter) -> None:
    fill_store(*app_dirs, segmenter)
    accounts = _accounts(*app_dirs)
    accounts.add("admin", "admin", "one-time-pw", must_change=True)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    _login(at, "admin", "one-time-pw")
    assert at.title[0].value == "Choose your password"
    at.text_input(key="new_password").set_value("my own password")
    at.text_input(key="new_password_again").set_value("my own password")
    next(b for b in at.button if b.label == "Save password").click().run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert accounts.authenticate("admin", "my own password") == User("admin", "admin")


def test_only_admins_get_the_users_page(app_dirs, segmenter) -> None:
    fill_store(*app_dirs, segmenter)
    accounts = _accounts(*app_dirs)
    accounts.add("boss", "admin", "admin password")
    accounts.add("li", "officer", "officer password")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    _login(at, "li", "officer password")
    with pytest.raises(ValueError):  # not a page an officer's navigation has
        at.switch_page("views/admin.py")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    _login(at, "boss", "admin password")
    at.switch_page("views/admin.py").run()
    assert not at.exception
    assert at.title[0].value == "Users & audit"
    names = list(at.dataframe[0].value["name"])
    assert names == ["boss", "li"]
    at.text_input(key="add-name").set_value("wang")
    at.selectbox(key="add-role").set_value("viewer")
    next(b for b in at.button if b.label == "Add with a one-time password").click().run()
    assert "Added wang" in at.success[0].value
    assert accounts.get("wang")["must_change"] is True


# --- the command line --------------------------------------------------------------------


@pytest.mark.slow
def test_users_cli_adds_lists_and_changes_passwords(
    config_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("YUQING_PASSWORD", "first password")
    added = yuqing(config_dir, data, "users", "add", "li", "--role", "officer")
    assert added.returncode == 0, added.stderr
    again = yuqing(config_dir, data, "users", "add", "li", "--role", "officer")
    assert again.returncode == 2 and "exists" in again.stderr
    listed = yuqing(config_dir, data, "users", "list")
    assert listed.stdout.startswith("li\tofficer")
    monkeypatch.setenv("YUQING_PASSWORD", "second password")
    assert yuqing(config_dir, data, "users", "passwd", "li").returncode == 0
    missing = yuqing(config_dir, data, "users", "passwd", "nobody")
    assert missing.returncode == 2 and "yuqing users add nobody" in missing.stderr
    monkeypatch.setenv("YUQING_PASSWORD", "short")
    weak = yuqing(config_dir, data, "users", "add", "wang", "--role", "viewer")
    assert weak.returncode == 2 and "at least 8" in weak.stderr
    accounts = _accounts(config_dir, data)
    assert accounts.authenticate("li", "second password") == User("li", "officer")
    assert accounts.authenticate("li", "first password") is None


@pytest.mark.slow
def test_demo_prints_a_one_time_admin_password(config_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = yuqing(config_dir, data, "demo", "--no-dashboard", "--port", "0")
    assert done.returncode == 0, done.stderr
    found = re.search(
        r"Dashboard login: admin / (\S+) \(one-time; change it with `yuqing users passwd admin`\)",
        done.stdout,
    )
    assert found, done.stdout
    accounts = _accounts(config_dir, data)
    assert accounts.authenticate("admin", found.group(1)) == User("admin", "admin")
    assert accounts.must_change("admin")
