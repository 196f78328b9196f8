"""Cases (闭环): a grievance taken up, routed to the responsible department and followed to
its end. Plain functions over the RecordStore (kind "case"); the Cases page and tests call them.

A case is opened from a post, a story or an alert, routed by its themes and units to a
department in departments.yaml (归口), which gives its default owner and due date. It moves
only forward: received → transferred → in_progress → replied → closed (受理 → 转送 → 办理中 →
已反馈 → 办结); each change keeps who, when and a comment in `history`. An admin may reopen a
closed case. The case id is written onto every post in it (`Annotations.case_ids`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from dashboard import audit
from dashboard.auth import User, require
from index.base import SearchQuery, Store
from index.records import RecordStore
from yuqing.routing import Departments
from yuqing.schema import SHANGHAI, Annotations, Post

logger = logging.getLogger(__name__)

KIND = "case"
STATUSES = ("received", "transferred", "in_progress", "replied", "closed")
STATUS_NAMES = {
    "received": "受理 received",
    "transferred": "转送 transferred",
    "in_progress": "办理中 in progress",
    "replied": "已反馈 replied",
    "closed": "办结 closed",
}
OPEN = STATUSES[:3]  # still waiting on the department: these can be overdue
STORY_POSTS = 500  # at most this many posts of a story are linked to its case


class CaseError(ValueError):
    """A change a case cannot take (a backward step, a reply without text)."""


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


def open_case(
    records: RecordStore,
    store: Store,
    departments: Departments,
    actor: User,
    *,
    title: str,
    themes: Sequence[str] = (),
    units: Sequence[str] = (),
    post_ids: Sequence[str] = (),
    story_id: str | None = None,
    alert_id: str | None = None,
    owner: str | None = None,
    department: str | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Open a case (officer or admin), routed to its department, and link its posts to it."""
    require(actor, "officer", "open cases")
    if not title.strip():
        raise CaseError("a case needs a title")
    when = _now(now)
    dept = departments.get(department) if department else departments.route(themes, units)
    ids = list(dict.fromkeys(post_ids))
    if story_id:
        found = store.search(SearchQuery(story_ids=(story_id,), limit=STORY_POSTS))
        ids += [h.post.id for h in found.hits if h.post.id not in ids]
    case_id = f"C{when:%Y%m%d}-{uuid.uuid4().hex[:6]}"
    case = {
        "id": case_id,
        "title": title.strip(),
        "status": "received",
        "origin": "alert" if alert_id else "story" if story_id else "post",
        "themes": list(themes),
        "units": list(units),
        "post_ids": ids,
        "story_id": story_id,
        "alert_id": alert_id,
        "department": dept.id,
        "department_name": dept.name,
        "owner": (owner or "").strip() or dept.owner or "",
        "opened_by": actor.name,
        "opened_at": when.isoformat(),
        "due": (when.date() + timedelta(days=dept.due_days)).isoformat(),
        "reply": None,
        "replied_at": None,
        "closed_at": None,
        "history": [_event(when, "received", actor, comment or "opened")],
    }
    records.put(KIND, case_id, case)
    link_posts(store, case_id, ids)
    audit.record(
        records, "case_opened", actor.name, case=case_id, department=dept.id, posts=len(ids)
    )
    return case


def themes_of(post: Post) -> list[str]:
    """The themes a case about `post` is routed by: an officer's correction, else the model's."""
    labels = post.annotations.labels if post.annotations else None
    return list(labels.themes) if labels is not None else list(post.themes)


def link_posts(store: Store, case_id: str, post_ids: Iterable[str]) -> int:
    """Add `case_id` to each post's annotations, keeping the officer labels already there."""
    linked = 0
    for pid in post_ids:
        post = store.get(pid)
        if post is None:
            logger.warning("case %s: post %s is not in the store", case_id, pid)
            continue
        current = post.annotations or Annotations()
        if case_id in current.case_ids:
            continue
        store.annotate(
            pid,
            current.model_copy(
                update={
                    "case_ids": [*current.case_ids, case_id],
                    "updated_at": datetime.now(SHANGHAI),
                }
            ),
        )
        linked += 1
    return linked


