"""Alerts raised by the alerts stage (RecordStore kind "alert"): listing and acknowledgement.

The alerts stage writes them; the dashboard only reads them and records an officer's
acknowledgement or resolution (status, acked_by, acked_at and a `history` entry).
"""

from __future__ import annotations

from typing import Any

from alerts import history
from alerts.engine import KIND
from dashboard import audit
from dashboard.auth import User, require
from dashboard.filters import Filters
from index.records import RecordStore

STATUSES = ("open", "acknowledged", "resolved")
ACTIVE = ("open", "acknowledged")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def list_alerts(records: RecordStore, status: str | None = None) -> list[dict[str, Any]]:
    """Alerts, newest fired first (only `status` ones when given)."""
    docs = records.list(KIND, where={"status": status} if status else None)
    return sorted(docs, key=lambda a: a.get("fired_at") or "", reverse=True)


def active_count(records: RecordStore) -> int:
    return sum(1 for a in records.list(KIND) if a.get("status") in ACTIVE)


def most_urgent(records: RecordStore, limit: int = 5) -> list[dict[str, Any]]:
    """The active alerts the overview lists: most severe first, then newest."""
    active = [a for a in list_alerts(records) if a.get("status") in ACTIVE]
    active.sort(key=lambda a: SEVERITY_ORDER.get(a.get("severity") or "", len(SEVERITY_ORDER)))
    return active[:limit]


def _change(
    records: RecordStore, actor: User, alert_id: str, event: str, comment: str, step: Any
) -> dict[str, Any]:
    """The alerts stage's own step (`alerts.history`), by an officer, written to the audit log."""
    require(actor, "officer", f"{event} alerts")
    try:
        alert = step(records, alert_id, actor.name, comment)
    except KeyError:
        raise KeyError(f"no alert {alert_id}") from None
    audit.record(records, f"alert_{event}d", actor.name, alert=alert_id, comment=comment)
    return alert


def acknowledge(records: RecordStore, actor: User, alert_id: str, comment: str = "") -> dict:
    """An officer has seen the alert and is acting on it."""
    alert = records.get(KIND, alert_id)
    if alert is not None and alert.get("status") != "open":
        raise ValueError(f"alert {alert_id} is {alert.get('status')}, not open")
    return _change(records, actor, alert_id, "acknowledge", comment, history.acknowledge)


def resolve(records: RecordStore, actor: User, alert_id: str, comment: str = "") -> dict:
    return _change(records, actor, alert_id, "resolve", comment, history.resolve)


def search_filters(alert: dict[str, Any]) -> Filters:
    """The search that shows an alert's posts: its scope, its window, negative for spikes."""
    scope = alert.get("scope") or {}
    url = alert.get("dashboard_url") or ""
    if "?" in url:
        return Filters.from_query_string(url.split("?", 1)[1])

    def one(key: str) -> tuple[str, ...]:
        return (scope[key],) if scope.get(key) else ()

    since = (alert.get("window_start") or "")[:10] or None
    return Filters(
        themes=one("theme"),
        units=one("unit"),
        sources=one("source"),
        story_ids=one("story_id"),
        since=since,
    )
