"""An explainable lexicon classifier, the default that works with no training.

Themes: the weights of a theme's keywords found in the text are added up; a theme whose
sum reaches `theme_threshold` is tagged, strongest first, at most `max_themes`.
Sentiment: sentiment words are scored over jieba tokens, flipped by a negation just before
them, scaled by a degree word (非常, 太 …), and the clause after a contrast (但是, 可是 …)
counts more than the one before it. Every tag carries the cues that caused it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from nlp.segment import Segmenter, get_segmenter
from yuqing.schema import Classification
from yuqing.settings import Taxonomy

CONTRAST = ("但是", "可是", "但", "却", "然而", "不过")
_WINDOW = 3  # tokens before a sentiment word in which a negation or degree word applies


def taxonomy_words(taxonomy: Taxonomy) -> set[str]:
    """Every cue word in the taxonomy: the jieba user dictionary keeps them whole."""
    words: set[str] = set()
    for theme in taxonomy.themes:
        words.update(theme.keywords)
    lex = taxonomy.sentiment
    words.update(lex.negative, lex.positive, lex.negations, lex.degree)
    return {w for w in words if len(w) > 1}


class LexiconClassifier:
    name = "lexicon"

    def __init__(self, taxonomy: Taxonomy, segmenter: Segmenter | None = None):
        self.taxonomy = taxonomy
        self.segmenter = segmenter or get_segmenter(taxonomy_words(taxonomy))
        lex = taxonomy.sentiment
        self._polarity = {w: -s for w, s in lex.negative.items()}
        self._polarity.update(lex.positive)
        self._negations = set(lex.negations)
        self._degree = dict(lex.degree)

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> Classification:
        themes, cues = self._themes(text)
        score, sentiment_cues = self._sentiment(self.segmenter.cut(text))
        threshold = self.taxonomy.sentiment.threshold
        if score <= -threshold:
            sentiment = "negative"
        elif score >= threshold:
            sentiment = "positive"
        else:
            sentiment = "neutral"
        if sentiment_cues:
            cues["sentiment"] = sentiment_cues
        return Classification(
            themes=themes,
            sentiment=sentiment,
            sentiment_score=round(math.tanh(score / 3), 4),
            cues=cues,
            classifier=self.name,
        )

    def _themes(self, text: str) -> tuple[list[str], dict[str, list[str]]]:
        scored: list[tuple[float, str, list[str]]] = []
        for theme in self.taxonomy.themes:
            found = [k for k in theme.keywords if k in text]
            total = sum(theme.keywords[k] for k in found)
            if total >= self.taxonomy.theme_threshold:
                found.sort(key=lambda k: (-theme.keywords[k], k))
                scored.append((total, theme.id, found))
        scored.sort(key=lambda s: (-s[0], s[1]))
        kept = scored[: self.taxonomy.max_themes]
        if not kept:
            return [self.taxonomy.fallback], {}
        return [t for _, t, _ in kept], {t: found for _, t, found in kept}

    def _sentiment(self, tokens: list[str]) -> tuple[float, list[str]]:
        score = 0.0
        cues: list[str] = []
        clause_weight = 1.0
        for i, token in enumerate(tokens):
            if token in CONTRAST:
                # What came before a contrast matters less than what follows it.
                score *= 0.5
                clause_weight = 1.5
                continue
            polarity = self._polarity.get(token)
            if polarity is None:
                continue
            window = tokens[max(0, i - _WINDOW) : i]
            negated = _odd(t in self._negations for t in window)
            degree = math.prod(self._degree.get(t, 1.0) for t in window)
            value = polarity * degree * clause_weight * (-0.8 if negated else 1.0)
            score += value
            cues.append(("不" if negated else "") + token + f"({value:+.1f})")
        return score, cues


def _odd(flags: Iterable[bool]) -> bool:
    return sum(flags) % 2 == 1
