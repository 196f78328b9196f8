"""Match posts against the watch-list (`configs/units.yaml`) on normalised text.

Text and names are folded the same way before matching: NFKC (full-width letters and digits
to half-width), Traditional to Simplified script (OpenCC t2s), lowercase, and no whitespace,
so 青嵐能源集團, ｛青岚 能源｝ and 青岚能源 all match. The crawler layer does its own small
normalisation here rather than importing `nlp` (data flows crawlers -> nlp, never back).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

from yuqing.watchlist import Watchlist

_SPACE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """The form both text and names are matched in."""
    text = unicodedata.normalize("NFKC", text or "")
    return _SPACE.sub("", _t2s().convert(text)).lower()


@dataclass(frozen=True)
class WatchMatch:
    names_enterprise: bool  # an enterprise name, or an unambiguous unit name, appears
    units: list[str]  # canonical names of the units mentioned, in order of first mention


class WatchMatcher:
    """Finds the enterprise and its units in a text, by any of their names."""

    def __init__(self, watchlist: Watchlist):
        identifying = {fold(n) for n in watchlist.identifying_names()}
        self._owner: dict[str, str | None] = {fold(n): None for n in watchlist.enterprise.names}
        for unit in watchlist.units:
            self._owner.update({fold(n): unit.name for n in unit.names})
        self._identifying = identifying
        # Longest names first, so 油田职工医院 wins over the 职工医院 inside it.
        names = sorted(self._owner, key=lambda n: (-len(n), n))
        self._pattern = re.compile("|".join(re.escape(n) for n in names))

    def match(self, *texts: str | None) -> WatchMatch:
        folded = "|".join(fold(t) for t in texts if t)  # no name spans two texts
        units: dict[str, None] = {}
        identified = False
        for m in self._pattern.finditer(folded):
            name = m.group()
            identified = identified or name in self._identifying
            if unit := self._owner[name]:
                units[unit] = None
        return WatchMatch(identified, list(units))
