"""alerts.yaml and calendar.yaml: the shipped files load; mistakes name the file, key and fix;
sensitive periods and quiet hours fall where they should."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from alerts.calendar import LUNAR_NEW_YEAR, Calendar, load_calendar
from alerts.config import DETECTORS, load_alerts
from alerts.outbox import quiet_until
from yuqing.config_errors import ConfigError
from yuqing.routing import load_departments
from yuqing.schema import SHANGHAI
from yuqing.services import departments_for


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_shipped_alerts_yaml_has_every_detector(project_config) -> None:
    alerts = load_alerts(
        project_config.config_dir,
        project_config.taxonomy.theme_ids,
        departments_for(project_config),
    )
    assert {r.detector for r in alerts.rules} == set(DETECTORS)
    spike = next(r for r in alerts.rules if r.name == "theme-spike")
    strict = spike.thresholds(sensitive=True)
    assert strict.max_p > spike.max_p and strict.min_count < spike.min_count
    assert spike.thresholds(sensitive=False) is spike


def _write(config_dir, name: str, old: str, new: str) -> None:
    path = config_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _error(config_dir, theme_ids=None, deps=None) -> str:
    with pytest.raises(ConfigError) as err:
        load_alerts(config_dir, theme_ids, deps)
    return str(err.value)


def test_unknown_detector_channel_and_theme_are_errors(config_dir, project_config) -> None:
    _write(
        config_dir,
        "alerts.yaml",
        "detector: spike\n    by: [theme]\n",
        "detector: spikes\n    by: [theme]\n",
    )
    msg = _error(config_dir)
    assert "alerts.yaml" in msg and "rules[0].detector" in msg and "spikes" in msg
    assert "Fix:" in msg and "severe" in msg
    _write(config_dir, "alerts.yaml", "detector: spikes", "detector: spike")
    _write(
        config_dir,
        "alerts.yaml",
        "    by: [theme]\n",
        "    by: [theme]\n    themes: [wagez]\n    channels: [nowhere]\n",
    )
    msg = _error(config_dir, project_config.taxonomy.theme_ids)
    assert "rules[0].channels" in msg and "'nowhere'" in msg and "define it under `channels`" in msg
    assert "rules[0].themes" in msg and "'wagez'" in msg and "taxonomy.yaml" in msg


def test_departments_must_name_defined_channels(config_dir) -> None:
    _write(config_dir, "departments.yaml", "channels: []", "channels: [hr-mail]")
    deps = load_departments(config_dir)
    msg = _error(config_dir, None, deps)
    assert "departments.hr.channels" in msg and "'hr-mail'" in msg and "Fix:" in msg
    _write(
        config_dir, "alerts.yaml", "channels: []",
        "channels:\n  - {name: hr-mail, type: smtp, host: 127.0.0.1, from: a@b.c, to: [hr@b.c]}",
    )  # fmt: skip
    assert load_alerts(config_dir, None, deps).channel("hr-mail").sender == "a@b.c"


def test_channel_definitions_are_checked(config_dir) -> None:
    _write(config_dir, "alerts.yaml", "channels: []", "channels:\n  - {name: x, type: dingtalk}")
    msg = _error(config_dir)
    assert "channels[0]" in msg and "needs `url`" in msg
    _write(
        config_dir, "alerts.yaml", "{name: x, type: dingtalk}",
        "{name: x, type: dingtalk, url: 'http://h/', secret_env: 'my secret'}",
    )  # fmt: skip
    assert "channels[0].secret_env" in _error(config_dir)


def test_a_bad_pattern_is_an_error(config_dir) -> None:
    _write(config_dir, "alerts.yaml", "'(发生|突发", "'((发生|突发")
    assert "not a regular expression" in _error(config_dir)


def test_sensitive_periods(config_dir) -> None:
    cal = load_calendar(config_dir)
    for year, new_year in LUNAR_NEW_YEAR.items():
        assert cal.period(datetime.combine(new_year, time(9), SHANGHAI)) == "春节", year
    assert cal.period(at(2027, 1, 30)) == "春节"  # 7 days before 2027-02-06
    assert cal.period(at(2027, 1, 29)) is None
    assert cal.period(at(2027, 2, 21)) == "春节" and cal.period(at(2027, 2, 22)) is None
    assert cal.period(at(2026, 3, 4)) == "春节"  # 2026: the festival runs into 两会
    assert cal.period(at(2027, 3, 1, 0, 0)) == "全国两会" and cal.period(at(2027, 3, 16)) is None
    assert cal.period(at(2026, 10, 7, 23, 59)) == "国庆" and cal.period(at(2026, 10, 8)) is None
    assert cal.period(at(2026, 6, 20)) is None
    custom = Calendar.model_validate(
        {"custom": [{"name": "巡视", "start": "2026-06-01", "end": "2026-06-30"}],
         "annual": [{"name": "岁末", "start": "12-25", "end": "01-05"}]}
    )  # fmt: skip
    assert custom.period(at(2026, 6, 20)) == "巡视"
    assert custom.period(at(2026, 12, 31)) == "岁末" and custom.period(at(2027, 1, 3)) == "岁末"
    _write(config_dir, "calendar.yaml", '"03-15"', '"3-15"')
    with pytest.raises(ConfigError) as err:
        load_calendar(config_dir)
    assert "calendar.yaml" in str(err.value) and "annual[0].end" in str(err.value)
    assert "MM-DD" in str(err.value)


def test_quiet_hours_hold_until_their_end(project_config) -> None:
    quiet = load_alerts(project_config.config_dir).quiet_hours
    assert quiet_until(at(2026, 6, 20, 23, 30), quiet) == at(2026, 6, 21, 7, 0)
    assert quiet_until(at(2026, 6, 21, 3, 0), quiet) == at(2026, 6, 21, 7, 0)
    assert quiet_until(at(2026, 6, 21, 7, 0), quiet) is None
    assert quiet_until(at(2026, 6, 21, 12, 0), quiet) is None
    assert quiet_until(at(2026, 6, 21, 12, 0), None) is None
    assert date(2026, 6, 21) == at(2026, 6, 21).date()
