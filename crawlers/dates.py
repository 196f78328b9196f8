"""Parse the dates Chinese sites print: ISO, RFC 822, 2023年5月1日, 05-01 10:00, 昨天 14:20, 3分钟前 …

Naive dates are Asia/Shanghai local time. Relative ones are resolved against `now`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from yuqing.schema import SHANGHAI

_FULL = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*[T ]?\s*(?P<H>\d{1,2})[:：时](?P<M>\d{1,2})(?:[:：分](?P<S>\d{1,2}))?)?"
)
_MONTH_DAY = re.compile(
    r"^(?P<m>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})\s*日?(?:\s+(?P<H>\d{1,2})[:：](?P<M>\d{1,2}))?$"
)
_AGO = re.compile(r"^(?P<n>\d+)\s*(?P<unit>秒|分钟|分|小时|天|周)前$")
_DAY_WORD = re.compile(r"^(?P<word>今天|昨天|前天)\s*(?:(?P<H>\d{1,2})[:：](?P<M>\d{1,2}))?$")
_UNITS = {
    "秒": "seconds",
    "分钟": "minutes",
    "分": "minutes",
    "小时": "hours",
    "天": "days",
    "周": "weeks",
}
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


def parse_datetime(raw: str | None, now: datetime | None = None) -> datetime | None:
    """An aware datetime for `raw`, or None if it is not a date we understand."""
    if not raw:
        return None
    text = re.sub(r"\s+", " ", raw).strip()
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    if text == "刚刚":
        return now
    if m := _AGO.match(text):
        return now - timedelta(**{_UNITS[m["unit"]]: int(m["n"])})
    if m := _DAY_WORD.match(text):
        day = now - timedelta(days=_DAYS_BACK[m["word"]])
        return day.replace(hour=int(m["H"] or 0), minute=int(m["M"] or 0), second=0, microsecond=0)
    for parse in (_iso, _rfc822):
        if value := parse(text):
            return value
    if m := _FULL.search(text):
        return _build(int(m["y"]), m, now)
    if m := _MONTH_DAY.match(text):
        value = _build(now.year, m, now)
        # "12-30" seen on 1 January is last year's.
        return (
            value.replace(year=now.year - 1) if value and value > now + timedelta(days=1) else value
        )
    return None


def _build(year: int, m: re.Match[str], now: datetime) -> datetime | None:
    groups = m.groupdict()
    try:
        return datetime(
            year,
            int(groups["m"]),
            int(groups["d"]),
            int(groups.get("H") or 0),
            int(groups.get("M") or 0),
            int(groups.get("S") or 0),
            tzinfo=SHANGHAI,
        )
    except ValueError:
        return None


def _iso(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _rfc822(text: str) -> datetime | None:
    if not re.search(r"[A-Za-z]{3},? ", text):
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
