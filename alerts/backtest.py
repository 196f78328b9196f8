"""Replay the rules over stored history, one day at a time, as if the check had run at the end
of each day: which alerts would have fired. Nothing is stored and nothing is sent: the alert
records live in memory for the replay only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from alerts.engine import Engine, Event
from yuqing.schema import SHANGHAI


class MemoryRecords:
    """A RecordStore in a dict, for replays and dry runs."""

    name = "memory"

    def __init__(self, docs: dict[tuple[str, str], dict[str, Any]] | None = None):
        self.docs = dict(docs or {})

    def setup(self) -> None:
        pass

    def put(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        self.docs.pop((kind, record_id), None)
        self.docs[(kind, record_id)] = dict(doc)

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        doc = self.docs.get((kind, record_id))
        return dict(doc) if doc is not None else None

    def list(
        self, kind: str, *, where: dict[str, Any] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        docs = [d for (k, _), d in reversed(self.docs.items()) if k == kind]
        docs = [d for d in docs if not where or all(d.get(k) == v for k, v in where.items())]
        return docs[:limit] if limit is not None else docs

    def delete(self, kind: str, record_id: str) -> bool:
        return self.docs.pop((kind, record_id), None) is not None

    def count(self, kind: str) -> int:
        return sum(k == kind for k, _ in self.docs)


def day_ends(since: date, until: date) -> list[datetime]:
    """The end (next midnight, Asia/Shanghai) of each day from `since` to `until` inclusive."""
    days = (until - since).days + 1
    return [
        datetime.combine(since + timedelta(days=i + 1), time(0), tzinfo=SHANGHAI)
        for i in range(max(days, 0))
    ]


def backtest(engine: Engine, since: date, until: date) -> list[tuple[date, Event]]:
    """The events a daily check would have produced, day by day (the engine's records should be
    a fresh `MemoryRecords`)."""
    out = []
    for end in day_ends(since, until):
        for event in engine.evaluate(end):
            out.append(((end - timedelta(days=1)).date(), event))
    return out
