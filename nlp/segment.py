"""jieba segmentation with a user dictionary, loaded once per process.

The store indexes the same segmentation that queries use, so search matches words:
a search for 工资 finds 工资 and never the 资工 in 物资工作.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import jieba

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


class Segmenter:
    """A jieba tokenizer with our own words added, so that 买断工龄 or 遗属补助 stay whole."""

    def __init__(self, user_words: Iterable[str] = ()):
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()
        for word in sorted(set(user_words)):
            if word.strip():
                self._tokenizer.add_word(word.strip(), freq=50_000)

    def cut(self, text: str) -> list[str]:
        """Words of `text`, without whitespace and punctuation-only tokens."""
        return [
            t
            for t in (w.strip() for w in self._tokenizer.cut(text or ""))
            if t and not _PUNCT.match(t)
        ]

    def cut_for_search(self, text: str) -> list[str]:
        """Words plus the dictionary words inside long ones (拖欠工资 → 拖欠, 工资, 拖欠工资)."""
        return [
            t
            for t in (w.strip() for w in self._tokenizer.cut_for_search(text or ""))
            if t and not _PUNCT.match(t)
        ]

    def segmented(self, text: str) -> str:
        """`text` as space-separated lowercase words: what the stores index and query."""
        return " ".join(t.lower() for t in self.cut(_SPACE.sub(" ", text or "")))


@lru_cache(maxsize=4)
def _cached(words: frozenset[str]) -> Segmenter:
    logger.debug("building jieba segmenter with %d user words", len(words))
    return Segmenter(words)


def get_segmenter(user_words: Iterable[str] = ()) -> Segmenter:
    """The process-wide segmenter for this dictionary (built on first use)."""
    return _cached(frozenset(user_words))
