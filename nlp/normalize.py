"""One canonical spelling for a post before any lexicon, segmenter or model sees it.

`Normalizer(table).normalize(text)` returns a new string and is idempotent. In order:

1. Width: full-width ASCII letters, digits and symbols become half-width (ＡＢＣ１２３ → ABC123),
   Unicode spaces a space, Kangxi radicals and compatibility ideographs the ordinary character
   (⼯ → 工). The Chinese punctuation ，！？：；（） stays full-width: Chinese input methods type
   it, and jieba and the lexicon read both forms. Invisible characters (zero-width space, BOM,
   soft hyphen, direction marks) go; a zero-width joiner stays only between two emoji.
2. Collapse: separators put between two Chinese characters to dodge keyword filters go
   (工 资, 工*资, 拖.欠, 领·导 → 工资 …): spaces, tabs, * × · • . - _ / ^ `. Newlines,
   punctuation such as ，。、～|, digits and Latin letters are never removed, so 3.5,
   2023-05-01 and separate sentences stay as they were.
3. Script: Traditional → Simplified with OpenCC (`traditional`), only in clauses that hold a
   character that exists only in traditional script: simplified text never goes through the
   converter, which would turn simplified 打坏 into 打坯.
4. `replacements`: mixed-script spellings (领dao → 领导), also with separators inside (领.dao).
5. `initialisms`: standalone ASCII tokens (gz → 工资), ignoring case, in Chinese context
   only: not inside an English word, URL, file name or address, not next to another English
   word, with Chinese text within `window` characters, and one of the entry's `near` words if
   it lists any. Then step 2 again, for the spaces around a replaced token.
6. Emoji are kept, but one inside a run of Chinese text moves to the end of that run
   (工😡资 → 工资😡), so that it cannot split a word.

URLs and e-mail addresses are left exactly as written.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import opencc
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from yuqing.config_errors import load_model

logger = logging.getLogger(__name__)

_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_FILL = "".join(map(re.escape, " \t*\u00d7\u2715\u2716\u00b7\u30fb\u2022\u2027\u2219\u22c5./_^`-"))
_EMOJI_CHARS = (
    "\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u20e3\U000e0020-\U000e007f"
)
_EMOJI = _EMOJI_CHARS + "\u200d"  # with the zero-width joiner of 👨\u200d👩
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\ufeff"
_SPACES = (
    "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)


def _width_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {
        cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F) if chr(cp) not in "，！？：；（）"
    }
    table.update({ord(c): None for c in _INVISIBLE})
    table.update({ord(c): " " for c in _SPACES})
    table.update({ord(a): b for a, b in zip("｡｢｣､", "。「」、", strict=True)})
    for lo, hi in ((0x2F00, 0x2FE0), (0xF900, 0xFB00), (0x2F800, 0x2FA20)):
        for cp in range(lo, hi):
            folded = unicodedata.normalize("NFKC", chr(cp))
            if folded != chr(cp) and len(folded) == 1:
                table[cp] = folded
    return table


def _char_class(code_points: Iterable[int]) -> str:
    """A regex character class of these code points, written as ranges (fast to match)."""
    cps, out, i = sorted(set(code_points)), [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = re.escape(chr(cps[i])), re.escape(chr(cps[j]))
        out.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(out) + "]"


_WIDTH = _width_table()
_WIDTH_RX = re.compile(_char_class(_WIDTH))
_STRAY_ZWJ = re.compile(f"(?<![{_EMOJI_CHARS}])\u200d|\u200d(?![{_EMOJI_CHARS}])")
_PROTECTED = re.compile(
    r"(?:https?://|ftp://|www\.)[!-~]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[^\n。！？!?；;，,、：:]+")
_GAP = re.compile(f"([{_CJK}])[{_FILL}]+(?=[{_CJK}])")
_RUN = re.compile(f"[{_CJK}](?:[{_FILL}{_EMOJI}]*[{_CJK}])*")
_FILL_RX = re.compile(f"[{_FILL}]+")
_JUNK_RX = re.compile(f"[{_FILL}{_EMOJI}]")
_EMOJI_RX = re.compile(f"[{_EMOJI}]+")
_CJK_RX = re.compile(f"[{_CJK}]")
_ASTRAL_RX = re.compile("[\U00010000-\U0010ffff]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # an initialism, maybe with digits: gz3个月
_NOT_BEFORE = frozenset("0123456789_@#.&=%+/\\:-")  # a handle, path, file name or address
_NOT_AFTER = frozenset("@&=%/\\:")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Initialism(_Strict):
    to: str = Field(min_length=1)
    near: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = []

    @field_validator("to")
    @classmethod
    def _chinese(cls, v: str) -> str:
        if _ASCII_LETTER.search(v) or not v.strip():
            raise ValueError("must be the Chinese word, with no Latin letters")
        return v.strip()


class NormalizationTable(_Strict):
    """`configs/normalization.yaml`: the spellings that posts use to dodge keyword filters."""

    traditional: Literal["hk2s", "t2s"] = "hk2s"
    window: int = Field(10, ge=1, le=50)
    initialisms: dict[str, Initialism] = Field(default_factory=dict)
    replacements: dict[str, str] = Field(default_factory=dict)

    @field_validator("initialisms", mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        if isinstance(v, dict):  # `gz: 工资` is short for `gz: {to: 工资}`
            return {k: {"to": t} if isinstance(t, str) else t for k, t in v.items()}
        return v

    @field_validator("initialisms")
    @classmethod
    def _keys(cls, v: dict[str, Initialism]) -> dict[str, Initialism]:
        bad = [k for k in v if not re.fullmatch(r"[a-z]{2,12}", k)]
        if bad:
            raise ValueError(
                "initialisms must be 2 to 12 lowercase ASCII letters (matching ignores case); "
                f"fix {', '.join(map(repr, bad))}"
            )
        return v

    @field_validator("replacements")
    @classmethod
    def _spellings(cls, v: dict[str, str]) -> dict[str, str]:
        problems = [
            f"{k!r} needs 2+ characters and no spaces or separators (matching skips those)"
            for k in v
            if len(k) < 2 or re.search(f"[\\s{_FILL}]", k)
        ]
        problems += [
            f"{k!r} maps to {t!r}, which must be the Chinese word, with no Latin letters"
            for k, t in v.items()
            if _ASCII_LETTER.search(t) or not t.strip()
        ]
        lower = [k.lower() for k in v]
        problems += [
            f"{k!r} repeats, ignoring case"
            for k in sorted({k for k in lower if lower.count(k) > 1})
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @model_validator(mode="after")
    def _idempotent(self) -> NormalizationTable:
        targets = [i.to for i in self.initialisms.values()] + list(self.replacements.values())
        bad = sorted({f"{t} contains {k}" for t in targets for k in self.replacements if k in t})
        if bad:
            raise ValueError(
                "a target must not contain a replacement spelling, or normalising twice would "
                f"change it again; fix {', '.join(bad)}"
            )
        return self


def load_normalization(path: Path | str) -> NormalizationTable:
    """Read and validate a normalization table, or raise ConfigError naming key and fix."""
    return load_model(Path(path), NormalizationTable)


def user_words(table: NormalizationTable) -> set[str]:
    """The words the table maps to: add them to jieba's user dictionary so they stay whole."""
    words = {i.to for i in table.initialisms.values()} | set(table.replacements.values())
    return {w for w in words if len(w) > 1}


