"""Remembered logins: a random token in a browser cookie, so a link opened in a new tab
(from a briefing, an alert or an export) finds the user still logged in.

Only the token's SHA-256 is stored (RecordStore kind "login_token"), with its user and
expiry. A token stops working when it expires (TTL), when its user logs out, when the
account is gone, or when the password changed after it was issued. The role always comes
from the account, so a changed role holds at once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from dashboard.auth import Accounts, User
from index.records import RecordStore
from yuqing.schema import SHANGHAI

logger = logging.getLogger(__name__)

KIND = "login_token"
COOKIE = "yuqing_login"
TTL = timedelta(hours=12)


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


def issue(records: RecordStore, user: User, now: datetime | None = None) -> str:
    """A new token for `user`, valid for TTL."""
    token = secrets.token_urlsafe(32)
    when = _now(now)
    doc = {
        "name": user.name,
        "issued_at": when.isoformat(),
        "expires_at": (when + TTL).isoformat(),
    }
    records.put(KIND, _id(token), doc)
    return token


def resolve(
    records: RecordStore, accounts: Accounts, token: str | None, now: datetime | None = None
) -> User | None:
    """The user a token logs in, or None when it is unknown, expired or outdated."""
    if not token:
        return None
    doc = records.get(KIND, _id(token))
    if doc is None:
        return None
    issued = datetime.fromisoformat(doc["issued_at"])
    account = accounts.get(doc["name"])
    changed = account and account.get("password_changed_at")
    if (
        _now(now) >= datetime.fromisoformat(doc["expires_at"])
        or account is None
        or (changed and datetime.fromisoformat(changed) > issued)
    ):
        records.delete(KIND, _id(token))
        return None
    return User(account["name"], account["role"])


def revoke(records: RecordStore, token: str | None) -> None:
    """Forget a token (logging out)."""
    if token:
        records.delete(KIND, _id(token))
