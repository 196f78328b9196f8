"""Configs load into typed models; a bad file names the file, the key and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from yuqing.config_errors import ConfigError
from yuqing.settings import DEV_PSEUDONYM_KEY, load_config

ENV = {"YUQING_PSEUDONYM_KEY": "k"}


def test_project_configs_load(project_config):
    s = project_config.settings
    assert s.store.backend == "sqlite"
    assert s.store.elasticsearch.index == "yuqing-posts"
    assert s.data_dir.is_absolute() and s.data_dir.name == "data"
    assert [src.name for src in project_config.sources] == [
        "demo-forum",
        "demo-news",
        "demo-leader-board",
        "demo-complaints",
    ]
    assert project_config.sources[0].start_urls == ["http://127.0.0.1:8765/forum/"]
    assert project_config.taxonomy.theme_ids == [
        "wages", "welfare", "job_transfer", "children_employment", "injury_illness",
        "family_survivors", "hardship", "legacy", "cadre_conduct", "safety_environment", "other",
    ]  # fmt: skip
    assert project_config.pseudonym_key == b"test-key-not-secret"


def test_demo_url_replaces_placeholder(config_dir):
    config = load_config(config_dir, demo_url="http://127.0.0.1:5555", environ=ENV)
    assert config.sources[2].start_urls == ["http://127.0.0.1:5555/board/"]


def test_dev_key_is_used_with_a_warning(config_dir, caplog, monkeypatch):
    monkeypatch.setattr("yuqing.settings._warned", set())  # warned once per process
    config = load_config(config_dir, environ={})
    assert config.pseudonym_key == DEV_PSEUDONYM_KEY.encode()
    assert "YUQING_PSEUDONYM_KEY is not set" in caplog.text


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "settings.yaml",
            "backend: sqlite",
            "backend: mysql",
            [
                "settings.yaml",
                "key `store.backend`",
                "'mysql'",
                "Fix: use one of 'sqlite' or 'elasticsearch'",
            ],
        ),
        (
            "settings.yaml",
            "port: 8501",
            "port: lots",
            ["key `dashboard.port`", "'lots'", "Fix: give a value of the right type (int)"],
        ),
        (
            "settings.yaml",
            "  index: yuqing-posts",
            "  index: Yuqing Posts",
            ["key `store.elasticsearch.index`", "must be lowercase"],
        ),
        (
            "settings.yaml",
            "data_dir: data",
            "data_dri: data",
            ["key `data_dri`", "Fix: remove this key or correct its spelling"],
        ),
        (
            "settings.yaml",
            "store:\n",
            "store:\n  - oops\n",
            ["settings.yaml", "YAML syntax error at line", "Fix: correct the YAML syntax"],
        ),
        (
            "sources.yaml",
            "type: feed",
            "type: atom",
            [
                "sources.yaml",
                "key `sources[1].type`",
                "Fix: use one of 'board', 'message_board', 'feed', 'json' or 'search'",
            ],
        ),
        (
            "sources.yaml",
            '"{demo_site}/forum/"',
            '"{site}/forum/"',
            ["key `sources[0].start_urls[0]`", "the only placeholder is {demo_site}"],
        ),
        (
            "sources.yaml",
            "name: demo-news",
            "name: demo-forum",
            ["sources.yaml", "source names must be unique; repeated: demo-forum"],
        ),
        (
            "taxonomy.yaml",
            "fallback: other",
            "fallback: misc",
            ["taxonomy.yaml", "`fallback` theme 'misc' is not among the theme ids"],
        ),
        (
            "taxonomy.yaml",
            "{工资: 2,",
            "{工资: -2,",
            ["key `themes[0].keywords`", "weights must be > 0; fix 工资"],
        ),
        (
            "units.yaml",
            "aliases: [采油二厂]",
            "aliases: [采油一厂]",
            [
                "units.yaml",
                "key `units`",
                "'采油一厂' names both unit '第一采油厂' and unit '第二采油厂'",
            ],
        ),
        (
            "units.yaml",
            "aliases: [青岚能源, 青岚集团, 青岚油田]",
            "aliases: [青岚能源, 青岚 集团]",
            ["key `enterprise.aliases`", "holds whitespace; write the name without spaces"],
        ),
        (
            "units.yaml",
            "  name: 青岚能源集团\n",
            "",
            ["key `enterprise.name`", "Fix: add this key"],
        ),
        (
            "units.yaml",
            "ambiguous: true",
            "ambiguous: maybe",
            ["key `units[7].ambiguous`", "Fix: give a value of the right type"],
        ),
    ],
)
def test_bad_config_names_file_key_and_fix(config_dir, file, old, new, expected):
    _break(config_dir / file, old, new)
    with pytest.raises(ConfigError) as e:
        load_config(config_dir, environ=ENV)
    for fragment in expected:
        assert fragment in str(e.value)


def test_missing_file_says_how_to_fix(config_dir):
    (config_dir / "taxonomy.yaml").unlink()
    with pytest.raises(
        ConfigError,
        match=r"taxonomy.yaml: invalid configuration\n  - file not found. Fix: create it",
    ):
        load_config(config_dir, environ=ENV)


def test_cli_reports_broken_settings_without_traceback(config_dir):
    _break(config_dir / "settings.yaml", "backend: sqlite", "backend: mysql")
    proc = subprocess.run(
        [sys.executable, "-m", "yuqing", "--config-dir", str(config_dir), "search", "工资"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "YUQING_PSEUDONYM_KEY": "k"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{config_dir / 'settings.yaml'}: invalid configuration" in proc.stderr
    assert (
        "key `store.backend`" in proc.stderr
        and "Fix: use one of 'sqlite' or 'elasticsearch'" in proc.stderr
    )
