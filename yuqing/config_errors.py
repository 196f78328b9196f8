"""Turn YAML and validation failures into messages that name the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file is missing, unreadable or invalid. The message says how to fix it."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        lines = [f"{self.path}: invalid configuration"] + [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, or raise ConfigError saying where the syntax broke."""
    if not path.is_file():
        raise ConfigError(
            path,
            [
                "file not found. Fix: create it (see the README) or point --config-dir at the folder that has it."
            ],
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ConfigError(
            path,
            [
                f"YAML syntax error at {where}: {e.problem}. Fix: correct the YAML syntax there (indentation, a missing colon or quote)."
            ],
        ) from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(
            path, [f"cannot read as UTF-8 YAML: {e}. Fix: save the file as UTF-8 YAML."]
        ) from e
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            path,
            [
                f"the top level must be a mapping of keys, not a {type(data).__name__}. Fix: start the file with `key: value` lines."
            ],
        )
    return data


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _fix(err: dict[str, Any], model: type[BaseModel]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return f"use one of {ctx.get('expected')}"
    if kind == "missing":
        return "add this key"
    if kind == "extra_forbidden":
        return "remove this key or correct its spelling"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"give a value of the right type ({kind.removesuffix('_parsing').removesuffix('_type')})"
    if kind == "value_error":
        return "change the value as the message says"
    return "correct the value"


def validation_problems(e: ValidationError, model: type[BaseModel]) -> list[str]:
    problems = []
    for err in e.errors():
        got = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(got, dict) else f" (got {got!r})"
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"key `{_key(err['loc'])}`: {msg}{shown}. Fix: {_fix(err, model)}.")
    return problems


def load_model(path: Path, model: type[M], data: dict[str, Any] | None = None) -> M:
    """Validate a YAML file (or already-read data) into `model`, or raise ConfigError."""
    raw = read_yaml(path) if data is None else data
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(path, validation_problems(e, model)) from e
