"""Each type of source, crawled for real by Scrapy from the fixture site on 127.0.0.1.

One crawl of `tests/fixtures/sources_site/sources.yaml` (a board with comments, a message
board, two JSON APIs, two searches and a feed) runs through `crawl_sources`, as `yuqing crawl
--no-index` does, in a subprocess (Twisted's reactor runs once per process); the tests read the
batches it wrote and Scrapy's stats. The demo's message board is crawled through the CLI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from crawlers.check import check_source
from tests import sites
from tests.cli import TEST_KEY, environment, yuqing
from yuqing import demosite
from yuqing.config_errors import ConfigError
from yuqing.schema import SHANGHAI, Post, post_id, pseudonymise
from yuqing.settings import load_config

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sources_site"
ROOT = Path(__file__).resolve().parents[1]
CRAWL = """
import json, sys
from yuqing.commands.store import crawl_sources
from yuqing.settings import load_config
config = load_config(sys.argv[1], data_dir=sys.argv[2])
# --full: every source follows every link it finds (the same post may be on two sources).
report = crawl_sources(config, config.sources, full=True)
print(json.dumps(report.per_source, default=str))
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def site_config(config_dir: Path, base_url: str, sources: Path | None = None) -> Path:
    """A copy of configs/ whose demo site is `base_url`, with the fixture's sources and units."""
    shutil.copytree(ROOT / "configs", config_dir)
    settings = config_dir / "settings.yaml"
    port = base_url.rsplit(":", 1)[1]
    text = settings.read_text(encoding="utf-8").replace("port: 8765", f"port: {port}")
    settings.write_text(text, encoding="utf-8")
    if sources is not None:
        shutil.copy(sources, config_dir / "sources.yaml")
        shutil.copy(FIXTURE / "units.yaml", config_dir / "units.yaml")
    return config_dir


