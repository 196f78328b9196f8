"""The dashboard issue's acceptance scenario, in a real browser (fixtures in tests/browser.py).

A new user runs `yuqing demo`, logs in with the printed password (and chooses their own),
sees the demo's wages spike on the overview, finds a post about wage arrears by search,
corrects its tags, opens a case that is routed to the wages department of departments.yaml,
moves it through every status to 办结 with comments (the public reply at 已反馈), downloads
the weekly DOCX briefing from the Briefings page and opens its post links: in the same
browser (the remembered login: no login form), and in a fresh one that must log in first
and then land on the post, and after logging out must log in again.
Screenshots of each step go to tests/artifacts/flow-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard import alert_desk, cases
from dashboard.filters import Filters
from tests.browser import (
    WAIT_S,
    browser,
    choose,
    click,
    click_link,
    dashboard,
    downloads,
    fill,
    log_in,
    make_driver,
    nav,
    open_expander,
    screenshot,
    wait_for_text,
)
from yuqing.services import departments_for, records_for, store_for
from yuqing.settings import load_config

__all__ = ["browser", "dashboard", "downloads"]  # fixtures
pytestmark = pytest.mark.slow

NEW_PASSWORD = "flow test password"
STEPS = (  # (status, comment); the reply is given at 已反馈
    ("transferred", "转人力资源部薪酬科核实"),
    ("in_progress", "已核实欠薪情况，协调补发"),
    ("replied", "已在留言板答复职工"),
    ("closed", "工资已全部补发，职工确认"),
)
PUBLIC_REPLY = "经核实，钻井二公司拖欠的工资已于本周全部补发。"


def docx_links(path: Path) -> list[str]:
    """The targets of the document's external hyperlinks (its relationships)."""
    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    rels = Document(str(path)).part.rels.values()
    return [r.target_ref for r in rels if r.reltype == RT.HYPERLINK]


