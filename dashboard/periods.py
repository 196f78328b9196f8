"""Sensitive periods (configs/calendar.yaml, owned by the alerts stage), read tolerantly for
shading the overview's time axis: a missing or unreadable file means no shading.

Accepted shapes: a list of periods, or a mapping whose `periods` / `sensitive_periods` key is
one. A period has a name (`name` or `label`) and `start`/`end` (or `from`/`to`, `since`/`until`)
as full dates or as `MM-DD` (every year). `end` is inclusive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

CALENDAR_FILE = "calendar.yaml"


@dataclass(frozen=True)
class Period:
    name: str
    start: date
    end: date  # inclusive


def _first(entry: dict[str, Any], *keys: str) -> Any:
    return next((entry[k] for k in keys if entry.get(k) is not None), None)


def _dates(value: Any, years: range) -> list[date]:
    if isinstance(value, date):
        return [value]
    text = str(value).strip()
    try:
        return [date.fromisoformat(text)]
    except ValueError:
        pass
    try:
        month, day = (int(p) for p in text.split("-"))
        return [date(y, month, day) for y in years]
    except ValueError:
        return []


def _entries(raw: Any) -> list[Any]:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, dict):
        for key in ("periods", "sensitive_periods", "sensitive"):
            if isinstance(raw.get(key), list):
                return raw[key]
    return []


def load_periods(config_dir: Path, since: date, until: date) -> list[Period]:
    """The periods that overlap since ≤ day < until; [] when there is no usable calendar."""
    path = Path(config_dir) / CALENDAR_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, yaml.YAMLError) as e:
        logger.warning("%s unreadable, no sensitive periods shown: %s", path, e)
        return []
    years = range(since.year - 1, until.year + 1)
    found = []
    for entry in _entries(raw):
        if not isinstance(entry, dict):
            continue
        name = str(_first(entry, "name", "label", "id") or "sensitive period")
        starts = _dates(_first(entry, "start", "from", "since"), years)
        ends = _dates(_first(entry, "end", "to", "until") or _first(entry, "start", "from"), years)
        for start, end in zip(starts, ends, strict=False):
            if end < start:  # a yearly period across New Year
                end = end.replace(year=end.year + 1)
            if start < until and end >= since:
                found.append(Period(name, max(start, since), min(end, until - timedelta(days=1))))
    return sorted(set(found), key=lambda p: (p.start, p.name))
