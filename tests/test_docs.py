"""The README documents every config key and keeps its two set-up lines."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from alerts.calendar import Calendar
from alerts.config import AlertsFile
from nlp.normalize import NormalizationTable
from yuqing.routing import Departments
from yuqing.settings import Settings, SourcesFile, Taxonomy
from yuqing.watchlist import Watchlist

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        inner = field.annotation
        args = [
            a
            for a in getattr(inner, "__args__", ())
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            args = [inner]
        if args:
            out.extend(keys(args[0], key + ("[]." if "list[" in str(inner) else ".")))
        else:
            out.append(key)
    return out


def test_every_config_key_is_documented():
    documented = set(re.findall(r"`([a-z_\[\]\.]+)`", README))
    expected = keys(Settings) + keys(SourcesFile) + keys(Taxonomy) + keys(NormalizationTable)
    expected += keys(Departments) + keys(Watchlist) + keys(AlertsFile) + keys(Calendar)
    expected += ["initialisms.to", "initialisms.near"]  # the long form of an initialism
    assert "store.elasticsearch.url" in expected and "sources[].list.item_links" in expected
    assert "themes[].keywords" in expected and "sentiment.degree" in expected
    assert "sources[].fields.url" in expected and "units[].former_names" in expected
    assert "rules[].sensitive.max_p" in expected and "channels[].from" in expected
    missing = [k for k in expected if k not in documented]
    assert missing == []


def test_first_code_block_is_the_two_setup_lines():
    block = README.split("```")[1].strip("\n").splitlines()
    assert block == [
        "bash scripts/setup.sh && .venv/bin/yuqing demo",
        "bash scripts/setup.sh --dev && bash scripts/test.sh",
    ]
