"""alerts.yaml: the rules, the channels and where the dashboard is, as typed models.

`load_alerts(config_dir, theme_ids, departments)` validates the file and then the names it
shares with the other configs: detectors, channels (also those departments.yaml names) and
theme ids. Every problem names the file, the key and the fix.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing.config_errors import ConfigError, load_model
from yuqing.routing import Departments

ALERTS_FILE = "alerts.yaml"
DETECTORS = ("spike", "share", "new", "severe", "story")
DIMENSIONS = ("theme", "unit", "source")
CHANNEL_TYPES = ("smtp", "wecom", "dingtalk", "feishu", "webhook")
SEVERITIES = ("info", "warning", "critical")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Overrides(_Strict):
    """Thresholds a rule uses instead inside a sensitive period (calendar.yaml)."""

    min_count: int | None = Field(None, ge=1)
    min_ratio: float | None = Field(None, ge=1.0)
    max_p: float | None = Field(None, gt=0, lt=1)
    min_increase: float | None = Field(None, gt=0, lt=1)
    min_sources: int | None = Field(None, ge=2)


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    detector: str
    enabled: bool = True
    by: list[Literal["theme", "unit", "source"]] = ["theme"]
    themes: list[str] = []
    units: list[str] = []
    sources: list[str] = []
    platforms: list[str] = []
    window_hours: float = Field(24.0, gt=0, le=24 * 14)
    baseline_days: int = Field(28, ge=1, le=365)
    min_baseline_days: int = Field(14, ge=1, le=365)
    min_count: int = Field(5, ge=1)
    min_ratio: float = Field(3.0, ge=1.0)
    max_p: float = Field(0.001, gt=0, lt=1)
    min_increase: float = Field(0.3, gt=0, lt=1)
    min_sources: int = Field(3, ge=2)
    terms: list[str] = []
    patterns: list[str] = []
    growth: float = Field(1.5, gt=1.0)
    cooldown_hours: float = Field(24.0, ge=0)
    severity: Literal["info", "warning", "critical"] = "warning"
    channels: list[str] = []
    sensitive: Overrides = Field(default_factory=Overrides)

    @field_validator("detector")
    @classmethod
    def _detector(cls, v: str) -> str:
        if v not in DETECTORS:
            raise ValueError(f"unknown detector {v!r}; use one of {', '.join(DETECTORS)}")
        return v

    @field_validator("patterns")
    @classmethod
    def _regex(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"{pattern!r} is not a regular expression: {e}") from e
        return v

    @model_validator(mode="after")
    def _severe_needs_terms(self) -> Rule:
        if self.detector == "severe" and not (self.terms or self.patterns):
            raise ValueError("a `severe` rule needs `terms` or `patterns` to look for")
        return self

    def thresholds(self, sensitive: bool) -> Rule:
        """This rule with its `sensitive` overrides applied when `sensitive`."""
        if not sensitive:
            return self
        changes = self.sensitive.model_dump(exclude_none=True)
        return self.model_copy(update=changes)


class ChannelConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: Literal["smtp", "wecom", "dingtalk", "feishu", "webhook"]
    url: str | None = None
    secret_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    username_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    password_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    sender: str | None = Field(None, alias="from")
    to: list[str] = []
    timeout: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> ChannelConfig:
        if self.type == "smtp":
            missing = [k for k, v in (("host", self.host), ("from", self.sender)) if not v]
            if not self.to:
                missing.append("to")
            if missing:
                raise ValueError(f"an smtp channel needs {', '.join(missing)}")
        elif not self.url or not re.match(r"^https?://", self.url):
            raise ValueError(f"a {self.type} channel needs `url`, an http(s) address")
        return self


class QuietHours(_Strict):
    start: time = time(22, 0)
    end: time = time(7, 0)


class ServiceSettings(_Strict):
    interval: float = Field(900.0, gt=0)
    source_intervals: dict[str, float] = {}
    base_backoff: float = Field(30.0, gt=0)
    max_backoff: float = Field(3600.0, gt=0)


class AlertsFile(_Strict):
    dashboard_url: str = "http://127.0.0.1:8501"
    quiet_hours: QuietHours | None = None
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    channels: list[ChannelConfig] = []
    rules: list[Rule] = []

    @field_validator("dashboard_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://", v):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8501")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _unique(self) -> AlertsFile:
        for what, names in (
            ("channel", [c.name for c in self.channels]),
            ("rule", [r.name for r in self.rules]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")
        return self

    def channel(self, name: str) -> ChannelConfig:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(name)


def _name_problems(
    alerts: AlertsFile, theme_ids: list[str] | None, departments: Departments | None
) -> list[str]:
    channels = {c.name for c in alerts.channels}
    known = ", ".join(sorted(channels)) or "none defined yet"
    problems = []
    for i, rule in enumerate(alerts.rules):
        for name in rule.channels:
            if name not in channels:
                problems.append(
                    f"key `rules[{i}].channels`: unknown channel {name!r}. Fix: define it under "
                    f"`channels` or use one of: {known}."
                )
        for theme in rule.themes if theme_ids is not None else []:
            if theme not in theme_ids:
                problems.append(
                    f"key `rules[{i}].themes`: unknown theme {theme!r}. Fix: use a theme id "
                    f"from taxonomy.yaml ({', '.join(theme_ids)})."
                )
    for dep in departments.departments if departments else []:
        for name in dep.channels:
            if name not in channels:
                problems.append(
                    f"departments.yaml key `departments.{dep.id}.channels` names channel "
                    f"{name!r}, which alerts.yaml does not define. Fix: add it under "
                    f"`channels` here or correct the name there (known: {known})."
                )
    return problems


def load_alerts(
    config_dir: Path,
    theme_ids: list[str] | None = None,
    departments: Departments | None = None,
) -> AlertsFile:
    """Read alerts.yaml and check the names it shares with taxonomy.yaml and departments.yaml."""
    path = Path(config_dir) / ALERTS_FILE
    alerts = load_model(path, AlertsFile)
    problems = _name_problems(alerts, theme_ids, departments)
    if problems:
        raise ConfigError(path, problems)
    return alerts
