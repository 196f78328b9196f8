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