@lru_cache(maxsize=2)
def _converter(config: str) -> tuple[opencc.OpenCC, re.Pattern[str], frozenset[str]]:
    """OpenCC, and the characters it changes on their own (BMP as a regex, astral as a set)."""
    converter = opencc.OpenCC(config, include_tofu_risk_dictionaries=False)
    blocks = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x3134B))
    chars = [chr(cp) for lo, hi in blocks for cp in range(lo, hi)]
    converted = converter.convert("\n".join(chars)).split("\n")
    changed = [a for a, b in zip(chars, converted, strict=True) if a != b]
    logger.debug("OpenCC %s changes %d characters on their own", config, len(changed))
    bmp = _char_class(ord(c) for c in changed if ord(c) < 0x10000)
    return converter, re.compile(bmp), frozenset(c for c in changed if ord(c) >= 0x10000)


class Normalizer:
    """Turns a post into its canonical spelling; build one per table (see `get_normalizer`)."""

    def __init__(self, table: NormalizationTable):
        self.table = table
        self._opencc, self._traditional, self._traditional_astral = _converter(table.traditional)
        self._initialisms = {
            key: Initialism(to=self._canon(rule.to), near=[self._canon(w) for w in rule.near])
            for key, rule in table.initialisms.items()
        }
        self._targets = {
            self._canon(k).lower(): self._canon(t) for k, t in table.replacements.items()
        }
        self._replace_rx = _replacement_pattern(self._targets)
        self._replace_needs_latin = all(_ASCII_LETTER.search(k) for k in self._targets)

    def normalize(self, text: str) -> str:
        """The canonical form of `text` (a new string; normalising twice changes nothing)."""
        text = text or ""
        if _WIDTH_RX.search(text):
            text = text.translate(_WIDTH)
        if "\u200d" in text:
            text = _STRAY_ZWJ.sub("", text)
        if not ("://" in text or "@" in text or "www." in text.lower()):
            return self._plain(text)
        parts, pos = [], 0
        for m in _PROTECTED.finditer(text):
            parts += [self._plain(text[pos : m.start()]), m.group()]
            pos = m.end()
        return "".join([*parts, self._plain(text[pos:])])

    def _canon(self, word: str) -> str:
        return self._script(word.strip().translate(_WIDTH))

    def _plain(self, s: str) -> str:
        s = self._script(_collapse(s))  # collapsed first, so OpenCC sees whole phrases
        if not _ASCII_LETTER.search(s) and (self._replace_needs_latin or not self._replace_rx):
            return s
        for _ in range(4):  # until stable: a replaced word can be the context of another
            new = self._words(s)
            if new == s:
                break
            s = new
        return _collapse(s)

    def _words(self, s: str) -> str:
        if self._replace_rx is not None:
            s = self._replace_rx.sub(self._replacement, s)
        if self._initialisms:
            s = _TOKEN.sub(lambda m: self._initialism(m, s), s)
        return s

    def _has_traditional(self, s: str) -> bool:
        if self._traditional.search(s):
            return True
        return bool(_ASTRAL_RX.search(s)) and not self._traditional_astral.isdisjoint(s)

    def _script(self, s: str) -> str:
        # OpenCC's phrase tables can take two steps to settle (乾縣 → 乾县 → 干县).
        for _ in range(3):
            if not self._has_traditional(s):
                break
            todo = [m for m in _CLAUSE.finditer(s) if self._has_traditional(m.group())]
            # One call for all clauses: "\n" never joins a phrase, so each converts on its own.
            done = self._opencc.convert("\n".join(m.group() for m in todo)).split("\n")
            parts, pos = [], 0
            for m, new in zip(todo, done, strict=True):
                parts += [s[pos : m.start()], new]
                pos = m.end()
            new_s = "".join([*parts, s[pos:]])
            if new_s == s:
                break
            s = new_s
        return s

    def _replacement(self, m: re.Match[str]) -> str:
        found = m.group()
        start = m.start()
        before = m.string[start - 1 : start]
        if found[0].isascii() and before.isascii() and before.isalnum():
            return found  # the tail of a longer Latin word
        emoji = "".join(_EMOJI_RX.findall(_FILL_RX.sub("", found)))
        return self._targets[_JUNK_RX.sub("", found).lower()] + emoji

    def _initialism(self, m: re.Match[str], s: str) -> str:
        token, (start, end) = m.group(), m.span()
        digits = token.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        rule = self._initialisms.get(token[: len(token) - len(digits)].lower())
        if rule is None or (digits and not digits.isdigit()):
            return token
        before, after, then = s[start - 1 : start], s[end : end + 1], s[end + 1 : end + 2]
        if before in _NOT_BEFORE or after in _NOT_AFTER:
            return token
        if after and after in ".-" and then.isascii() and then.isalnum():
            return token  # gz.gov.cn, gz-2
        # Context ignores separators and emoji, so collapsing them later changes no decision.
        left, right = _context(s, start, end, self.table.window)
        if _ASCII_LETTER.match(left[-1:]) or _ASCII_LETTER.match(right[:1]):
            return token  # part of an English phrase
        if not (_CJK_RX.search(left) or _CJK_RX.search(right)):
            return token
        if rule.near and not any(w in left or w in right for w in rule.near):
            return token
        return rule.to + digits


