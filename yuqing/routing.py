"""归口: route a grievance, by its themes and units, to the department responsible for it.

`configs/departments.yaml` lists the departments in priority order. Alerts use the route to
pick channels; cases use it to pick the department, owner and due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing.config_errors import ConfigError, load_model

DEPARTMENTS_FILE = "departments.yaml"


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    themes: list[str] = []
    units: list[str] = []
    due_days: int = Field(default=7, ge=1, le=365)
    owner: str | None = None
    channels: list[str] = []

    def matches(self, themes: Iterable[str], units: Iterable[str]) -> bool:
        theme_ok = not self.themes or bool(set(self.themes) & set(themes))
        unit_ok = not self.units or bool(set(self.units) & set(units))
        return theme_ok and unit_ok


class Departments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str
    departments: list[Department] = Field(min_length=1)

    @field_validator("departments")
    @classmethod
    def _unique(cls, v: list[Department]) -> list[Department]:
        ids = [d.id for d in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"department ids must be unique; repeated: {', '.join(dupes)}")
        return v

    @model_validator(mode="after")
    def _default_exists(self) -> Departments:
        if self.default not in {d.id for d in self.departments}:
            raise ValueError(
                f"`default` names {self.default!r}, which is not a department id; "
                "use one of the ids listed under `departments`"
            )
        return self

    def get(self, department_id: str) -> Department:
        for d in self.departments:
            if d.id == department_id:
                return d
        raise KeyError(department_id)

    def route(self, themes: Iterable[str], units: Iterable[str] = ()) -> Department:
        """The first department that matches, or the default one."""
        themes, units = list(themes), list(units)
        for d in self.departments:
            if (d.themes or d.units) and d.matches(themes, units):
                return d
        return self.get(self.default)


def load_departments(config_dir: Path, theme_ids: Iterable[str] | None = None) -> Departments:
    """Read departments.yaml; with `theme_ids`, also check every theme named exists."""
    path = config_dir / DEPARTMENTS_FILE
    deps = load_model(path, Departments)
    if theme_ids is not None:
        known = set(theme_ids)
        problems = [
            f"key `departments.{i}.themes`: unknown theme {t!r}. Fix: use a theme id from "
            f"taxonomy.yaml ({', '.join(sorted(known))})."
            for i, d in enumerate(deps.departments)
            for t in d.themes
            if t not in known
        ]
        if problems:
            raise ConfigError(path, problems)
    return deps
