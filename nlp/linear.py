"""A TF-IDF + logistic-regression classifier: trains in seconds on a CPU and says which n-grams
made each tag.

Features: TF-IDF over jieba words next to TF-IDF over character 1–3-grams,
so both whole terms (买断工龄) and unsegmented fragments count. Themes: one balanced logistic
regression per theme, each with its own probability threshold (tuned on the validation split),
at most `max_themes`, and the fallback theme only when it stands alone. Sentiment: one
multinomial logistic regression. A theme's cues are the n-grams with the largest
coefficient × tf-idf in the text.

The model is saved with joblib (pickle): load only model directories you trust.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlp.labels import LabelledExample
from nlp.lexicon import taxonomy_words
from nlp.metrics import evaluate_predictions
from nlp.segment import Segmenter, get_segmenter
from nlp.training import (
    LabelMaps,
    as_plain,
    head_states,
    majority_baseline,
    new_card,
    read_card,
    set_seed,
    split_examples,
    write_card,
)
from yuqing.schema import Classification
from yuqing.settings import Taxonomy

logger = logging.getLogger(__name__)

MODEL_FILE = "linear.joblib"
_CUES = 3  # n-grams shown per tag
_WORDLIKE = re.compile(r"^\w+$")


@dataclass
class LinearConfig:
    """How the linear classifier is trained."""

    val_fraction: float = 0.2  # share of examples held out to tune thresholds and report metrics
    C: float = 10.0  # inverse regularisation strength of the logistic regressions
    word_ngrams: tuple[int, int] = (1, 1)
    char_ngrams: tuple[int, int] = (1, 3)
    min_df: int = 1
    max_features: int | None = 200_000  # per vectorizer
    tune_thresholds: bool = True  # per-theme thresholds from the validation split, else 0.5
    refit: bool = True  # after validation, fit the saved model on all examples
    max_iter: int = 2000

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), not {self.val_fraction}")
        if self.C <= 0:
            raise ValueError(f"C must be positive, not {self.C}")
        for name in ("word_ngrams", "char_ngrams"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be (min, max) with 1 <= min <= max")
        if self.min_df < 1 or (self.max_features is not None and self.max_features < 1):
            raise ValueError("min_df and max_features must be at least 1")


class LinearClassifier:
    """Classifier protocol over fitted vectorizers and logistic regressions."""

    name = "linear"

    def __init__(self, parts: dict[str, Any], maps: LabelMaps, segmenter: Segmenter | None = None):
        self.parts = parts
        self.maps = maps
        self.card: dict[str, Any] | None = None  # set by train_linear and load
        self.segmenter = segmenter or get_segmenter(parts["user_words"])
        self._names = np.array(
            [n.replace(" ", "") for n in parts["words"].get_feature_names_out()]
            + list(parts["chars"].get_feature_names_out()),
            dtype=object,
        )

    @classmethod
    def load(cls, model_dir: Path | str, segmenter: Segmenter | None = None) -> LinearClassifier:
        model_dir = Path(model_dir)
        clf = cls(joblib.load(model_dir / MODEL_FILE), LabelMaps.load(model_dir), segmenter)
        clf.card = read_card(model_dir)
        return clf

    def save(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.parts, out_dir / MODEL_FILE, compress=3)
        self.maps.save(out_dir)

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        words = self.parts["words"].transform([self.segmenter.segmented(t) for t in texts])
        chars = self.parts["chars"].transform([" ".join(t.split()) for t in texts])
        return sparse.hstack([words, chars], format="csr")

    def theme_probs(self, x: sparse.csr_matrix) -> np.ndarray:
        columns = []
        for theme in self.maps.themes or []:
            model = self.parts["themes"][theme]
            if isinstance(model, float):  # a theme that was always absent (or always present)
                columns.append(np.full(x.shape[0], model))
            else:
                columns.append(model.predict_proba(x)[:, 1])
        return np.column_stack(columns) if columns else np.zeros((x.shape[0], 0))

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        if not texts:
            return []
        x = self.features(texts)
        probs = self.theme_probs(x)
        sentiment = self.parts["sentiment"]
        s_probs = sentiment.predict_proba(x) if sentiment is not None else None
        results = []
        for row in range(len(texts)):
            themes = self.maps.decide_themes(probs[row]) if self.maps.themes else []
            cues = {t: self._cues(x[row], self.parts["themes"][t]) for t in themes}
            label, score = None, None
            if s_probs is not None:
                p = dict(zip(sentiment.classes_, s_probs[row], strict=True))
                label = str(sentiment.classes_[int(np.argmax(s_probs[row]))])
                score = round(float(p.get("positive", 0.0) - p.get("negative", 0.0)), 4)
                cues["sentiment"] = self._cues(x[row], sentiment, label)
            results.append(
                Classification(
                    themes=themes,
                    sentiment=label,
                    sentiment_score=score,
                    cues=cues,
                    classifier=self.name,
                )
            )
        return results

    def _cues(self, x_row: sparse.csr_matrix, model: Any, label: str | None = None) -> list[str]:
        """The n-grams that pushed hardest toward `label` (or a theme's positive class)."""
        if isinstance(model, float):
            return []
        coef = model.coef_[0]
        if label is not None:
            k = list(model.classes_).index(label)
            coef = model.coef_[k] if model.coef_.shape[0] > 1 else coef * (1 if k else -1)
        contributions = x_row.data * coef[x_row.indices]
        cues: list[str] = []
        for i in np.argsort(-contributions):
            name = str(self._names[x_row.indices[i]])
            if contributions[i] <= 0 or len(cues) == _CUES:
                break
            # 工资 says it all: skip 资 and 工资的 after it, and fragments across punctuation.
            if _WORDLIKE.match(name) and not any(name in c or c in name for c in cues):
                cues.append(name)
        return cues


def _fit(
    examples: Sequence[LabelledExample],
    maps: LabelMaps,
    segmenter: Segmenter,
    user_words: list[str],
    config: LinearConfig,
    seed: int,
) -> LinearClassifier:
    texts = [e.full_text for e in examples]
    words = TfidfVectorizer(
        token_pattern=r"\S+",
        lowercase=False,
        ngram_range=config.word_ngrams,
        min_df=config.min_df,
        max_features=config.max_features,
        sublinear_tf=True,
    )
    chars = TfidfVectorizer(
        analyzer="char",
        ngram_range=config.char_ngrams,
        min_df=config.min_df,
        max_features=config.max_features,
        sublinear_tf=True,
    )
    words.fit([segmenter.segmented(t) for t in texts])
    chars.fit([" ".join(t.split()) for t in texts])
    parts: dict[str, Any] = {"words": words, "chars": chars, "user_words": user_words}
    parts.update(themes={}, sentiment=None)
    clf = LinearClassifier(parts, maps, segmenter)

    def logistic() -> LogisticRegression:
        return LogisticRegression(
            C=config.C, class_weight="balanced", max_iter=config.max_iter, random_state=seed
        )

    themed = [i for i, e in enumerate(examples) if e.themes]
    if maps.themes and themed:
        x = clf.features([texts[i] for i in themed])
        y = maps.theme_matrix([examples[i] for i in themed])
        for j, theme in enumerate(maps.themes):
            if 0 < y[:, j].sum() < len(themed):
                parts["themes"][theme] = logistic().fit(x, y[:, j])
            else:
                parts["themes"][theme] = float(y[0, j])
    rated = [i for i, e in enumerate(examples) if e.sentiment]
    if maps.sentiments and rated:
        x = clf.features([texts[i] for i in rated])
        parts["sentiment"] = logistic().fit(x, [examples[i].sentiment for i in rated])
    return clf


def train_linear(
    examples: Sequence[LabelledExample],
    taxonomy: Taxonomy,
    out_dir: Path | str,
    seed: int = 0,
    config: LinearConfig | None = None,
    data: str | None = None,
) -> LinearClassifier:
    """Train, validate, save to `out_dir` and return the classifier (its card in `.card`).

    args → seed → data → labels → model → preprocess → train → evaluate → save.
    """
    config = config or LinearConfig()
    out_dir = Path(out_dir)
    set_seed(seed)
    train, val = split_examples(examples, config.val_fraction, seed)
    maps = LabelMaps.from_examples(examples, taxonomy)
    user_words = sorted(taxonomy_words(taxonomy))
    segmenter = get_segmenter(user_words)
    logger.info("training linear classifier on %d examples (%d held out)", len(train), len(val))

    clf = _fit(train, maps, segmenter, user_words, config, seed)
    metrics: dict[str, Any] | None = None
    if val:
        if config.tune_thresholds and any(e.themes for e in val) and maps.themes:
            themed = [e for e in val if e.themes]
            probs = clf.theme_probs(clf.features([e.full_text for e in themed]))
            maps.tune_thresholds(probs, maps.theme_matrix(themed))
        metrics = evaluate_predictions(val, clf.classify([e.full_text for e in val]))
    if config.refit and val:
        clf = _fit(examples, maps, segmenter, user_words, config, seed)

    card = new_card("linear", data, examples, seed)
    card.update(
        split={"train": len(train), "validation": len(val), "refit_on_all": config.refit},
        heads=head_states(maps),
        metrics=metrics,
        baseline=majority_baseline(train, val) if val else None,
        metrics_note=(
            "validation split, scored by the model fitted on the training split; theme thresholds "
            "are tuned on the same split (themes with 5+ positives there), so the figures lean "
            "optimistic"
        ),
        thresholds=maps.thresholds,
        config=as_plain(config),
    )
    clf.save(out_dir)
    write_card(out_dir, card)
    clf.card = card
    logger.info("saved linear classifier to %s; validation metrics %s", out_dir, metrics)
    return clf