def _context(s: str, start: int, end: int, window: int) -> tuple[str, str]:
    """`window` characters either side of s[start:end], not counting separators and emoji."""
    reach = 4 * window
    left = _JUNK_RX.sub("", s[max(0, start - reach) : start])
    if len(left) < window and start > reach:
        left = _JUNK_RX.sub("", s[:start])
    right = _JUNK_RX.sub("", s[end : end + reach])
    if len(right) < window and end + reach < len(s):
        right = _JUNK_RX.sub("", s[end:])
    return left[-window:], right[:window]


def _collapse(s: str) -> str:
    if _EMOJI_RX.search(s):
        return _RUN.sub(_tidy_run, s)
    return _GAP.sub(r"\1", s) if _FILL_RX.search(s) else s


def _tidy_run(m: re.Match[str]) -> str:
    run = m.group()
    if len(run) < 3 or not _JUNK_RX.search(run):
        return run
    emoji = "".join(_EMOJI_RX.findall(_FILL_RX.sub("", run)))
    return _JUNK_RX.sub("", run) + emoji


def _replacement_pattern(targets: dict[str, str]) -> re.Pattern[str] | None:
    """One regex for all spellings; separators and emoji may sit between their characters."""
    if not targets:
        return None
    first = _char_class(ord(c) for k in targets for c in (k[0].lower(), k[0].upper()))
    alternatives = []
    for key in sorted(targets, key=len, reverse=True):
        chars = [f"[{c}{c.upper()}]" if c.isascii() and c.isalpha() else re.escape(c) for c in key]
        tail = r"(?![A-Za-z0-9])" if key[-1].isascii() and key[-1].isalnum() else ""
        alternatives.append(f"[{_FILL}{_EMOJI}]*".join(chars) + tail)
    return re.compile(f"(?={first})(?:{'|'.join(alternatives)})")


@lru_cache(maxsize=4)
def _cached(table_json: str) -> Normalizer:
    logger.debug("building normalizer")
    return Normalizer(NormalizationTable.model_validate_json(table_json))


def get_normalizer(table: NormalizationTable) -> Normalizer:
    """The process-wide normalizer for this table (built on first use)."""
    return _cached(table.model_dump_json())
