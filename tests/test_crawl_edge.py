"""Crawler edge cases on a fixture site on 127.0.0.1: wrong charsets, bad pages, retries with
backoff, tracking parameters, deletion markers and evidence. Real crawls through `yuqing`."""

from __future__ import annotations

import hashlib
import json

import pytest

from crawlers.evidence import read_page
from index.base import SearchQuery
from index.records import SqliteRecords
from index.sqlite_store import SqliteStore
from tests.cli import yuqing
from tests.fixture_site import FixtureSite, Page, board_config, list_page, thread_page
from yuqing.commands.store import crawl_lock
from yuqing.pipeline import DataPaths
from yuqing.schema import post_id

pytestmark = pytest.mark.slow

GRIEVANCE = "我们第三采油厂的工资已经拖欠三个月了，领导一直推诿，希望上级部门尽快解决。职工生活困难，孩子上学的学费都交不起。"
TRAD = "我們第三採油廠的工資已經拖欠三個月了，領導一直推諉，希望上級部門盡快解決。職工生活困難，孩子上學的學費都交不起。"


@pytest.fixture
def site():
    site = FixtureSite()
    yield site
    site.close()


def stored(data_dir, segmenter) -> SqliteStore:
    return SqliteStore(data_dir / "yuqing.sqlite3", segmenter)


def test_wrong_and_missing_charsets_are_detected(site, config_dir, tmp_path, segmenter):
    gbk_title, gb18030_title, big5_title = "工资拖欠", "𠮷䶮工资问题", "工資拖欠"
    pages = {
        # declared utf-8 (header and meta), bytes are GBK
        "/gbk-as-utf8.html": (gbk_title, GRIEVANCE, "gbk", "text/html; charset=utf-8"),
        # declared gb2312, with characters only GB18030 has
        "/gb18030-as-gb2312.html": (
            gb18030_title, "𠮷" + GRIEVANCE, "gb18030", "text/html; charset=gb2312",
        ),
        # Big5 with no charset anywhere
        "/big5-bare.html": (big5_title, TRAD, "big5", "text/html"),
        # Big5 declared utf-8
        "/big5-as-utf8.html": (big5_title + "二", TRAD, "big5", "text/html; charset=utf-8"),
    }  # fmt: skip
    for path, (title, text, codec, content_type) in pages.items():
        site.pages[path] = Page(thread_page(title, text).encode(codec), content_type)
    site.pages["/list"] = Page(list_page(list(pages)).encode())
    board_config(config_dir, "fixture", site.url + "/list")
    data_dir = tmp_path / "data"
    proc = yuqing(config_dir, data_dir, "crawl")
    assert proc.returncode == 0, proc.stderr
    assert "4 posts, 0 quarantined" in proc.stdout
    store = stored(data_dir, segmenter)
    for path, (title, text, _, _) in pages.items():
        post = store.get(post_id(site.url + path))
        assert (post.title, post.text) == (title, text), path
    store.close()


