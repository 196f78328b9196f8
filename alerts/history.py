"""What officers do to an alert: acknowledge it (someone is on it) and resolve it (done). Each
step is kept in the alert's `history`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.engine import KIND
from index.records import RecordStore
from yuqing.schema import SHANGHAI


def _step(
    records: RecordStore, alert_id: str, user: str, event: str, comment: str, status: str
) -> dict[str, Any]:
    doc = records.get(KIND, alert_id)
    if doc is None:
        raise KeyError(alert_id)
    at = datetime.now(SHANGHAI).isoformat()
    doc["status"] = status
    if event == "acknowledged":
        doc["acked_by"], doc["acked_at"] = user, at
    doc["history"] = [
        *doc.get("history", []),
        {"at": at, "event": event, "by": user, "detail": comment},
    ]
    records.put(KIND, alert_id, doc)
    return doc


def acknowledge(
    records: RecordStore, alert_id: str, user: str, comment: str = ""
) -> dict[str, Any]:
    """Mark the alert acknowledged by `user`; raises KeyError if there is no such alert."""
    return _step(records, alert_id, user, "acknowledged", comment, "acknowledged")


def resolve(records: RecordStore, alert_id: str, user: str, comment: str = "") -> dict[str, Any]:
    """Mark the alert resolved by `user`; it is raised again only if it comes back."""
    return _step(records, alert_id, user, "resolved", comment, "resolved")
