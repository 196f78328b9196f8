"""Cases (闭环) on a real SQLite store and records: routing, forward-only steps, roles, the
links onto posts; and the Cases page through AppTest."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from dashboard import audit, cases
from dashboard.auth import PermissionDenied, User
from index.factory import sqlite_path
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from tests import test_dashboard
from tests.test_dashboard import make_post, run_app
from yuqing.routing import load_departments
from yuqing.schema import SHANGHAI, Annotations, Classification
from yuqing.settings import load_config

KEY_ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}  # no dev-key warning

ROOT = Path(__file__).resolve().parents[1]
OFFICER = User("li", "officer")
VIEWER = User("wang", "viewer")
ADMIN = User("zhao", "admin")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


app_dirs = test_dashboard.app_dirs  # the fixture: configs and data in tmp_path


@pytest.fixture
def parts(tmp_path: Path, segmenter, project_config):
    store = SqliteStore(tmp_path / "yuqing.sqlite3", segmenter)
    store.setup()
    posts = [
        make_post(1, date(2026, 3, 1), "工资拖欠", "车间工资拖了三个月。", ["wages"], "negative"),
        make_post(2, date(2026, 3, 1), "又拖工资", "工资还没发。", ["wages"], "negative"),
        make_post(
            3, date(2026, 3, 1), "烟囱冒黑烟", "厂区废气。", ["safety_environment"], "negative"
        ),
    ]
    posts[0] = posts[0].model_copy(update={"units": ["第三采油厂"], "story_id": "s-wages"})
    posts[1] = posts[1].model_copy(update={"units": ["第三采油厂"], "story_id": "s-wages"})
    store.upsert(posts)
    records = SqliteRecords(tmp_path / "yuqing.sqlite3")
    records.setup()
    departments = load_departments(ROOT / "configs", project_config.taxonomy.theme_ids)
    yield store, records, departments, posts
    store.close()


def test_an_officers_correction_routes_a_post_s_case(parts) -> None:
    store, _records, departments, posts = parts
    post = posts[2]  # the model says safety_environment
    assert cases.themes_of(post) == ["safety_environment"]
    fixed = Classification(themes=["wages"], sentiment="negative", classifier="officer")
    store.annotate(post.id, Annotations(labels=fixed))
    themes = cases.themes_of(store.get(post.id))
    assert themes == ["wages"] and departments.route(themes, []).id == "hr"


def test_a_case_is_routed_by_theme_with_the_departments_due_days(parts) -> None:
    store, records, departments, posts = parts
    case = cases.open_case(
        records, store, departments, OFFICER, title="车间欠薪", themes=["wages"],
        units=["第三采油厂"], post_ids=[posts[0].id], comment="from the forum", now=T0,
    )  # fmt: skip
    assert (case["department"], case["department_name"]) == ("hr", "人力资源部")
    assert case["due"] == "2026-03-09"  # hr: due_days 7
    assert case["status"] == "received" and case["opened_by"] == "li"
    assert case["history"][0]["by"] == "li" and case["history"][0]["comment"] == "from the forum"
    assert records.get("case", case["id"]) == {
        **case,
        "updated_at": records.get("case", case["id"])["updated_at"],
    }
    safety = cases.open_case(
        records, store, departments, OFFICER, title="废气", themes=["safety_environment"], now=T0
    )
    assert (safety["department"], safety["due"]) == ("safety", "2026-03-05")
    other = cases.open_case(records, store, departments, OFFICER, title="杂项", themes=["other"])
    assert other["department"] == departments.default
    [entry, *_] = audit.entries(records, event="case_opened")
    assert entry["user"] == "li"


def test_a_story_case_links_every_post_and_keeps_officer_labels(parts) -> None:
    store, records, departments, posts = parts
    labels = Classification(themes=["wages"], sentiment="negative", classifier="officer")
    store.annotate(posts[1].id, Annotations(labels=labels, case_ids=["C-old"]))
    case = cases.open_case(
        records, store, departments, OFFICER, title="欠薪", themes=["wages"], story_id="s-wages"
    )
    assert sorted(case["post_ids"]) == sorted([posts[0].id, posts[1].id])
    assert case["origin"] == "story"
    first, second = store.get(posts[0].id), store.get(posts[1].id)
    assert first.annotations.case_ids == [case["id"]]
    assert second.annotations.case_ids == ["C-old", case["id"]]
    assert second.annotations.labels == labels  # the officer's labels survive
    assert store.get(posts[2].id).annotations is None


def test_cases_move_only_forward_with_comment_and_reply(parts) -> None:
    store, records, departments, _posts = parts
    case = cases.open_case(
        records, store, departments, OFFICER, title="欠薪", themes=["wages"], now=T0
    )
    cid = case["id"]
    assert cases.next_statuses(case) == ["transferred", "in_progress", "replied", "closed"]
    with pytest.raises(cases.CaseError, match="comment"):
        cases.advance(records, OFFICER, cid, "transferred", " ")
    cases.advance(records, OFFICER, cid, "transferred", "sent to HR", owner="hr-chen")
    cases.advance(records, OFFICER, cid, "in_progress", "HR checking payroll")
    with pytest.raises(cases.CaseError, match="only move forward"):
        cases.advance(records, OFFICER, cid, "received", "back")
    with pytest.raises(cases.CaseError, match="reply"):
        cases.advance(records, OFFICER, cid, "replied", "answered")
    done = cases.advance(
        records, OFFICER, cid, "replied", "answered on the board", reply="工资已于3月5日补发。"
    )
    assert done["reply"] == "工资已于3月5日补发。" and done["replied_at"]
    closed = cases.advance(records, OFFICER, cid, "closed", "confirmed with the workers")
    assert [h["status"] for h in closed["history"]] == list(cases.STATUSES)
    assert closed["owner"] == "hr-chen" and closed["closed_at"]
    with pytest.raises(cases.CaseError, match="it is closed"):
        cases.advance(records, OFFICER, cid, "closed", "again")
    changes = audit.entries(records, event="case_changed")
    assert [e["detail"]["status"] for e in changes] == [
        "closed",
        "replied",
        "in_progress",
        "transferred",
    ]


def test_roles_limit_cases_in_the_module(parts) -> None:
    store, records, departments, _posts = parts
    with pytest.raises(PermissionDenied, match="officer"):
        cases.open_case(records, store, departments, VIEWER, title="x", themes=["wages"])
    case = cases.open_case(records, store, departments, OFFICER, title="x", themes=["wages"])
    with pytest.raises(PermissionDenied):
        cases.advance(records, VIEWER, case["id"], "transferred", "no")
    cases.advance(records, OFFICER, case["id"], "closed", "nothing to do")
    with pytest.raises(PermissionDenied, match="admin"):
        cases.reopen(records, OFFICER, case["id"], "again")
    reopened = cases.reopen(records, ADMIN, case["id"], "workers say not paid")
    assert reopened["status"] == "in_progress" and reopened["history"][-1]["reopened"] is True


def test_overdue_and_counts(parts) -> None:
    store, records, departments, _posts = parts
    late = cases.open_case(
        records, store, departments, OFFICER, title="a", themes=["safety_environment"], now=T0
    )
    on_time = cases.open_case(
        records, store, departments, OFFICER, title="b", themes=["wages"], now=T0
    )
    answered = cases.open_case(
        records, store, departments, OFFICER, title="c", themes=["safety_environment"], now=T0
    )
    cases.advance(records, OFFICER, answered["id"], "replied", "done", reply="已处理")
    day = date(2026, 3, 6)  # safety is due 03-05, hr 03-09
    assert cases.is_overdue(records.get("case", late["id"]), day)
    assert not cases.is_overdue(records.get("case", on_time["id"]), day)
    assert not cases.is_overdue(records.get("case", answered["id"]), day)  # replied: not overdue
    counts = cases.counts(records, day)
    assert (counts["open"], counts["overdue"], counts["received"], counts["replied"]) == (
        2,
        1,
        2,
        1,
    )
    assert cases.days_open(records.get("case", late["id"]), day) == 4


# --- the page ----------------------------------------------------------------------------


def _store_with_post(config_dir: Path, data_dir: Path, segmenter):
    config = load_config(config_dir, data_dir=data_dir, environ=KEY_ENV)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    store.setup()
    today = datetime.now(SHANGHAI).date()
    post = make_post(1, today, "工资又拖了", "车间工资拖了三个月。", ["wages"], "negative")
    store.upsert([post])
    store.close()
    return config, post


def test_cases_page_opens_a_case_from_a_post_and_moves_it(app_dirs, segmenter) -> None:
    config, post = _store_with_post(*app_dirs, segmenter)
    at = run_app("officer")
    at.switch_page("views/post.py")
    at.query_params["post"] = post.id
    at.run()
    assert not at.exception
    at.text_area(key="case-comment").set_value("欠薪三个月")
    next(b for b in at.button if b.label == "Open case").click().run()
    assert not at.exception
    assert "opened for 人力资源部" in at.success[0].value
    records = SqliteRecords(sqlite_path(config.settings))
    [case] = records.list("case")
    assert case["post_ids"] == [post.id] and case["history"][0]["comment"] == "欠薪三个月"

    at.query_params.clear()
    at.switch_page("views/cases.py").run()
    assert not at.exception
    assert any(case["id"] in e.label for e in at.expander)
    at.selectbox(key=f"status-{case['id']}-received").set_value("transferred")
    at.text_input(key=f"comment-{case['id']}-received").set_value("转人力资源部")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception
    assert records.get("case", case["id"])["status"] == "transferred"
    # Replied without the public reply: refused, in words.
    # The next step's form starts empty.
    assert at.text_input(key=f"comment-{case['id']}-transferred").value == ""
    at.selectbox(key=f"status-{case['id']}-transferred").set_value("replied")
    at.text_input(key=f"comment-{case['id']}-transferred").set_value("answered")
    next(b for b in at.button if b.label == "Save").click().run()
    assert "record the reply" in at.error[0].value
    assert records.get("case", case["id"])["status"] == "transferred"


def test_viewers_see_cases_but_cannot_change_them(app_dirs, segmenter) -> None:
    config, post = _store_with_post(*app_dirs, segmenter)
    records = SqliteRecords(sqlite_path(config.settings))
    records.setup()
    departments = load_departments(config.config_dir, config.taxonomy.theme_ids)
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    case = cases.open_case(records, store, departments, OFFICER, title="欠薪", themes=["wages"])
    store.close()
    at = run_app("viewer")
    at.switch_page("views/cases.py").run()
    assert not at.exception
    assert any(case["id"] in e.label for e in at.expander)
    assert not [b for b in at.button if b.label in ("Save", "Reopen")]
    at.switch_page("views/post.py")
    at.query_params["post"] = post.id
    at.run()
    assert not [b for b in at.button if b.label in ("Open case", "Save correction")]


def test_cases_page_opens_a_case_from_an_alert(app_dirs, segmenter) -> None:
    config, post = _store_with_post(*app_dirs, segmenter)
    records = SqliteRecords(sqlite_path(config.settings))
    records.setup()
    records.put(
        "alert",
        "a1",
        {
            "id": "a1", "status": "open", "title": "钻井二公司欠薪激增", "post_ids": [post.id],
            "scope": {"theme": "safety_environment", "unit": None, "source": None, "story_id": None},
        },
    )  # fmt: skip
    at = run_app("officer")
    at.switch_page("views/cases.py")
    at.query_params["alert"] = "a1"
    at.run()
    assert not at.exception
    assert at.text_input(key="new-case-title").value == "钻井二公司欠薪激增"
    assert at.selectbox(key="new-case-department").value == "safety"  # routed by the scope
    next(b for b in at.button if b.label == "Open case").click().run()
    assert "opened for 安全环保部" in at.success[0].value
    [case] = records.list("case")
    assert (case["origin"], case["alert_id"], case["post_ids"]) == ("alert", "a1", [post.id])
    store = SqliteStore(sqlite_path(config.settings), segmenter)
    assert store.get(post.id).annotations.case_ids == [case["id"]]
    store.close()
