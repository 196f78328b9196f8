"""Quality of predictions against labelled examples, in `yuqing evaluate`'s exact JSON shape.

    {"n": …, "themes": {"micro_f1": …, "macro_f1": …, "per_label": {…}},
     "sentiment": {"accuracy": …, "macro_f1": …, "per_label": {…}}}

A key is left out when the file has no labels of that kind. Macro-F1 is taken over the labels
present in the file (its gold labels). Per-label entries hold precision, recall, f1, support.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nlp.labels import LabelledExample
from yuqing.schema import Classification


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _per_label(
    pairs: list[tuple[set[str], set[str]]], labels: list[str]
) -> tuple[dict[str, Any], int, int, int]:
    per_label: dict[str, Any] = {}
    all_tp = all_fp = all_fn = 0
    for label in labels:
        tp = sum(1 for gold, pred in pairs if label in gold and label in pred)
        fp = sum(1 for gold, pred in pairs if label not in gold and label in pred)
        fn = sum(1 for gold, pred in pairs if label in gold and label not in pred)
        per_label[label] = {**_prf(tp, fp, fn), "support": tp + fn}
        all_tp, all_fp, all_fn = all_tp + tp, all_fp + fp, all_fn + fn
    return per_label, all_tp, all_fp, all_fn


def evaluate_predictions(
    examples: Sequence[LabelledExample], predictions: Sequence[Classification]
) -> dict[str, Any]:
    if len(examples) != len(predictions):
        raise ValueError(f"{len(examples)} examples but {len(predictions)} predictions")
    report: dict[str, Any] = {"n": len(examples)}

    theme_pairs = [
        (set(e.themes), set(p.themes))
        for e, p in zip(examples, predictions, strict=True)
        if e.themes
    ]
    if theme_pairs:
        labels = sorted({t for gold, _ in theme_pairs for t in gold})
        per_label, tp, fp, fn = _per_label(theme_pairs, labels)
        # Micro-F1 counts every decision, including predicted labels absent from the file.
        extra_fp = sum(len(pred - set(labels)) for _, pred in theme_pairs)
        report["themes"] = {
            "micro_f1": _prf(tp, fp + extra_fp, fn)["f1"],
            "macro_f1": round(sum(v["f1"] for v in per_label.values()) / len(labels), 4),
            "per_label": per_label,
        }

    sentiment_pairs = [
        (e.sentiment, p.sentiment)
        for e, p in zip(examples, predictions, strict=True)
        if e.sentiment
    ]
    if sentiment_pairs:
        labels = sorted({gold for gold, _ in sentiment_pairs})
        per_label, _, _, _ = _per_label([({g}, {p}) for g, p in sentiment_pairs], labels)
        report["sentiment"] = {
            "accuracy": round(sum(g == p for g, p in sentiment_pairs) / len(sentiment_pairs), 4),
            "macro_f1": round(sum(v["f1"] for v in per_label.values()) / len(labels), 4),
            "per_label": per_label,
        }
    return report
