"""The store's one-pass segmentation gives exactly what two jieba passes give."""

from __future__ import annotations

from index.base import fine_words, index_and_fine_words, index_words
from yuqing import demosite

MIXED = (
    "ABC公司拖欠工资三个月，GZ 也不发",  # uppercase: lowercasing changes the text
    "买断工龄的老职工找退管中心，遗属补助什么时候到账？",
    "  多余的   空格\n和换行\t都在  ",
    "T恤 X光 iPhone 4G网络 ３个月 ＡＢＣ",
    "",
)


def test_one_pass_equals_index_words_and_fine_words(segmenter):
    texts = [f"{p.title}\n{p.text}" for p in demosite.generate(7).posts] + list(MIXED)
    split = 0
    for text in texts:
        seg, fine = index_and_fine_words(text, segmenter)
        assert (seg, fine) == (index_words(text, segmenter), fine_words(text, segmenter)), text
        split += len(fine.split()) > len(seg.split())
    assert split > len(texts) // 2  # most texts have long words split for search: not trivial


def test_cut_pieces_equals_cutting_each_piece_on_its_own(segmenter):
    import re

    import pytest

    from nlp.lexicon import CLAUSE_MARKS

    split = re.compile(f"[{CLAUSE_MARKS}]+")
    texts = [f"{p.title}\n{p.text}" for p in demosite.generate(7).posts] + list(MIXED)
    texts += ["行吧，聊胜于无～～工资呢？！\r\n下个月…再说", "，。！", "一句话没有标点"]
    pieces = 0
    for text in texts:
        expected = [w for w in (segmenter.cut(p) for p in split.split(text)) if w]
        assert segmenter.cut_pieces(text, CLAUSE_MARKS) == expected, text
        pieces += len(expected) > 1
        plain = [w for w in (segmenter.cut(p, hmm=False) for p in split.split(text)) if w]
        assert segmenter.cut_pieces(text, CLAUSE_MARKS, hmm=False) == plain, text
    assert pieces > len(texts) // 2  # most texts have several clauses: not trivial
    with pytest.raises(ValueError, match="separators"):
        segmenter.cut_pieces("工资.没发", ".")  # jieba keeps '.' inside words (3.5万)


def test_without_the_hmm_only_dictionary_words_are_joined(segmenter):
    """jieba's HMM joins unknown runs into new words (人来); without it they stay single
    characters, and the dictionary's words (cues included) are cut as before."""
    text = "车间主任说派人来换好设备，拖欠工资的事没人管"
    assert "人来" in segmenter.cut(text)
    plain = segmenter.cut(text, hmm=False)
    assert "人来" not in plain and {"派", "人", "来"} <= set(plain)
    assert {"车间主任", "设备", "拖欠工资", "没人管"} <= set(plain)
