"""Pick a classifier by name, and train the kinds that learn from labelled data.

    lexicon      keyword weights from the taxonomy; no training, no model directory
    linear       TF-IDF + logistic regression (`nlp.linear`), trains in seconds on a CPU
    transformer  a fine-tuned encoder with two heads (`nlp.transformer`), needs torch

A trained model directory says what it holds in `model_card.json` (`kind`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from nlp.base import Classifier
from nlp.labels import LabelledExample
from nlp.segment import Segmenter
from nlp.training import CARD_FILE, LABELS_FILE, read_card
from yuqing.settings import Taxonomy

logger = logging.getLogger(__name__)

KINDS = ("lexicon", "linear", "transformer")
TRAINED_KINDS = ("linear", "transformer")
_FILES = {
    "linear": (CARD_FILE, LABELS_FILE, "linear.joblib"),
    "transformer": (CARD_FILE, LABELS_FILE, "heads.pt", "encoder/config.json"),
}


def _check_kind(kind: str, allowed: Sequence[str]) -> None:
    if kind not in allowed:
        raise ValueError(f"unknown classifier kind {kind!r}: use one of {', '.join(allowed)}")


def detect_kind(model_dir: Path | str) -> str:
    """The kind of classifier a trained model directory holds, from its model card."""
    model_dir = Path(model_dir)
    if not (model_dir / CARD_FILE).is_file():
        raise ValueError(
            f"{model_dir} has no {CARD_FILE}: it is not a trained Yuqing model; "
            "train one first (`nlp.factory.train`) and pass the directory it saved to"
        )
    try:
        kind = read_card(model_dir).get("kind")
    except (json.JSONDecodeError, AttributeError) as e:
        raise ValueError(f"{model_dir / CARD_FILE} is not a valid model card: retrain") from e
    if kind not in TRAINED_KINDS:
        raise ValueError(f"{model_dir / CARD_FILE} names kind {kind!r}, not one of {TRAINED_KINDS}")
    return kind


def _check_model_dir(kind: str, model_dir: Path | str | None) -> Path:
    if model_dir is None:
        raise ValueError(
            f"the {kind} classifier needs a trained model: train one (kind {kind!r}) and pass "
            "its directory as model_dir, or use the 'lexicon' classifier, which needs none"
        )
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ValueError(f"model directory {model_dir} does not exist: train a {kind} model there")
    found = detect_kind(model_dir)
    if found != kind:
        raise ValueError(
            f"{model_dir} holds a {found} model, not a {kind} one: "
            f"ask for the {found!r} classifier, or pass a {kind} model directory"
        )
    missing = [f for f in _FILES[kind] if not (model_dir / f).is_file()]
    if missing:
        raise ValueError(
            f"{model_dir} lacks {', '.join(missing)}: the {kind} model is incomplete; retrain it"
        )
    return model_dir


def build_classifier(
    kind: str,
    taxonomy: Taxonomy,
    model_dir: Path | str | None = None,
    segmenter: Segmenter | None = None,
    **options: Any,
) -> Classifier:
    """The classifier of this kind; `options` go to `TransformerClassifier.load`
    (threads, precision, batch_size)."""
    _check_kind(kind, KINDS)
    if kind == "lexicon":
        from nlp.lexicon import LexiconClassifier

        return LexiconClassifier(taxonomy, segmenter)
    model_dir = _check_model_dir(kind, model_dir)
    if kind == "linear":
        from nlp.linear import LinearClassifier

        clf: Any = LinearClassifier.load(model_dir)
    else:
        from nlp.transformer import TransformerClassifier

        clf = TransformerClassifier.load(model_dir, **options)
    trained = set(clf.maps.themes or [])
    if trained and trained != set(taxonomy.theme_ids):
        logger.warning(
            "model %s was trained on themes %s, the taxonomy has %s: retrain to tag the new ones",
            model_dir,
            sorted(trained),
            sorted(taxonomy.theme_ids),
        )
    return clf


def _config(cls: type, **values: Any) -> Any:
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    if unknown:
        known = ", ".join(f.name for f in fields(cls))
        raise ValueError(f"unknown {cls.__name__} option(s) {unknown}; known: {known}")
    return cls(**values)


def train(
    kind: str,
    examples: Sequence[LabelledExample],
    taxonomy: Taxonomy,
    out_dir: Path | str,
    base: str | None = None,
    seed: int = 0,
    **options: Any,
) -> tuple[Classifier, dict[str, Any] | None]:
    """Train a `linear` or `transformer` classifier into `out_dir`; return it and its
    validation metrics. `options`: `data` (the labelled file, for the model card), and the
    fields of `LinearConfig` or `TrainConfig`."""
    _check_kind(kind, TRAINED_KINDS)
    data = options.pop("data", None)
    if kind == "linear":
        from nlp.linear import LinearConfig, train_linear

        if base is not None:
            raise ValueError("`base` is for the transformer; the linear classifier has none")
        clf = train_linear(
            examples, taxonomy, out_dir, seed, _config(LinearConfig, **options), data=data
        )
        return clf, clf.card["metrics"] if clf.card else None
    from nlp.transformer_train import TrainConfig, train_transformer

    config = _config(TrainConfig, out_dir=Path(out_dir), base=base, seed=seed, **options)
    clf, metrics = train_transformer(examples, taxonomy, config, data=data)
    return clf, metrics["validation"]