def test_demo_to_closed_case_and_briefing(config_dir, dashboard, browser, downloads) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    url, password, data = dashboard
    config = load_config(config_dir, data_dir=data, environ={"YUQING_PSEUDONYM_KEY": "x"})
    store, records = store_for(config), records_for(config)
    departments = departments_for(config)
    names = {t.id: t.name for t in config.taxonomy.themes}

    # 1. First login with the printed one-time password, then one's own.
    browser.get(url + "/")
    log_in(browser, password)
    wait_for_text(browser, "Choose your password")
    fill(browser, "New password", NEW_PASSWORD)
    fill(browser, "Again", NEW_PASSWORD)
    click(browser, "Save password")

    # 2. The overview shows the spike: the active wages alert, with a link to its posts.
    text = wait_for_text(browser, "Active alerts")
    spike = [
        a for a in alert_desk.most_urgent(records) if (a.get("scope") or {}).get("theme") == "wages"
    ]
    assert spike, "the demo raised no active wages alert"
    text = wait_for_text(browser, spike[0]["title"])
    assert names["wages"] in spike[0]["title"]
    wait_for_text(browser, "Largest stories")
    screenshot(browser, "flow-1-overview")
    click_link(browser, "Matching posts")
    text = wait_for_text(browser, "newest first")
    expected = store.search(alert_desk.search_filters(spike[0]).query()).total
    shown = re.search(r"([\d,]+) posts; showing", text)
    assert shown and int(shown.group(1).replace(",", "")) == expected
    negative_wages = store.search(
        Filters(themes=("wages",), sentiments=("negative",), since=spike[0]["window_start"][:10])
        .query()
    ).total  # fmt: skip
    assert expected >= spike[0]["observed"] and negative_wages >= spike[0]["observed"]
    screenshot(browser, "flow-2-alert-posts")

    # 3. Search for wage arrears and open the first post.
    nav(browser, "Search")
    wait_for_text(browser, "Search posts")
    fill(browser, "Search posts", "拖欠工资")
    text = wait_for_text(browser, "newest first")
    # Filters chosen earlier in the session stay on; the count is the URL's search's.
    WebDriverWait(browser, WAIT_S).until(lambda d: "q=" in d.current_url)
    in_url = Filters.from_query_string(urlsplit(browser.current_url).query)
    assert in_url.text == "拖欠工资"
    shown = re.search(r"([\d,]+) posts; showing", text)
    assert shown and int(shown.group(1).replace(",", "")) == store.search(in_url.query()).total
    wait_for_text(browser, "Details")
    screenshot(browser, "flow-3-search")
    href = click_link(browser, "Details")
    post_id = re.search(r"post=([^&]+)", href).group(1)
    post = store.get(post_id)
    assert "工资" in post.title + post.text
    wait_for_text(browser, "Evidence")
    wait_for_text(browser, post.title)

    # 4. Correct its tags: add 困难帮扶 (hardship) next to the model's themes.
    open_expander(browser, "Correct the tags")
    added = "hardship" if "hardship" not in post.themes else "welfare"
    choose(browser, "Themes", names[added])
    click(browser, "Save correction")
    wait_for_text(browser, "Saved. It will train the next model.")
    screenshot(browser, "flow-4-corrected")
    labels = store.get(post_id).annotations.labels
    assert set(labels.themes) == {*post.themes, added}
    assert labels.sentiment == post.sentiment and labels.classifier == "officer"

    # 5. Open a case: routed by the corrected themes to the wages department.
    wages_dept = departments.route(["wages"], [])
    assert "wages" in wages_dept.themes and wages_dept.name == "人力资源部"
    open_expander(browser, "Open a case")
    wait_for_text(browser, f"Routed to {wages_dept.name} ({wages_dept.id})")
    fill(browser, "Comment", "职工反映钻井二公司拖欠工资")
    click(browser, "Open case")
    text = wait_for_text(browser, "opened for")
    case_id, department = re.search(r"Case (\S+) opened for (\S+)\.", text).groups()
    assert department == wages_dept.name
    screenshot(browser, "flow-5-case-opened")

    # 6. Through every status to 办结, each with a comment; the reply at 已反馈.
    click_link(browser, f"Go to case {case_id}")
    wait_for_text(browser, f"{case_id} · {cases.STATUS_NAMES['received']}")
    wait_for_text(browser, f"{wages_dept.name} ({wages_dept.id})")
    for n, (status, comment) in enumerate(STEPS, start=6):
        choose(browser, "Next status", cases.STATUS_NAMES[status])
        fill(browser, "Comment (what was done)", comment)
        if status == "replied":
            fill(browser, "Reply or feedback given to the public (for 已反馈)", PUBLIC_REPLY)
        click(browser, "Save")
        wait_for_text(browser, f"{case_id} · {cases.STATUS_NAMES[status]}")
        wait_for_text(browser, comment)
        screenshot(browser, f"flow-{n}-{status}")
    case = cases.get_case(records, case_id)
    assert case["status"] == "closed" and case["department"] == wages_dept.id
    assert [h["status"] for h in case["history"]] == list(cases.STATUSES)
    assert [h["comment"] for h in case["history"][1:]] == [c for _, c in STEPS]
    assert case["reply"] == PUBLIC_REPLY and post_id in case["post_ids"]
    assert case_id in store.get(post_id).annotations.case_ids

    # 7. The weekly briefing as DOCX, from the Briefings page's download button.
    nav(browser, "Briefings")
    wait_for_text(browser, "Download the day briefing (docx)")
    click(browser, "week")
    wait_for_text(browser, "Download the week briefing (docx)")
    click(browser, "Download the week briefing (docx)")
    got = WebDriverWait(browser, WAIT_S).until(
        lambda _: [p for p in downloads.glob("briefing-week-*.docx")]
    )
    screenshot(browser, "flow-10-briefing")
    links = docx_links(got[0])
    post_links = [link for link in links if link.startswith(f"{url}/post?post=")]
    assert post_links, f"no post links among {links}"

    # 8. A post link in the same browser, logged in: the post's page with its title.
    target = post_links[0]
    linked = store.get(re.search(r"post=([^&]+)", target).group(1))
    browser.get(target)
    text = wait_for_text(browser, "Evidence")
    assert linked.title in text and "log in" not in text
    screenshot(browser, "flow-11-link-same-browser")

    # 9. The same link in a fresh browser: it asks for login, then shows that post.
    fresh = make_driver(downloads)
    try:
        fresh.get(target)
        log_in(fresh, NEW_PASSWORD)
        text = wait_for_text(fresh, "Evidence")
        assert linked.title in text
        assert fresh.current_url == target
        screenshot(fresh, "flow-12-link-after-login")
        # Logging out ends the remembered login: the link asks again.
        click(fresh, "Log out")
        wait_for_text(fresh, "log in")
        fresh.get(target)
        wait_for_text(fresh, "log in")
    finally:
        fresh.quit()
