"""Labelled data in the TAXONOMY format: JSONL, one post a line, `themes` and/or `sentiment`.

    {"id": "dev-0001", "platform": "tieba", "title": "", "text": "……",
     "themes": ["wages"], "sentiment": "negative", "notes": ""}

`themes` and `sentiment` are each optional; `platform`, `title` and `notes` too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from yuqing.schema import SENTIMENTS


class LabelFileError(ValueError):
    """A labelled-data file is unreadable or has an invalid line; says which and why."""


@dataclass(frozen=True)
class LabelledExample:
    id: str
    text: str
    title: str = ""
    platform: str | None = None
    themes: tuple[str, ...] | None = None
    sentiment: str | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def full_text(self) -> str:
        """What classifiers read: the title and the text, as posts are classified."""
        return f"{self.title}\n{self.text}".strip()


def _example(raw: object, where: str, theme_ids: set[str] | None) -> LabelledExample:
    if not isinstance(raw, dict):
        raise LabelFileError(f"{where}: expected a JSON object")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise LabelFileError(f"{where}: `text` must be a non-empty string")
    themes = raw.get("themes")
    if themes is not None:
        if (
            not isinstance(themes, list)
            or not all(isinstance(t, str) for t in themes)
            or not themes
        ):
            raise LabelFileError(f"{where}: `themes` must be a non-empty list of theme ids")
        unknown = sorted(set(themes) - theme_ids) if theme_ids is not None else []
        if unknown:
            raise LabelFileError(f"{where}: unknown theme(s) {unknown}; known: {sorted(theme_ids)}")
        themes = tuple(dict.fromkeys(themes))
    sentiment = raw.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise LabelFileError(
            f"{where}: `sentiment` must be one of {list(SENTIMENTS)}, not {sentiment!r}"
        )
    known = {"id", "text", "title", "platform", "themes", "sentiment", "notes"}
    return LabelledExample(
        id=str(raw.get("id") or where),
        text=text,
        title=raw.get("title") or "",
        platform=raw.get("platform"),
        themes=themes,
        sentiment=sentiment,
        notes=raw.get("notes") or "",
        extra={k: v for k, v in raw.items() if k not in known},
    )


def read_labelled(
    path: Path | str, theme_ids: Iterable[str] | None = None
) -> list[LabelledExample]:
    """Every example in a TAXONOMY-format JSONL file; a bad line raises LabelFileError."""
    path = Path(path)
    if not path.is_file():
        raise LabelFileError(f"{path}: file not found")
    known = set(theme_ids) if theme_ids is not None else None
    examples = []
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as e:
                raise LabelFileError(f"{where}: not valid JSON ({e.msg})") from e
            examples.append(_example(raw, where, known))
    if not examples:
        raise LabelFileError(f"{path}: no examples")
    return examples


def to_json_line(example: LabelledExample) -> str:
    data = {k: v for k, v in asdict(example).items() if k != "extra"}
    data["themes"] = list(example.themes) if example.themes is not None else None
    return json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False)


def write_labelled(path: Path | str, examples: Iterable[LabelledExample]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for example in examples:
            out.write(to_json_line(example) + "\n")
            n += 1
    return n
