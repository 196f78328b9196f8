"""jieba segmentation with a user dictionary, loaded once per process.

The store indexes the same segmentation that queries use, so search matches words:
a search for 工资 finds 工资 and never the 资工 in 物资工作.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
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

    def cut(self, text: str, hmm: bool = True) -> list[str]:
        """Words of `text`, without whitespace and punctuation-only tokens. `hmm=False` skips
        jieba's HMM, which joins runs of characters the dictionary does not know into new
        words (names, slang): about 1.7× faster, for callers that only look for dictionary
        words (the lexicon, whose every cue is in the user dictionary)."""
        return _words(self._tokenizer.cut(text or "", HMM=hmm))

    def cut_pieces(self, text: str, separators: str, hmm: bool = True) -> list[list[str]]:
        """The words of each piece of `text` between runs of `separators` (pieces with no words
        left out), from one jieba pass over the whole text. jieba cuts at every character that
        is not Han, a letter, a digit or one of +#&._%-, so for such separators this equals
        cutting each piece on its own, without a jieba call per piece. `hmm` as in `cut`."""
        if any(jieba.re_han_default.match(c) for c in separators):
            raise ValueError(f"separators must be characters jieba cuts at, not {separators!r}")
        stops = set(separators)
        pieces: list[list[str]] = []
        words: list[str] = []
        punct = _PUNCT.match
        for token in self._tokenizer.cut(text or "", HMM=hmm):
            if token in stops or (token == "\r\n" and "\n" in stops):  # jieba yields them alone
                if words:
                    pieces.append(words)
                words = []
            elif (word := token.strip()) and not punct(word):
                words.append(word)
        if words:
            pieces.append(words)
        return pieces

    def cut_for_search(self, text: str) -> list[str]:
        """Words plus the dictionary words inside long ones (拖欠工资 → 拖欠, 工资, 拖欠工资)."""
        return _words(self._tokenizer.cut_for_search(text or ""))

    def segmented(self, text: str) -> str:
        """`text` as space-separated lowercase words: what the stores index and query."""
        return " ".join(t.lower() for t in self.cut(_SPACE.sub(" ", text or "")))

    def segmented_and_search(self, text: str) -> tuple[str, list[str]]:
        """`segmented(text)` and `cut_for_search` of its lowercase spaced text, from one jieba
        pass when lowercasing changes nothing (most Chinese text), else from two."""
        spaced = _SPACE.sub(" ", text or "")
        lower = spaced.lower()
        if lower != spaced:
            return self.segmented(text), self.cut_for_search(lower)
        raw = list(self._tokenizer.cut(spaced))
        return " ".join(_words(raw)), _words(self._search_words(raw))

    def _search_words(self, words: list[str]) -> Iterator[str]:
        """jieba's `cut_for_search` on words `cut` already found: the dictionary's 2- and
        3-character words inside each long word, then the word."""
        freq = self._tokenizer.FREQ
        for w in words:
            if len(w) > 2:
                yield from (w[i : i + 2] for i in range(len(w) - 1) if freq.get(w[i : i + 2]))
            if len(w) > 3:
                yield from (w[i : i + 3] for i in range(len(w) - 2) if freq.get(w[i : i + 3]))
            yield w


def _words(tokens: Iterable[str]) -> list[str]:
    """The tokens without whitespace and punctuation-only ones."""
    return [t for t in (w.strip() for w in tokens) if t and not _PUNCT.match(t)]


@lru_cache(maxsize=4)
def _cached(words: frozenset[str]) -> Segmenter:
    logger.debug("building jieba segmenter with %d user words", len(words))
    return Segmenter(words)


def get_segmenter(user_words: Iterable[str] = ()) -> Segmenter:
    """The process-wide segmenter for this dictionary (built on first use)."""
    return _cached(frozenset(user_words))
