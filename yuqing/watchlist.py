"""The watch-list, `configs/units.yaml`: the enterprise's names and its units, each with aliases.

Broad sources (search results, news feeds) keep only the posts that name the enterprise; every
post records the units it names (`Post.units`, canonical names). The matching itself, on
normalised text, is `crawlers.watch.WatchMatcher`; this module only holds the typed file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from yuqing.config_errors import load_model

UNITS_FILE = "units.yaml"
SearchTerms = Literal["enterprise", "all"]


class Named(BaseModel):
    """A name with its aliases and former names: any of them counts as a mention."""

    model_config = ConfigDict(extra="forbid")

    name: str
    aliases: list[str] = Field(default_factory=list)
    former_names: list[str] = Field(default_factory=list)

    @field_validator("name", "aliases", "former_names")
    @classmethod
    def _clean(cls, v: str | list[str]) -> str | list[str]:
        names = [v] if isinstance(v, str) else v
        for name in names:
            if not name.strip():
                raise ValueError("names must not be empty")
            if re.search(r"\s", name.strip()):
                raise ValueError(f"{name!r} holds whitespace; write the name without spaces")
        cleaned = [name.strip() for name in names]
        return cleaned[0] if isinstance(v, str) else cleaned

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases, *self.former_names]


class Enterprise(Named):
    """The enterprise itself: its current name, short names and the names it had before."""


class Unit(Named):
    """A subsidiary, plant, drilling team, hospital, retiree centre …; `name` is stored on posts.

    `ambiguous` marks a name that other organisations share (供电公司, 物业公司): it still tags
    posts, but on its own it does not keep a post through the watch-list filter.
    """

    ambiguous: bool = False


class Watchlist(BaseModel):
    """units.yaml: whom Yuqing watches."""

    model_config = ConfigDict(extra="forbid")

    enterprise: Enterprise
    units: list[Unit] = Field(default_factory=list)

    @field_validator("units")
    @classmethod
    def _unambiguous(cls, units: list[Unit], info: ValidationInfo) -> list[Unit]:
        enterprise = info.data.get("enterprise")
        owner = dict.fromkeys(enterprise.names if enterprise else [], "the enterprise")
        for unit in units:
            for name in unit.names:
                if owner.get(name, f"unit {unit.name!r}") != f"unit {unit.name!r}":
                    raise ValueError(
                        f"{name!r} names both {owner[name]} and unit {unit.name!r}. "
                        "Give each name to one of them only"
                    )
                owner[name] = f"unit {unit.name!r}"
        return units

    def search_terms(self, which: SearchTerms | list[str]) -> list[str]:
        """What a search source searches for: the enterprise's names, or those and every unit's."""
        if isinstance(which, list):
            return list(which)
        terms = list(self.enterprise.names)
        if which == "all":
            terms += [name for unit in self.units for name in unit.names]
        return list(dict.fromkeys(terms))

    def identifying_names(self) -> list[str]:
        """The names that on their own show a post is about the enterprise."""
        units = [name for unit in self.units if not unit.ambiguous for name in unit.names]
        return [*self.enterprise.names, *units]

    def words(self) -> set[str]:
        """Every name, for jieba's user dictionary, so that 第三采油厂 stays one word."""
        return set(self.enterprise.names) | {name for unit in self.units for name in unit.names}


def load_watchlist(config_dir: Path) -> Watchlist | None:
    """units.yaml in `config_dir`, validated; None if there is no such file."""
    path = config_dir / UNITS_FILE
    if not path.exists():
        return None
    return load_model(path, Watchlist)
