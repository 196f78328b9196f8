"""One alert check: evaluate the rules now, store the alerts, queue their messages for each
channel and deliver what is due."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from alerts.channels import Channel, ChannelError, build_channel
from alerts.config import AlertsFile
from alerts.engine import Engine, Event
from alerts.outbox import Outbox

logger = logging.getLogger(__name__)


@dataclass
class CheckReport:
    events: list[Event] = field(default_factory=list)
    queued: int = 0
    delivery: dict[str, int] = field(default_factory=dict)


class Channels(Mapping[str, Channel]):
    """The configured channels, built on first use (a missing secret fails only that channel)."""

    def __init__(self, config: AlertsFile, environ: Mapping[str, str] | None = None):
        self.config, self.environ = config, environ
        self._built: dict[str, Channel] = {}

    def __getitem__(self, name: str) -> Channel:
        if name not in self._built:
            try:
                spec = self.config.channel(name)
            except KeyError:
                raise ChannelError(f"channel {name!r} is no longer in alerts.yaml") from None
            self._built[name] = build_channel(spec, self.environ)
        return self._built[name]

    def __iter__(self):
        return iter(c.name for c in self.config.channels)

    def __len__(self) -> int:
        return len(self.config.channels)


def run_check(
    engine: Engine,
    outbox: Outbox | None,
    channels: Mapping[str, Channel] | None,
    at: datetime,
    dry_run: bool = False,
) -> CheckReport:
    """Evaluate at `at`; unless `dry_run`, store, queue and deliver."""
    events = engine.evaluate(at, save=not dry_run)
    report = CheckReport(events)
    if dry_run or outbox is None:
        return report
    quiet = engine.config.quiet_hours
    for event in events:
        report.queued += outbox.enqueue(event.message, event.channels, at, quiet)
        logger.info("alert %s (%s): %s", event.alert["id"], event.kind, event.alert["title"])
    if channels is not None:
        report.delivery = outbox.deliver(channels, at)
    return report