def _event(when: datetime, status: str, actor: User, comment: str, **extra: Any) -> dict:
    return {
        "at": when.isoformat(),
        "event": status,
        "status": status,
        "by": actor.name,
        "comment": comment,
        **extra,
    }


def get_case(records: RecordStore, case_id: str) -> dict[str, Any]:
    case = records.get(KIND, case_id)
    if case is None:
        raise KeyError(f"no case {case_id}")
    return case


def next_statuses(case: dict[str, Any]) -> list[str]:
    """The statuses a case may move to: any later one."""
    return list(STATUSES[STATUSES.index(case["status"]) + 1 :])


def advance(
    records: RecordStore,
    actor: User,
    case_id: str,
    status: str,
    comment: str,
    *,
    reply: str | None = None,
    owner: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Move a case forward to `status` with a comment; `replied` records the public reply."""
    require(actor, "officer", "change cases")
    case = get_case(records, case_id)
    if status not in STATUSES:
        raise CaseError(f"status must be one of {', '.join(STATUSES)}")
    if status not in next_statuses(case):
        raise CaseError(
            f"case {case_id} is {case['status']}: it can only move forward "
            f"({', '.join(next_statuses(case)) or 'it is closed'})"
        )
    if not comment.strip():
        raise CaseError("each change needs a comment saying what was done")
    when = _now(now)
    if status == "replied":
        if not (reply or "").strip():
            raise CaseError("record the reply or feedback given to the public")
        case["reply"] = reply.strip()
        case["replied_at"] = when.isoformat()
    if status == "closed":
        case["closed_at"] = when.isoformat()
    if owner is not None and owner.strip():
        case["owner"] = owner.strip()
    case["status"] = status
    case["history"].append(_event(when, status, actor, comment.strip()))
    records.put(KIND, case_id, case)
    audit.record(records, "case_changed", actor.name, case=case_id, status=status)
    return case


def reopen(
    records: RecordStore, actor: User, case_id: str, comment: str, now: datetime | None = None
) -> dict[str, Any]:
    """Admins only: take a replied or closed case back to in_progress."""
    require(actor, "admin", "reopen cases")
    case = get_case(records, case_id)
    if case["status"] not in ("replied", "closed"):
        raise CaseError(f"case {case_id} is {case['status']}: only replied or closed cases reopen")
    if not comment.strip():
        raise CaseError("say why the case is reopened")
    when = _now(now)
    case["status"] = "in_progress"
    case["closed_at"] = None
    case["history"].append(_event(when, "in_progress", actor, comment.strip(), reopened=True))
    records.put(KIND, case_id, case)
    audit.record(records, "case_reopened", actor.name, case=case_id)
    return case


def is_overdue(case: dict[str, Any], today: date | None = None) -> bool:
    """A case still with the department (received, transferred, in progress) past its due day."""
    today = today or datetime.now(SHANGHAI).date()
    return case["status"] in OPEN and date.fromisoformat(case["due"]) < today


def list_cases(
    records: RecordStore, *, status: str | None = None, department: str | None = None
) -> list[dict[str, Any]]:
    where = {k: v for k, v in (("status", status), ("department", department)) if v}
    return records.list(KIND, where=where or None)


def counts(records: RecordStore, today: date | None = None) -> dict[str, int]:
    """Cases per status, plus `open` (not yet replied) and `overdue`."""
    result = dict.fromkeys(STATUSES, 0) | {"open": 0, "overdue": 0}
    for case in records.list(KIND):
        result[case["status"]] += 1
        result["open"] += case["status"] in OPEN
        result["overdue"] += is_overdue(case, today)
    return result


def days_open(case: dict[str, Any], today: date | None = None) -> int:
    today = today or datetime.now(SHANGHAI).date()
    end = case.get("replied_at") or case.get("closed_at")
    until = datetime.fromisoformat(end).date() if end else today
    return (until - datetime.fromisoformat(case["opened_at"]).date()).days
