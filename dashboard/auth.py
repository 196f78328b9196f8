"""Accounts, roles and login: users are RecordStore records (kind "user") with argon2 hashes.

Roles, each including the one before: `viewer` reads; `officer` also labels posts, works
cases, acknowledges alerts, exports and makes briefings; `admin` also manages accounts and
sees the configuration. Every module that changes something calls `require`, so a role's
limits hold whatever the pages show.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dashboard import audit
from index.records import RecordStore
from yuqing.schema import SHANGHAI

logger = logging.getLogger(__name__)

KIND = "user"
ROLES = ("viewer", "officer", "admin")
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


class PermissionDenied(PermissionError):
    """The user's role does not allow the action."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this user has `role` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def require(user: User | None, role: str, action: str) -> User:
    """`user`, if their role allows `action`; else PermissionDenied naming the role needed."""
    if user is None:
        raise PermissionDenied(f"log in to {action}")
    if not user.can(role):
        raise PermissionDenied(f"{user.name} is a {user.role}; to {action} needs the {role} role")
    return user


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def new_password() -> str:
    """A random password for a new or reset account (about 96 bits)."""
    return secrets.token_urlsafe(12)


class Accounts:
    """The dashboard's users, in the configured RecordStore."""

    def __init__(self, records: RecordStore, hasher: PasswordHasher = _HASHER):
        self.records = records
        self.hasher = hasher

    def get(self, name: str) -> dict[str, Any] | None:
        return self.records.get(KIND, name)

    def list(self) -> list[dict[str, Any]]:
        """Every account without its hash, by name."""
        docs = self.records.list(KIND)
        return sorted(
            ({k: v for k, v in d.items() if k != "hash"} for d in docs), key=lambda d: d["name"]
        )

    def add(
        self,
        name: str,
        role: str,
        password: str,
        *,
        replace: bool = False,
        must_change: bool = False,
    ) -> User:
        """Create an account (ValueError if it exists, unless `replace`)."""
        if not _NAME.match(name):
            raise ValueError(f"user name {name!r}: use 2-32 letters, digits, '.', '_' or '-'")
        check_role(role)
        check_password(password)
        if not replace and self.get(name) is not None:
            raise ValueError(f"user {name!r} exists; use `yuqing users passwd {name}`")
        now = datetime.now(SHANGHAI).isoformat()
        doc = {
            "name": name,
            "role": role,
            "hash": self.hasher.hash(password),
            "created_at": now,
            "password_changed_at": now,
            "must_change": must_change,
        }
        self.records.put(KIND, name, doc)
        return User(name, role)

    def set_password(self, name: str, password: str, *, must_change: bool = False) -> None:
        doc = self.get(name)
        if doc is None:
            raise KeyError(f"no user {name!r}; add one with `yuqing users add {name} --role R`")
        check_password(password)
        doc.update(
            hash=self.hasher.hash(password),
            password_changed_at=datetime.now(SHANGHAI).isoformat(),
            must_change=must_change,
        )
        self.records.put(KIND, name, doc)

    def set_role(self, actor: User, name: str, role: str) -> None:
        require(actor, "admin", "change roles")
        doc = self.get(name)
        if doc is None:
            raise KeyError(f"no user {name!r}")
        doc["role"] = check_role(role)
        self.records.put(KIND, name, doc)
        audit.record(self.records, "role_changed", actor.name, target=name, role=role)

    def must_change(self, name: str) -> bool:
        doc = self.get(name)
        return bool(doc and doc.get("must_change"))

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs; every attempt goes into the audit log."""
        doc = self.get(name.strip()) if name else None
        try:
            if doc is None:
                self.hasher.verify(_DUMMY, password or "-")
                raise VerifyMismatchError
            self.hasher.verify(doc["hash"], password)
        except (VerificationError, InvalidHashError):
            audit.record(self.records, "login_failed", name or "", known_user=doc is not None)
            return None
        if self.hasher.check_needs_rehash(doc["hash"]):
            doc["hash"] = self.hasher.hash(password)
            self.records.put(KIND, doc["name"], doc)
        audit.record(self.records, "login", doc["name"], role=doc["role"])
        return User(doc["name"], doc["role"])
