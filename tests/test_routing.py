"""归口 routing: departments.yaml sends each grievance to the department responsible."""

from __future__ import annotations

import pytest

from yuqing.config_errors import ConfigError
from yuqing.routing import load_departments
from yuqing.services import departments_for


def test_project_departments_route_by_theme(project_config) -> None:
    deps = departments_for(project_config)
    assert deps.route(["wages"]).name == "人力资源部"
    assert deps.route(["safety_environment", "wages"]).id == "hr"  # first match wins
    assert deps.route(["cadre_conduct"]).id == "discipline"
    assert deps.route(["other"]).id == deps.default
    assert deps.route([]).id == deps.default


def test_unit_scoped_department_wins_only_for_its_units(config_dir) -> None:
    text = (config_dir / "departments.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "departments:\n",
        "departments:\n  - id: drilling-hr\n    name: 钻井公司人事科\n"
        "    themes: [wages]\n    units: [钻井公司]\n",
        1,
    )
    (config_dir / "departments.yaml").write_text(text, encoding="utf-8")
    deps = load_departments(config_dir)
    assert deps.route(["wages"], ["钻井公司"]).id == "drilling-hr"
    assert deps.route(["wages"], ["总医院"]).id == "hr"


def test_errors_name_file_key_and_fix(config_dir) -> None:
    path = config_dir / "departments.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[wages,", "[wagez,"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_departments(config_dir, ["wages", "welfare"])
    assert "departments.yaml" in str(err.value) and "departments.0.themes" in str(err.value)
    assert "wagez" in str(err.value) and "Fix:" in str(err.value)

    path.write_text("default: nobody\ndepartments:\n  - id: hr\n    name: HR\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nobody"):
        load_departments(config_dir)
