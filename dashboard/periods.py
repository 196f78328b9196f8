"""Sensitive periods for shading the overview's time axis: the same calendar the alerts use
(`configs/calendar.yaml`, `alerts.calendar`), as runs of days. A broken calendar file means no
shading here (the alerts stage reports it as a configuration error)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from alerts.calendar import load_calendar
from yuqing.config_errors import ConfigError
from yuqing.schema import SHANGHAI

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    name: str
    start: date
    end: date  # inclusive


def load_periods(config_dir: Path, since: date, until: date) -> list[Period]:
    """The sensitive periods within since ≤ day < until, cut to that range."""
    try:
        calendar = load_calendar(Path(config_dir))
    except ConfigError as e:
        logger.warning("no sensitive periods shown: %s", e)
        return []
    found: list[Period] = []
    day, current = since, None
    while day < until:
        name = calendar.period(datetime.combine(day, time(12), SHANGHAI))
        if name is not None and current is not None and current.name == name:
            current = Period(name, current.start, day)
            found[-1] = current
        elif name is not None:
            current = Period(name, day, day)
            found.append(current)
        else:
            current = None
        day += timedelta(days=1)
    return found