def inbox_posts(data_dir: Path) -> dict[str, dict[str, Post]]:
    """The crawled posts by source, then by URL path."""
    out: dict[str, dict[str, Post]] = {}
    for batch in sorted((data_dir / "inbox").glob("*.jsonl")):
        for line in batch.read_text(encoding="utf-8").splitlines():
            post = Post.model_validate_json(line)
            path = post.url.split("/", 3)[3]
            out.setdefault(post.source, {})["/" + path] = post
    return out


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    site = sites.serve()
    root = tmp_path_factory.mktemp("sources")
    config_dir = site_config(root / "configs", site.url, FIXTURE / "sources.yaml")
    data_dir = root / "data"
    proc = subprocess.run(
        [sys.executable, "-c", CRAWL, str(config_dir), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment(),
    )
    site.shutdown()
    site.server_close()
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    return site, stats, inbox_posts(data_dir)


@pytest.mark.slow
def test_board_comments_follow_the_post(crawl):
    _, stats, posts = crawl
    forum = posts["fx-forum"]
    assert sorted(forum) == ["/forum/t/1.html", "/forum/t/2.html", "/forum/t/3.html"]
    assert forum["/forum/t/1.html"].text == (
        "采油三厂已经两个月没发工资了。\n家里等着用钱。\n【跟帖】\n"
        "顶，我们也是。\n同样的情况， 反映了好几次都没用。"
    )
    assert forum["/forum/t/2.html"].text == "新来的，想问问食堂伙食怎么样。"  # no comments
    # max_comments: 2 keeps the first two of three.
    assert forum["/forum/t/3.html"].text.endswith("【跟帖】\n确实。\n+1")
    assert stats["fx-forum"]["yuqing/comments"] == 4
    assert forum["/forum/t/1.html"].author == pseudonymise("采油工88", TEST_KEY.encode())


@pytest.mark.slow
def test_message_board_status_reply_and_days_to_reply(crawl):
    _, stats, posts = crawl
    board = posts["fx-messages"]
    replied = board["/mb/m/1.html"]
    assert replied.reply.text == "经核实，拖欠的工资已于本周补发。"
    assert replied.reply.by == "第三采油厂"
    assert replied.reply.replied_at == at("2026-03-05T16:00")
    assert replied.published_at == at("2026-03-02T09:15")
    assert replied.replied and replied.reply_days == 3
    # 未回复: the placeholder reply box (暂无回复) is not a reply.
    assert board["/mb/m/2.html"].reply is None and board["/mb/m/2.html"].reply_days is None
    # 已办结 counts as replied (replied_when's defaults); 20 Feb to 6 Mar is 14 days.
    assert board["/mb/m/3.html"].reply.by == "集团公司卫生处"
    assert board["/mb/m/3.html"].reply_days == 14
    # 已回复 but no reply on the page: counted as a selector problem, stored as unreplied.
    assert board["/mb/m/4.html"].reply is None
    s = stats["fx-messages"]
    assert (s["yuqing/replied"], s["yuqing/unreplied"], s["yuqing/reply_text_missing"]) == (2, 2, 1)


@pytest.mark.slow
def test_json_api_paged_by_parameter(crawl):
    site, _, posts = crawl
    api = posts["fx-api-pages"]
    assert sorted(api) == ["/thread/501.html", "/thread/502.html", "/thread/503.html"]
    first = api["/thread/501.html"]
    assert first.id == post_id(site.url + "/thread/501.html")
    assert first.title == "采油三厂夜班补贴"
    assert first.text == "夜班补贴&加班费\n三个月没发了。"  # HTML in the JSON, made plain
    assert first.author == pseudonymise("夜班工", TEST_KEY.encode())
    assert first.published_at == at("2026-03-01T10:00")  # Unix milliseconds
    assert (first.reply.by, first.reply.replied_at) == ("人力资源部", at("2026-03-03T10:00"))
    assert first.reply_days == 2
    assert api["/thread/502.html"].published_at == at("2026-03-02T10:00")  # Unix seconds
    assert api["/thread/502.html"].reply is None  # 待回复, reply null
    assert api["/thread/503.html"].published_at == at("2026-03-04T08:00")
    assert site.hits["/api/posts"] == 3  # pages 1 and 2, then the empty page 3 ends it
    # An API that serves its last page again past the end stops when nothing is new.
    assert sorted(posts["fx-api-repeating"]) == sorted(api)
    assert site.hits["/api/posts-repeating"] == 3


@pytest.mark.slow
def test_json_api_paged_by_next_field_and_filtered(crawl):
    site, stats, posts = crawl
    api = posts["fx-api-cursor"]
    assert sorted(api) == ["/news/a1.html", "/news/a3.html"]  # a2 names no one
    assert stats["fx-api-cursor"]["yuqing/watchlist_filtered"] == 1
    assert site.hits["/api/feed-2.json"] == 1
    assert api["/news/a1.html"].units == ["第三采油厂"]  # by its former name, 第三采油矿
    assert api["/news/a3.html"].units == ["职工医院"]
    assert api["/news/a1.html"].published_at == at("2026-03-01T09:00")


@pytest.mark.slow
def test_search_fills_the_template_with_watchlist_terms(crawl):
    site, stats, posts = crawl
    searched = [q["kw"][0] for path, q in site.queries if path == "/search"]
    assert set(searched) == {"青岚能源集团", "青岚能源", "青岚石油管理局"}  # the enterprise's names
    # Pages counted up until one brings nothing new: 3 + 3 + 2 requests.
    assert site.hits["/search"] == 8
    found = posts["fx-search"]
    assert sorted(found) == ["/s/1.html", "/s/2.html", "/s/4.html", "/s/5.html"]
    assert stats["fx-search"]["yuqing/watchlist_filtered"] == 2  # s/3 (weather), s/6 (供电公司)


@pytest.mark.slow
def test_watchlist_tags_units_by_name_alias_former_name_and_traditional_script(crawl):
    _, _, posts = crawl
    found = posts["fx-search"]
    assert found["/s/1.html"].units == ["第三采油厂"]
    assert found["/s/2.html"].units == []  # the enterprise's alias only
    assert found["/s/4.html"].units == ["第三采油厂"]  # 青嵐能源集團採油三廠
    assert found["/s/4.html"].title == "青嵐能源集團採油三廠停工"  # stored as published
    assert found["/s/5.html"].units == ["职工医院"]  # 青岚医院, under its former name's page
    assert posts["fx-forum"]["/forum/t/2.html"].units == []  # boards keep every post
    assert posts["fx-forum"]["/forum/t/3.html"].units == ["职工医院"]


@pytest.mark.slow
def test_search_in_the_sites_encoding_paged_by_next_link(crawl):
    site, stats, posts = crawl
    queries = [q for path, q in site.queries if path == "/search-gbk"]
    # The site decoded both requests as GBK: the first from the template, the second its link.
    assert queries == [{"kw": ["青岚能源集团"]}, {"kw": ["青岚能源集团"], "p": ["2"]}]
    assert sorted(posts["fx-search-gbk"]) == ["/s/1.html", "/s/4.html"]
    assert stats["fx-search-gbk"]["yuqing/watchlist_filtered"] == 1  # s/3


@pytest.mark.slow
def test_feed_keeps_only_posts_naming_the_enterprise(crawl):
    site, stats, posts = crawl
    assert sorted(posts["fx-feed"]) == ["/news/r1.html"]  # 青岚石油管理局, a former name
    # r2 names no one; r3 names only 供电公司, which is `ambiguous`.
    assert stats["fx-feed"]["yuqing/watchlist_filtered"] == 2
    assert site.hits["/robots.txt"] >= 1


@pytest.mark.slow
def test_demo_message_board_units_and_days_to_reply(tmp_path):
    corpus = demosite.generate(seed=5)
    server, base_url = demosite.serve_in_thread(corpus)
    try:
        config_dir = site_config(tmp_path / "configs", base_url)
        args = ("crawl", "--no-index", "--source", "demo-leader-board")
        proc = yuqing(config_dir, tmp_path / "data", *args)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    board = inbox_posts(tmp_path / "data")["demo-leader-board"]
    messages = [p for p in corpus.posts if p.kind == "message"]
    assert len(board) == len(messages)
    assert sum(1 for p in messages if p.unit) > 20
    for expected in messages:
        post = board[expected.path]
        if expected.unit:
            assert expected.unit in post.units, expected.path
        if expected.reply is None:
            assert post.reply_days is None
        else:
            days = (expected.reply.replied_at.date() - expected.published_at.date()).days
            assert post.reply_days == days >= 1


def _sources(config_dir: Path, text: str) -> None:
    (config_dir / "sources.yaml").write_text("sources:\n" + text, encoding="utf-8")


JSON_SOURCE = """\
  - name: api
    type: json
    platform: forum
    start_urls: ["https://example.org/api"]
"""
BOARD_SOURCE = """\
  - name: board
    type: {type}
    platform: forum
    start_urls: ["https://example.org/"]
    list: {{item_links: "a::attr(href)"}}
    detail: {{title: h1, text: div.text}}
"""
SEARCH_SOURCE = """\
  - name: find
    type: search
    platform: forum
    search: {{url: "{url}"{more}}}
    list: {{item_links: "a::attr(href)"}}
    detail: {{title: h1, text: div.text}}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            JSON_SOURCE + "    api: {items: data}\n    fields: {text: body}\n",
            ["sources.yaml", "key `sources[0].fields.url`", "Fix: add this key"],
        ),
        (
            JSON_SOURCE + "    fields: {url: link, text: body}\n",
            ["key `sources[0]`", "a `json` source needs `api`", "README"],
        ),
        (
            JSON_SOURCE + "    api: {items: d, next_page: n, page_param: p}\n"
            "    fields: {url: link, text: body}\n",
            ["key `sources[0].api`", "give `api.next_page` or `api.page_param`, not both"],
        ),
        (
            BOARD_SOURCE.format(type="message_board"),
            ["key `sources[0]`", "needs `detail.reply_text`", "use type `board`"],
        ),
        (
            BOARD_SOURCE.format(type="board") + "    api: {items: data}\n",
            ["key `sources[0]`", "a `board` source does not read `api`; remove it"],
        ),
        (
            SEARCH_SOURCE.format(url="https://example.org/s?q=", more=""),
            ["key `sources[0].search.url`", "must contain {term}"],
        ),
        (
            SEARCH_SOURCE.format(url="https://example.org/s?q={term}", more=", encoding: big9"),
            ["key `sources[0].search.encoding`", "use utf-8, gbk or gb18030"],
        ),
        (
            "  - {name: news, type: feed, platform: news}\n",
            ["key `sources[0]`", "a `feed` source needs `start_urls`"],
        ),
    ],
)
def test_bad_source_names_file_key_and_fix(config_dir, text, expected):
    _sources(config_dir, text)
    with pytest.raises(ConfigError) as e:
        load_config(config_dir, environ={"YUQING_PSEUDONYM_KEY": TEST_KEY})
    for fragment in expected:
        assert fragment in str(e.value)


def test_search_source_without_units_yaml_says_how_to_fix(config_dir):
    _sources(config_dir, SEARCH_SOURCE.format(url="https://example.org/s?q={term}", more=""))
    (config_dir / "units.yaml").unlink()
    with pytest.raises(ConfigError) as e:
        load_config(config_dir, environ={"YUQING_PSEUDONYM_KEY": TEST_KEY})
    assert "sources.yaml" in str(e.value) and "key `sources[0]`" in str(e.value)
    assert "units.yaml does not exist. Fix: create it" in str(e.value)
    # With its own terms and the filter off, a search needs no watch-list.
    more = ", terms: [青岚]"
    text = SEARCH_SOURCE.format(url="https://example.org/s?q={term}", more=more)
    _sources(config_dir, text + "    watchlist_filter: false\n")
    [source] = load_config(config_dir, environ={"YUQING_PSEUDONYM_KEY": TEST_KEY}).sources
    assert source.watchlist is None and source.search.terms == ["青岚"]


def test_sources_check_reads_search_and_json_sources(tmp_path):
    """`yuqing sources check` on every source type: the selectors or field paths that match."""
    site = sites.serve()
    try:
        config_dir = site_config(tmp_path / "configs", site.url, FIXTURE / "sources.yaml")
        config = load_config(
            config_dir, data_dir=tmp_path / "data", environ={"YUQING_PSEUDONYM_KEY": TEST_KEY}
        )
        by_name = {s.name: s for s in config.sources}
        crawl = config.settings.crawl
        search = check_source(by_name["fx-search"], crawl)
        assert search["checked"] and search["error"] is None and search["unmatched"] == []
        assert search["matches"]["list.item_links"] == 2 and search["matches"]["detail.text"] == 1
        assert any("/search?kw=" in url for url in search["fetched"])
        api = check_source(by_name["fx-api-pages"], crawl)
        assert api["checked"] and api["error"] is None and api["unmatched"] == []
        records = api["matches"]["api.items"]
        assert records > 0 and api["matches"]["fields.url"] == records
        broken = by_name["fx-api-pages"].model_copy(
            update={"fields": by_name["fx-api-pages"].fields.model_copy(update={"text": "nope"})}
        )
        assert check_source(broken, crawl)["unmatched"] == ["fields.text"]
    finally:
        site.shutdown()
        site.server_close()
