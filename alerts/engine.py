"""Run the rules at one moment and turn their findings into alert records and events.

One ongoing problem gives one alert: findings whose posts mostly (≥ half) belong to an alert
already raised are folded into it (a wage spike seen per theme, per source and per unit is one
alert), and a finding with the id of an alert seen within its cooldown is the same alert. That
alert gets an `update` event only when it has grown by the rule's `growth` factor since it was
last sent; one that comes back after its cooldown is sent again (`refire`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.calendar import Calendar
from alerts.config import AlertsFile
from alerts.content import AlertMessage, dashboard_link, render, summary, title, top_post
from alerts.detectors import DETECTORS, Candidate, posts_in, window_for
from index.base import SearchQuery, Store, post_date
from index.records import RecordStore
from yuqing.routing import Departments
from yuqing.schema import Post

logger = logging.getLogger(__name__)

KIND = "alert"
EVIDENCE = 200  # posts kept per alert (ids); the top 3 are shown
OVERLAP = 0.5
_RANK = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Event:
    kind: str  # new | update | refire
    alert: dict[str, Any]
    channels: list[str]
    message: AlertMessage


def alert_id(c: Candidate) -> str:
    """The stable dedup key: the rule and the scope (and the post, for a severe post)."""
    parts = [c.rule.name, *(c.scope.get(k) or "*" for k in ("theme", "unit", "source"))]
    parts += [c.scope.get("story_id") or "*", str(c.detail.get("post_id", "*"))]
    return f"{c.rule.name}-{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:12]}"


def data_start(store: Store) -> datetime | None:
    """The date of the oldest post: the history a baseline can draw on starts there."""
    hits = store.search(SearchQuery(sort="oldest", limit=1)).hits
    return post_date(hits[0].post) if hits else None


def _iso(value: datetime) -> str:
    return value.isoformat()


class Engine:
    def __init__(
        self,
        store: Store,
        records: RecordStore,
        config: AlertsFile,
        calendar: Calendar,
        departments: Departments,
        theme_names: dict[str, str],
    ):
        self.store = store
        self.records = records
        self.config = config
        self.calendar = calendar
        self.departments = departments
        self.theme_names = theme_names
        self._start: datetime | None = None

    def candidates(self, at: datetime, period: str | None) -> list[Candidate]:
        if self._start is None:
            self._start = data_start(self.store)
        found: list[Candidate] = []
        for rule in self.config.rules:
            if rule.enabled:
                r = rule.thresholds(period is not None)
                found += DETECTORS[r.detector](self.store, r, window_for(r, at, self._start))
        return found

    def _evidence(self, c: Candidate) -> list[Post]:
        if "post_id" in c.detail:
            post = self.store.get(str(c.detail["post_id"]))
            return [post] if post else []
        posts = []
        for post in posts_in(self.store, c.query):
            posts.append(post)
            if len(posts) >= EVIDENCE:
                break
        return posts

    def evaluate(self, at: datetime, save: bool = True) -> list[Event]:
        """Run every rule with its window ending at `at`; store the alerts (unless not `save`)
        and return the events to send."""
        period = self.calendar.period(at)
        found = self.candidates(at, period)
        open_claims = self._claims(at)
        existing = set(open_claims)
        found.sort(
            key=lambda c: (
                alert_id(c) not in existing,
                _RANK[c.rule.severity],
                c.scope.get("theme") is None,
                c.p_value if c.p_value is not None else 0.0,
                -c.observed,
            )
        )
        events = []
        for c in found:
            aid = alert_id(c)
            posts = self._evidence(c)
            ids = {p.id for p in posts}
            folded = next(
                (
                    other
                    for other, claimed in open_claims.items()
                    if other != aid and ids and len(ids & claimed) >= OVERLAP * len(ids)
                ),
                None,
            )
            if folded is not None and c.rule.detector != "severe":
                logger.debug("%s folded into %s: mostly the same posts", aid, folded)
                continue
            open_claims[aid] = ids | open_claims.get(aid, set())
            event = self._apply(aid, c, posts, at, period, save)
            if event is not None:
                events.append(event)
        return events

    def _claims(self, at: datetime) -> dict[str, set[str]]:
        """The posts of alerts still ongoing (seen within their cooldown) at `at`."""
        claims = {}
        for doc in self.records.list(KIND):
            cooldown = timedelta(hours=doc.get("cooldown_hours", 24))
            if datetime.fromisoformat(doc["last_seen"]) >= at - cooldown:
                claims[doc["id"]] = set(doc.get("post_ids", []))
        return claims

    def _route(self, c: Candidate) -> tuple[str, str, list[str]]:
        themes = [c.scope["theme"]] if c.scope.get("theme") else []
        units = [c.scope["unit"]] if c.scope.get("unit") else []
        dep = self.departments.route(themes, units)
        channels = list(dict.fromkeys([*dep.channels, *c.rule.channels]))
        return dep.id, dep.name, channels

    def _build(
        self, aid: str, c: Candidate, posts: list[Post], at: datetime, period: str | None
    ) -> dict[str, Any]:
        base = self.config.dashboard_url
        top = sorted(
            posts, key=lambda p: (p.classification and p.classification.sentiment_score) or 0.0
        )
        words = [] if "post_id" in c.detail else self.store.top(c.query, "words", 8)
        department, department_name, channels = self._route(c)
        link = dashboard_link(base, c.query)
        if "post_id" in c.detail:
            link = top_post(posts[0], base)["dashboard_url"] if posts else link
        return {
            "id": aid,
            "rule": c.rule.name,
            "detector": c.rule.detector,
            "severity": c.rule.severity,
            "title": title(c, self.theme_names),
            "summary": summary(c, posts),
            "scope": {k: c.scope.get(k) for k in ("theme", "unit", "source", "story_id")},
            "observed": c.observed,
            "expected": c.expected,
            "ratio": c.ratio,
            "p_value": c.p_value,
            "window_start": _iso(c.window_start),
            "window_end": _iso(c.window_end),
            "post_ids": [p.id for p in posts],
            "top_posts": [top_post(p, base) for p in top[:3]],
            "top_words": [b.key for b in words],
            "dashboard_url": link,
            "department": department,
            "department_name": department_name,
            "channels": channels,
            "sensitive_period": period,
            "cooldown_hours": c.rule.cooldown_hours,
            "last_seen": _iso(at),
        }

    def _apply(
        self,
        aid: str,
        c: Candidate,
        posts: list[Post],
        at: datetime,
        period: str | None,
        save: bool,
    ) -> Event | None:
        fresh = self._build(aid, c, posts, at, period)
        old = self.records.get(KIND, aid)
        if old is None:
            doc = {
                **fresh,
                "status": "open",
                "fired_at": _iso(at),
                "notified_observed": c.observed,
                "acked_by": None,
                "acked_at": None,
                "history": [
                    {"at": _iso(at), "event": "fired", "by": "yuqing", "detail": fresh["summary"]}
                ],
            }
            kind = "new"
        else:
            ongoing = datetime.fromisoformat(old["last_seen"]) >= at - timedelta(
                hours=c.rule.cooldown_hours
            )
            grown = c.observed >= old.get("notified_observed", 0) * c.rule.growth
            kept = {k: old[k] for k in ("status", "fired_at", "acked_by", "acked_at", "history")}
            seen = list(dict.fromkeys([*fresh["post_ids"], *old.get("post_ids", [])]))
            doc = {**fresh, **kept, "post_ids": seen, "notified_observed": old["notified_observed"]}
            kind = None
            if c.rule.detector == "severe":
                pass  # one post, one alert: it cannot grow or come back
            elif not ongoing:
                kind, doc["status"], doc["fired_at"] = "refire", "open", _iso(at)
            elif grown:
                kind = "update"
                if doc["status"] == "resolved":
                    doc["status"] = "open"
            if kind is not None:
                doc["notified_observed"] = c.observed
                entry = {"at": _iso(at), "event": kind, "by": "yuqing", "detail": fresh["summary"]}
                doc["history"] = [*doc["history"], entry]
        if save:
            self.records.put(KIND, aid, doc)
        if kind is None:
            return None
        return Event(kind, doc, doc["channels"], render(doc, kind, doc["top_posts"]))
