"""The watch-list (configs/units.yaml): loading, and matching on normalised text.

Filtering and unit tagging in real crawls are in tests/test_source_types.py; mistakes in
units.yaml, with the other config files', in tests/test_settings.py.
"""

from __future__ import annotations

import pytest

from crawlers.watch import WatchMatcher, fold
from yuqing.config_errors import ConfigError
from yuqing.settings import load_config
from yuqing.watchlist import load_watchlist

ENV = {"YUQING_PSEUDONYM_KEY": "test-key-not-secret"}


@pytest.fixture(scope="module")
def matcher(project_config) -> WatchMatcher:
    return WatchMatcher(project_config.watchlist)


def test_project_watchlist_covers_the_demo_units(project_config):
    from yuqing.demosite import vocab

    watchlist = project_config.watchlist
    assert watchlist.enterprise.name == vocab.ENTERPRISE
    assert {u.name for u in watchlist.units} >= set(vocab.UNITS)
    assert all(s.watchlist is watchlist for s in project_config.sources)


@pytest.mark.parametrize(
    ("text", "names_enterprise", "units"),
    [
        ("青岚能源集团第三采油厂拖欠工资", True, ["第三采油厂"]),
        ("青嵐能源集團採油三廠停工", True, ["第三采油厂"]),  # Traditional script, an alias
        ("老职工说起第三采油矿", True, ["第三采油厂"]),  # a former name
        ("５０１１２队 打 井", True, ["50112钻井队"]),  # full-width digits
        ("青 岚 能 源的招聘", True, []),  # spaces put inside the name
        ("油田职工医院和职工医院", True, ["职工医院"]),  # the longer name wins, one unit
        ("供电公司检修线路", False, ["供电公司"]),  # ambiguous: tags, does not identify
        ("第三采油厂\n", True, ["第三采油厂"]),
        ("本市天气晴", False, []),
    ],
)
def test_matcher(matcher, text, names_enterprise, units):
    found = matcher.match(text)
    assert (found.names_enterprise, found.units) == (names_enterprise, units)


def test_units_come_in_order_of_first_mention(matcher):
    found = matcher.match("机械厂的事", "炼化厂和机械厂，还有退管中心")
    assert found.units == ["机械厂", "炼化厂", "退休职工管理中心"]
    assert found.names_enterprise  # 炼化厂 and 退管中心 are not ambiguous


def test_a_name_never_spans_title_and_text(matcher):
    assert matcher.match("第三采油", "厂的职工").units == []


def test_fold():
    assert fold("青嵐 能源\u3000ＡＢＣ１２３") == "青岚能源abc123"


def test_search_terms_and_jieba_words(project_config):
    watchlist = project_config.watchlist
    assert watchlist.search_terms("enterprise") == watchlist.enterprise.names
    everything = watchlist.search_terms("all")
    assert "采油三厂" in everything and len(everything) == len(set(everything))
    assert watchlist.search_terms(["青岚"]) == ["青岚"]
    assert {"青岚能源集团", "第三采油厂", "退管中心", "青岚石油管理局"} <= watchlist.words()


def test_without_units_yaml_only_filtering_sources_complain(config_dir):
    (config_dir / "units.yaml").unlink()
    assert load_watchlist(config_dir) is None
    # The demo's boards do not filter, and demo-news opts out: no watch-list needed, no units.
    config = load_config(config_dir, environ=ENV)
    assert config.watchlist is None and all(s.watchlist is None for s in config.sources)
    sources = config_dir / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace("watchlist_filter: false", "watchlist_filter: true"))
    with pytest.raises(ConfigError) as e:
        load_config(config_dir, environ=ENV)
    message = str(e.value)
    assert "key `sources[1]`: source 'demo-news' filters or searches by the watch-list" in message
    assert "units.yaml does not exist. Fix: create it" in message