def test_bad_pages_are_quarantined_and_reported(site, config_dir, tmp_path, segmenter):
    ok = thread_page("正常的帖子", GRIEVANCE)
    site.pages.update(
        {
            "/ok.html": Page(ok.encode()),
            "/malformed.html": Page(b'<html><body><h1 class="title">\xe6\x9c\xaa<div class="content">'
                                    + GRIEVANCE.encode() + b"<p><b>\xe6\x9c\xaa\xe9\x97\xad<table><tr"),
            "/empty.html": Page(b""),
            "/huge.html": Page(thread_page("大", "大" * 2_000_000).encode()),  # 6 MB
            "/baddate.html": Page(thread_page("日期", GRIEVANCE, when="去年的某一天").encode()),
            "/notext.html": Page(b'<html><body><h1 class="title">x</h1></body></html>'),
            "/binary.html": Page(bytes(range(256)) * 40),
            "/down.html": Page(b"down", status=500),
        }
    )  # fmt: skip
    links = [p for p in site.pages if p.endswith(".html")]
    site.pages["/list"] = Page(list_page(links).encode())
    board_config(config_dir, "fixture", site.url + "/list", {"retry_times": 1, "retry_backoff": 0})
    data_dir = tmp_path / "data"
    proc = yuqing(config_dir, data_dir, "crawl")
    assert proc.returncode == 0, proc.stderr
    assert "2 posts, 6 quarantined" in proc.stdout, proc.stdout
    store = stored(data_dir, segmenter)
    assert store.get(post_id(site.url + "/ok.html")).text == GRIEVANCE
    assert GRIEVANCE in store.get(post_id(site.url + "/malformed.html")).text
    store.close()

    report = yuqing(config_dir, data_dir, "crawl", "--report", "--json")
    assert report.returncode == 0, report.stderr
    found = json.loads(report.stdout)
    expected = {
        "empty_body": 1,
        "oversize": 1,
        "bad_date": 1,
        "missing_text": 2,
        "http_error": 1,
    }
    assert found["by_reason"] == expected and found["total"] == 6
    reasons = {item["url"].rsplit("/", 1)[1]: item["reason"] for item in found["items"]}
    assert reasons == {
        "empty.html": "empty_body",
        "huge.html": "oversize",
        "baddate.html": "bad_date",
        "notext.html": "missing_text",
        "binary.html": "missing_text",
        "down.html": "http_error",
    }
    assert all(item["source"] == "fixture" and item["time"] for item in found["items"])
    text = yuqing(config_dir, data_dir, "crawl", "--report").stdout
    assert "Quarantine" in text and "6 item(s)" in text and "oversize: 1" in text
    assert f"{site.url}/baddate.html" in text

    records = SqliteRecords(data_dir / "yuqing.sqlite3")
    [run] = records.list("crawl_run")
    assert run["source"] == "fixture" and run["status"] == "errors"  # the 500
    assert run["quarantined"] == 6 and run["quarantined_by_reason"] == expected
    assert (run["posts"], run["new_posts"], run["updated_posts"]) == (2, 2, 0)
    assert run["pages"] >= 8 and run["errors"] >= 1
    assert set(run) >= {"id", "started_at", "finished_at"}


def test_retries_back_off_and_honour_retry_after(site, config_dir, tmp_path, segmenter):
    good = Page(thread_page("重试", GRIEVANCE).encode())
    busy = Page(b"busy", status=503, headers={"Retry-After": "2"})
    site.pages["/after.html"] = lambda hit: busy if hit == 1 else good
    site.pages["/backoff.html"] = lambda hit: Page(b"x", status=503) if hit <= 2 else good
    site.pages["/list"] = Page(list_page(["/after.html", "/backoff.html"]).encode())
    board_config(config_dir, "fixture", site.url + "/list", {"retry_backoff": 0.5})
    data_dir = tmp_path / "data"
    proc = yuqing(config_dir, data_dir, "crawl")
    assert proc.returncode == 0, proc.stderr
    assert "2 posts, 0 quarantined" in proc.stdout
    first, second = site.hits("/after.html")
    assert second - first >= 1.9  # Retry-After: 2, over the 0.5 s backoff
    a, b, c = site.hits("/backoff.html")
    assert b - a >= 0.45 and c - b >= 0.95  # 0.5 s, then doubled


def test_tracking_parameters_do_not_make_new_posts(site, config_dir, tmp_path, segmenter):
    site.pages["/robots.txt"] = Page(b"", "text/plain")  # empty: allows all, not quarantined
    site.pages["/t/1.html"] = Page(thread_page("一帖", GRIEVANCE).encode())
    links = ["/t/1.html?utm_source=wechat&spm=a2c4.b", "/t/1.html?from=timeline", "/t/1.html"]
    site.pages["/list"] = Page(list_page(links).encode())
    board_config(config_dir, "fixture", site.url + "/list")
    data_dir = tmp_path / "data"
    proc = yuqing(config_dir, data_dir, "crawl")
    assert proc.returncode == 0, proc.stderr
    assert "1 posts, 0 quarantined" in proc.stdout
    store = stored(data_dir, segmenter)
    assert store.count() == 1
    post = store.get(post_id(site.url + "/t/1.html?utm_medium=x&share_token=y"))
    assert post.url == site.url + "/t/1.html"
    store.close()


