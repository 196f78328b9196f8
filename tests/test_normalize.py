"""Normalisation gives evasive, traditional and full-width spellings one form, and nothing else."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from nlp.normalize import (
    NormalizationTable,
    Normalizer,
    get_normalizer,
    load_normalization,
    user_words,
)
from yuqing.config_errors import ConfigError

TABLE_FILE = Path(__file__).resolve().parents[1] / "configs" / "normalization.yaml"


@pytest.fixture(scope="module")
def table() -> NormalizationTable:
    return load_normalization(TABLE_FILE)


@pytest.fixture(scope="module")
def norm(table: NormalizationTable) -> Normalizer:
    return get_normalizer(table)


CASES = [
    # Traditional -> Simplified, on grievance vocabulary.
    ("薪資", "薪资"),
    ("工資", "工资"),
    ("拖欠", "拖欠"),
    ("退休待遇", "退休待遇"),
    ("養老金", "养老金"),
    ("領導", "领导"),
    ("職業病", "职业病"),
    ("撫卹金", "抚恤金"),
    ("撫恤金", "抚恤金"),
    ("買斷工齡", "买断工龄"),
    ("遺屬補助", "遗属补助"),
    ("衞生條件差", "卫生条件差"),  # a Hong Kong variant character
    ("我們單位拖欠工資三個月了，領導說沒錢。", "我们单位拖欠工资三个月了，领导说没钱。"),
    # Simplified text is left alone (OpenCC alone would make 打坏 into 打坯, 沈思 into 沉思).
    ("设备打坏了，沈思了很久", "设备打坏了，沈思了很久"),
    ("工資沒發，设备打坏了", "工资没发，设备打坏了"),  # only the traditional clause converts
    # Full-width -> half-width; Chinese punctuation stays.
    ("ＡＢＣ１２３", "ABC123"),
    ("ＡＢＣ　１２３", "ABC 123"),
    ("工资３．５万，涨了１０％", "工资3.5万，涨了10%"),
    ("工资呢？没发！（退休）：；", "工资呢？没发！（退休）：；"),
    ("⼯资", "工资"),  # a Kangxi radical that looks like 工
    # Separators inside a word.
    ("工 资", "工资"),
    ("工*资", "工资"),
    ("工＊资", "工资"),
    ("拖.欠", "拖欠"),
    ("领·导", "领导"),
    ("工×资", "工资"),
    ("工_资", "工资"),
    ("工/资", "工资"),
    ("工-资", "工资"),
    ("工\u200b资", "工资"),
    ("工\u200d资", "工资"),
    ("工 * 资 拖\t欠", "工资拖欠"),
    ("遺 屬 補 助", "遗属补助"),
    # ... but not across punctuation, lines, digits or Latin text.
    ("工资。拖欠", "工资。拖欠"),
    ("工资，拖欠", "工资，拖欠"),
    ("工资\n拖欠", "工资\n拖欠"),
    ("工资 abc 拖欠", "工资 abc 拖欠"),
    ("3.5 2023-05-01 v1.2.3", "3.5 2023-05-01 v1.2.3"),
    ("工资3.5万，2023-05-01发", "工资3.5万，2023-05-01发"),
    (
        "详见 https://example.com/a_b/c-d.html?x=1&y=2 。",
        "详见 https://example.com/a_b/c-d.html?x=1&y=2 。",
    ),
    # Mixed-script spellings.
    ("领dao不管", "领导不管"),
    ("领DAO不管", "领导不管"),
    ("领.dao 不管", "领导不管"),
    ("都是不zuo为", "都是不作为"),
    ("社bao断了", "社保断了"),
    ("xling导", "xling导"),  # the tail of a Latin word
    ("拖欠gong资", "拖欠工资"),
    # Initialisms, in Chinese context only.
    ("这个月gz又没发", "这个月工资又没发"),
    ("GZ拖了三个月", "工资拖了三个月"),
    ("gz3个月没发", "工资3个月没发"),
    ("ld说没钱", "领导说没钱"),
    ("LD 又骂人", "领导又骂人"),
    ("单位不给交sb", "单位不给交社保"),
    ("gjj 断缴", "公积金断缴"),
    ("lingdao不管", "领导不管"),
    ("你个sb", "你个sb"),  # the insult: no 社保 context
    ("我在gz上班", "我在gz上班"),  # 广州: no pay context
    ("下载gzip文件", "下载gzip文件"),
    ("gz.gov.cn 的通知", "gz.gov.cn 的通知"),
    ("文件a.gz坏了", "文件a.gz坏了"),
    ("https://gz.example.com/ld/gz 说工资", "https://gz.example.com/ld/gz 说工资"),
    ("写信到gz@example.com 说工资", "写信到gz@example.com 说工资"),
    ("@ld 工资呢", "@ld 工资呢"),
    ("Please run ld and gz", "Please run ld and gz"),
    ("他说 run ld 就行", "他说 run ld 就行"),
    # Emoji are kept, and do not split a word.
    ("工😡资", "工资😡"),
    ("工 😡 资拖👎🏻欠", "工资拖欠😡👎🏻"),
    ("工资没发😡😡", "工资没发😡😡"),
    ("太气人了😡，工资呢", "太气人了😡，工资呢"),
    ("❤️ 👨\u200d👩\u200d👧 工资", "❤️ 👨\u200d👩\u200d👧 工资"),
    ("发\u200d\u200d😡工资", "发工资😡"),  # stray joiners go
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_normalize(norm, text, expected):
    original = str(text)
    assert norm.normalize(text) == expected
    assert text == original


@pytest.mark.parametrize("text", [t for t, _ in CASES])
def test_idempotent(norm, text):
    once = norm.normalize(text)
    assert norm.normalize(once) == once


def test_idempotent_on_noisy_traditional_posts(norm):
    post = "我們單位 拖*欠 工資😡 三個月，ld說 沒錢。Ｇｚ 和 sb 斷繳 都 沒人管！"
    once = norm.normalize(post)
    assert once == "我们单位拖欠工资三个月😡，领导说没钱。工资和社保断缴都没人管！"
    assert norm.normalize(once) == once


def test_idempotent_on_random_mixtures(norm):
    pieces = [*"工资拖欠领导社保遗屬補助養老金撫卹乾縣後打坏沈思衞生交发月", " ", "*", "×", "·", ".",
              "-", "_", "/", "\u200b", "\u200d", "😡", "👍🏻", "❤️", "，", "。", "\n", "ｇｚ", "gz",
              "GZ", "ld", "sb", "dao", "领dao", "gong", "3", ".5", "a", "www.", "http://", "@",
              "x.cn", "Ａ", "　", "⼯", "lingdao", "👨\u200d👩"]  # fmt: skip
    rnd = random.Random(7)
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 25)))
        once = norm.normalize(text)
        assert norm.normalize(once) == once, text


def test_user_words_are_the_targets(table):
    words = user_words(table)
    assert {"工资", "领导", "社保", "不作为", "遗属补助"} <= words
    assert all(w.isascii() is False and len(w) > 1 for w in words)


def test_get_normalizer_is_built_once(table):
    again = load_normalization(TABLE_FILE)
    assert get_normalizer(again) is get_normalizer(table)


def test_a_small_table_works_on_its_own():
    n = Normalizer(NormalizationTable(initialisms={"xz": "薪资"}, traditional="t2s"))
    assert n.normalize("本月xz 未發") == "本月薪资未发"


def test_fast_enough(norm):
    posts = [
        ("我们单位拖欠薪资已经三个月了，领导说没钱，退休职工的养老金也没有按时发放。" * 6)[:200],
        ("我們單位拖欠薪資已經三個月了，領導說沒錢，退休職工的養老金也沒有按時發放。" * 6)[:200],
        ("这个月gz又没发，ld说没钱😡 工 资 拖.欠 三个月，领dao不管。ＡＢＣ http://x.cn/a " * 4)[
            :200
        ],
    ] * 100
    start = time.perf_counter()
    for post in posts:
        norm.normalize(post)
    assert (time.perf_counter() - start) / len(posts) < 1e-3  # typically 20-200 µs


def _break(old: str, new: str, tmp_path: Path) -> Path:
    text = TABLE_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "normalization.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "traditional: hk2s",
            "traditional: s2t",
            ["key `traditional`", "'s2t'", "Fix: use one of 'hk2s' or 't2s'"],
        ),
        (
            "  ld: 领导",
            "  L D: 领导",
            ["key `initialisms`", "lowercase ASCII letters", "fix 'L D'", "Fix: change the value"],
        ),
        ("    to: 工资\n", "", ["key `initialisms.gz.to`", "Fix: add this key"]),
        ("  ld: 领导", "  ld: ld", ["key `initialisms.ld.to`", "must be the Chinese word"]),
        (
            "  领dao: 领导",
            "  领 dao: 领导",
            ["key `replacements`", "'领 dao' needs 2+ characters and no spaces"],
        ),
        ("window: 10", "window: lots", ["key `window`", "Fix: give a value of the right type"]),
        ("initialisms:", "initialism:", ["key `initialism`", "Fix: remove this key"]),
        (
            "  干bu: 干部",
            "  干bu: 领dao部",
            ["key `replacements`", "'干bu' maps to '领dao部', which must be the Chinese word"],
        ),
        (
            "  干bu: 干部",
            "  干bu: 干部\n  工资条: 工资条子",
            [
                "key `(top level)`",
                "must not contain a replacement spelling",
                "工资条子 contains 工资条",
            ],
        ),
        ("window: 10", "window: [", ["YAML syntax error at line", "Fix: correct the YAML"]),
    ],
)
def test_bad_table_names_file_key_and_fix(tmp_path, old, new, expected):
    path = _break(old, new, tmp_path)
    with pytest.raises(ConfigError) as e:
        load_normalization(path)
    message = str(e.value)
    assert message.startswith(f"{path}: invalid configuration")
    for fragment in expected:
        assert fragment in message
