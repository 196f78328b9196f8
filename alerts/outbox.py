"""The delivery outbox: one row per (alert event, channel) in a SQLite file under the data dir.

It is local on purpose: alerts keep going out while the store (say Elasticsearch) is down. A
message is enqueued once per channel (the primary key makes a second enqueue of the same event a
no-op), delivered by `deliver`, and marked delivered only after the channel accepted it. A failed
attempt is retried after an exponential backoff (`base_backoff` doubling up to `max_backoff`);
a message is never dropped, so a channel that is down delays alerts and loses none. Quiet hours
hold non-critical messages: they are enqueued with `not_before` at the end of the quiet hours.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.channels.base import Channel
from alerts.config import QuietHours
from alerts.content import AlertMessage
from yuqing.schema import SHANGHAI

logger = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite3"
SCHEMA = """CREATE TABLE IF NOT EXISTS outbox (
    alert_id TEXT NOT NULL, seq INTEGER NOT NULL, channel TEXT NOT NULL,
    message TEXT NOT NULL, created_at TEXT NOT NULL, due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, delivered_at TEXT, last_error TEXT,
    PRIMARY KEY (alert_id, seq, channel))"""


def quiet_until(at: datetime, quiet: QuietHours | None) -> datetime | None:
    """The end of the quiet hours if `at` falls inside them, else None."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = at.astimezone(SHANGHAI)
    now = local.time()
    inside = (
        quiet.start <= now < quiet.end
        if quiet.start < quiet.end
        else now >= quiet.start or now < quiet.end
    )
    if not inside:
        return None
    end = datetime.combine(local.date(), quiet.end, tzinfo=SHANGHAI)
    return end if end > local else end + timedelta(days=1)


class Outbox:
    def __init__(self, path: Path, base_backoff: float = 30.0, max_backoff: float = 3600.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self._db = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def enqueue(
        self,
        message: AlertMessage,
        channels: list[str],
        at: datetime,
        quiet: QuietHours | None = None,
    ) -> int:
        """Queue `message` for each channel; returns how many rows were new."""
        held = None if message.severity == "critical" else quiet_until(at, quiet)
        due = (held or at).timestamp()
        seq = len(message.alert.get("history", []))
        body = json.dumps(asdict(message), ensure_ascii=False)
        added = 0
        with self._lock:
            for channel in channels:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO outbox (alert_id, seq, channel, message, created_at, "
                    "due_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (message.alert_id, seq, channel, body, at.isoformat(), due),
                )
                added += cur.rowcount
        return added

    def deliver(
        self,
        channels: Mapping[str, Channel] | Callable[[str], Channel],
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Send every due message; {"delivered": n, "failed": n, "waiting": n}."""
        now = now or datetime.now(SHANGHAI)
        with self._lock:
            rows = self._db.execute(
                "SELECT alert_id, seq, channel, message, attempts FROM outbox "
                "WHERE delivered_at IS NULL AND due_at <= ? ORDER BY due_at, created_at",
                (now.timestamp(),),
            ).fetchall()
        report = {"delivered": 0, "failed": 0}
        down: set[str] = set()  # a channel that failed once is not tried again in this pass
        for alert_id, seq, name, body, attempts in rows:
            if name in down:
                continue
            key = (alert_id, seq, name)
            try:
                channel = channels[name] if isinstance(channels, Mapping) else channels(name)
                channel.send(AlertMessage(**json.loads(body)))
            except Exception as e:  # any failure of any channel is retried later, never lost
                down.add(name)
                delay = min(self.base_backoff * 2**attempts, self.max_backoff)
                self._update(
                    "UPDATE outbox SET attempts = attempts + 1, due_at = ?, last_error = ? "
                    "WHERE alert_id = ? AND seq = ? AND channel = ?",
                    (now.timestamp() + delay, str(e)[:500], *key),
                )
                logger.warning(
                    "alert %s to %s failed (attempt %d), retry in %ds: %s",
                    alert_id, name, attempts + 1, delay, e,
                )  # fmt: skip
                report["failed"] += 1
                continue
            self._update(
                "UPDATE outbox SET attempts = attempts + 1, delivered_at = ?, last_error = NULL "
                "WHERE alert_id = ? AND seq = ? AND channel = ?",
                (now.isoformat(), *key),
            )
            report["delivered"] += 1
        report["waiting"] = sum(self.backlog().values())
        return report

    def _update(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def backlog(self) -> dict[str, int]:
        """Undelivered messages per channel."""
        with self._lock:
            rows = self._db.execute(
                "SELECT channel, COUNT(*) FROM outbox WHERE delivered_at IS NULL GROUP BY channel"
            ).fetchall()
        return dict(rows)

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(
                "SELECT alert_id, seq, channel, attempts, delivered_at, last_error, due_at "
                "FROM outbox ORDER BY created_at"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
