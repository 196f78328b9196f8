"""calendar.yaml: sensitive periods, when rules use stricter thresholds and the service checks
more often: the Spring Festival (from a table of lunar new year dates), yearly periods such as
两会 and National Day, and custom dated events (audits, visits, policy changes).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing.config_errors import load_model
from yuqing.schema import SHANGHAI

logger = logging.getLogger(__name__)

CALENDAR_FILE = "calendar.yaml"
# 春节 (the first day of the lunar year), from the Purple Mountain Observatory's tables.
LUNAR_NEW_YEAR = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpringFestival(_Strict):
    enabled: bool = True
    name: str = "春节"
    days_before: int = Field(7, ge=0, le=60)
    days_after: int = Field(15, ge=0, le=60)


class Annual(_Strict):
    name: str
    start: str  # MM-DD
    end: str  # MM-DD, inclusive

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, v: str) -> str:
        if not _MONTH_DAY.match(str(v)):
            raise ValueError("must be a month and day written MM-DD, e.g. 03-01")
        return str(v)

    def contains(self, day: date) -> bool:
        md = day.strftime("%m-%d")
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # across the new year


class Custom(_Strict):
    name: str
    start: date
    end: date  # inclusive

    @model_validator(mode="after")
    def _order(self) -> Custom:
        if self.end < self.start:
            raise ValueError(f"`end` ({self.end}) is before `start` ({self.start})")
        return self


class Calendar(_Strict):
    interval_factor: float = Field(0.5, gt=0, le=1)
    spring_festival: SpringFestival = Field(default_factory=SpringFestival)
    annual: list[Annual] = []
    custom: list[Custom] = []

    def period(self, at: datetime) -> str | None:
        """The name of the sensitive period `at` (Asia/Shanghai) falls in, or None."""
        day = at.astimezone(SHANGHAI).date()
        for c in self.custom:
            if c.start <= day <= c.end:
                return c.name
        sf = self.spring_festival
        if sf.enabled:
            for year in (day.year, day.year + 1):
                new_year = LUNAR_NEW_YEAR.get(year)
                if new_year is None:
                    if year == day.year:
                        logger.warning(
                            "no lunar new year date for %d in alerts/calendar.py; add the "
                            "Spring Festival to calendar.yaml `custom`",
                            year,
                        )
                    continue
                first = new_year - timedelta(days=sf.days_before)
                if first <= day <= new_year + timedelta(days=sf.days_after):
                    return sf.name
        for a in self.annual:
            if a.contains(day):
                return a.name
        return None


def load_calendar(config_dir: Path) -> Calendar:
    """calendar.yaml, or the built-in defaults (Spring Festival only) when there is none."""
    path = Path(config_dir) / CALENDAR_FILE
    if not path.is_file():
        return Calendar()
    return load_model(path, Calendar)
