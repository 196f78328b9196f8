"""Remembered logins (dashboard.login_tokens) against a real SQLite RecordStore."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dashboard import login_tokens
from dashboard.auth import Accounts
from index.records import SqliteRecords
from yuqing.schema import SHANGHAI


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    records = SqliteRecords(tmp_path / "yuqing.sqlite3")
    records.setup()
    return Accounts(records)


def test_a_token_logs_its_user_in_until_it_expires(accounts) -> None:
    user = accounts.add("ann", "officer", "ann password 1")
    token = login_tokens.issue(accounts.records, user)
    assert login_tokens.resolve(accounts.records, accounts, token) == user
    [doc] = accounts.records.list(login_tokens.KIND)
    assert token not in str(doc)  # only its hash is stored
    later = datetime.now(SHANGHAI) + login_tokens.TTL + timedelta(minutes=1)
    assert login_tokens.resolve(accounts.records, accounts, token, now=later) is None
    assert accounts.records.list(login_tokens.KIND) == []  # an expired token is dropped
    assert login_tokens.resolve(accounts.records, accounts, None) is None
    assert login_tokens.resolve(accounts.records, accounts, "made-up") is None


def test_logout_and_password_change_end_a_token_and_roles_come_from_the_account(
    accounts,
) -> None:
    user = accounts.add("ann", "viewer", "ann password 1")
    kept = login_tokens.issue(accounts.records, user)
    gone = login_tokens.issue(accounts.records, user)
    login_tokens.revoke(accounts.records, gone)
    assert login_tokens.resolve(accounts.records, accounts, gone) is None
    accounts.records.put("user", "ann", {**accounts.get("ann"), "role": "officer"})
    assert login_tokens.resolve(accounts.records, accounts, kept).role == "officer"
    accounts.set_password("ann", "ann password 2")
    assert login_tokens.resolve(accounts.records, accounts, kept) is None
    fresh = login_tokens.issue(accounts.records, user)
    accounts.records.delete("user", "ann")
    assert login_tokens.resolve(accounts.records, accounts, fresh) is None