def test_deleted_post_keeps_text_and_evidence(site, config_dir, tmp_path, segmenter):
    original = thread_page("被删的帖子", GRIEVANCE).encode()
    site.pages["/gone.html"] = Page(original)
    site.pages["/list"] = Page(list_page(["/gone.html"]).encode())
    board_config(config_dir, "fixture", site.url + "/list", {"recheck_days": 36500})
    data_dir = tmp_path / "data"
    assert yuqing(config_dir, data_dir, "crawl").returncode == 0
    store = stored(data_dir, segmenter)
    pid = post_id(site.url + "/gone.html")
    first = store.get(pid)
    assert first.evidence_sha256 == hashlib.sha256(original).hexdigest()
    assert read_page(data_dir / "evidence", first.evidence_sha256) == original
    assert first.captured_at and not first.deleted

    # The site replaces the post with a notice, and drops it from the list.
    site.pages["/gone.html"] = Page(thread_page("提示", "该帖已被删除").encode())
    site.pages["/list"] = Page(list_page([]).encode())
    proc = yuqing(config_dir, data_dir, "crawl")
    assert proc.returncode == 0, proc.stderr
    assert "1 marked deleted" in proc.stdout
    gone = store.get(pid)
    assert gone.deleted and gone.deleted_at
    assert (gone.title, gone.text) == (first.title, first.text)
    assert (gone.evidence_sha256, gone.captured_at) == (first.evidence_sha256, first.captured_at)
    assert read_page(data_dir / "evidence", gone.evidence_sha256) == original  # as first captured
    store.close()

    # An officer gets the page back by the post's id.
    out = tmp_path / "page.html"
    proc = yuqing(config_dir, data_dir, "evidence", pid, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == original
    assert f"evidence {first.evidence_sha256}: {len(original)} bytes" in proc.stderr
    proc = yuqing(config_dir, data_dir, "evidence", "no-such-post")
    assert proc.returncode == 2 and "no post 'no-such-post'" in proc.stderr


def test_since_drops_older_posts(site, config_dir, tmp_path, segmenter):
    site.pages["/old.html"] = Page(thread_page("旧帖", GRIEVANCE, when="2025-12-30 10:00").encode())
    site.pages["/new.html"] = Page(thread_page("新帖", GRIEVANCE, when="2026-01-03 08:00").encode())
    site.pages["/list"] = Page(list_page(["/old.html", "/new.html"]).encode())
    board_config(config_dir, "fixture", site.url + "/list")
    data_dir = tmp_path / "data"
    proc = yuqing(config_dir, data_dir, "crawl", "--since", "2026-01-01")
    assert proc.returncode == 0, proc.stderr
    assert "1 posts, 0 quarantined" in proc.stdout
    store = stored(data_dir, segmenter)
    assert [h.post.title for h in store.search(SearchQuery()).hits] == ["新帖"]
    store.close()
    bad = yuqing(config_dir, data_dir, "crawl", "--since", "last week")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_one_crawl_at_a_time(site, config_dir, tmp_path):
    site.pages["/list"] = Page(list_page([]).encode())
    board_config(config_dir, "fixture", site.url + "/list")
    data_dir = tmp_path / "data"
    with crawl_lock(DataPaths(data_dir)):
        proc = yuqing(config_dir, data_dir, "crawl")
    assert proc.returncode == 2
    assert "another crawl is running" in proc.stderr
    assert yuqing(config_dir, data_dir, "crawl").returncode == 0
