from datetime import datetime

import pytest

from crawlers.dates import parse_datetime
from yuqing.schema import SHANGHAI

NOW = datetime(2026, 11, 26, 15, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("刚刚", datetime(2026, 11, 26, 15, 30)),
        ("3分钟前", datetime(2026, 11, 26, 15, 27)),
        ("2小时前", datetime(2026, 11, 26, 13, 30)),
        ("昨天 14:20", datetime(2026, 11, 25, 14, 20)),
        ("前天", datetime(2026, 11, 24, 0, 0)),
        ("2023年5月1日", datetime(2023, 5, 1)),
        ("2026年10月01日 14:20", datetime(2026, 10, 1, 14, 20)),
        ("2026-10-01 14:20", datetime(2026, 10, 1, 14, 20)),
        ("发表于 2026/10/01 08:05:09", datetime(2026, 10, 1, 8, 5, 9)),
        ("05-01 10:00", datetime(2026, 5, 1, 10, 0)),
        ("11-20", datetime(2026, 11, 20)),
    ],
)
def test_chinese_dates_are_shanghai_time(raw, expected):
    assert parse_datetime(raw, NOW) == expected.replace(tzinfo=SHANGHAI)


def test_month_day_in_the_future_is_last_year():
    new_year = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)
    assert parse_datetime("12-30 10:00", new_year) == datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI)


def test_iso_and_rfc822_keep_their_offsets():
    assert parse_datetime("2026-10-01T06:20:00Z", NOW) == datetime(
        2026, 10, 1, 14, 20, tzinfo=SHANGHAI
    )
    assert parse_datetime("Thu, 01 Oct 2026 14:20:00 +0800", NOW) == datetime(
        2026, 10, 1, 14, 20, tzinfo=SHANGHAI
    )
    assert parse_datetime("2026-10-01T14:20:00", NOW).tzinfo == SHANGHAI


@pytest.mark.parametrize("raw", [None, "", "某天", "2026-13-45", "很久以前"])
def test_unknown_dates_are_none(raw):
    assert parse_datetime(raw, NOW) is None
