"""The audit log: who did what, when. One RecordStore record (kind "audit") per event.

Logins (and failed logins), exports, case changes, alert acknowledgements and label
corrections are recorded; the officer's name is kept, never a password.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from index.records import RecordStore
from yuqing.schema import SHANGHAI

logger = logging.getLogger(__name__)

KIND = "audit"


def record(records: RecordStore, event: str, user: str, **detail: Any) -> dict[str, Any]:
    """Append one audit entry: `event` (login, login_failed, export, case_opened, …) by `user`."""
    now = datetime.now(SHANGHAI)
    entry_id = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    doc = {"id": entry_id, "at": now.isoformat(), "event": event, "user": user, "detail": detail}
    records.put(KIND, entry_id, doc)
    logger.info("audit %s by %s: %s", event, user, detail)
    return doc


def entries(
    records: RecordStore, *, event: str | None = None, limit: int | None = 200
) -> list[dict[str, Any]]:
    """The latest audit entries, newest first (only `event` ones when given)."""
    return records.list(KIND, where={"event": event} if event else None, limit=limit)
