"""What the linear and transformer trainers share: seeding, the split, class weights, label maps,
the theme decision rule and the model card.

A trained model directory holds `labels.json` (label maps, per-theme thresholds, the sentiment
biases, which heads were trained) and `model_card.json` + `MODEL_CARD.md` (kind, data, metrics,
seed, versions).
"""

from __future__ import annotations

import itertools
import json
import logging
import platform
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from nlp.labels import LabelledExample
from yuqing.schema import SENTIMENTS
from yuqing.settings import Taxonomy

logger = logging.getLogger(__name__)

LABELS_FILE = "labels.json"
CARD_FILE = "model_card.json"
CARD_MD = "MODEL_CARD.md"
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(2, 19))  # 0.10 … 0.90
BIAS_GRID = tuple(round(0.25 * i, 2) for i in range(-12, 13))  # -3.0 … 3.0, in log probability


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and (if it is imported) torch, so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # the linear trainer does not need torch
        return
    torch.manual_seed(seed)


@dataclass
class LabelMaps:
    """Label ids of each head, in output order; a head with no training labels is None."""

    themes: list[str] | None
    sentiments: list[str] | None
    fallback: str = "other"
    max_themes: int = 3
    thresholds: dict[str, float] = field(default_factory=dict)
    # Added to each sentiment's log probability before the argmax (missing: 0).
    sentiment_bias: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_examples(cls, examples: Sequence[LabelledExample], taxonomy: Taxonomy) -> LabelMaps:
        theme_set = {t for e in examples for t in e.themes or ()}
        sentiment_set = {e.sentiment for e in examples if e.sentiment}
        for kind, found in (("theme", theme_set), ("sentiment", sentiment_set)):
            if len(found) == 1:
                raise ValueError(
                    f"every {kind} label in the data is {found.pop()!r}: a classifier needs "
                    f"at least two {kind} labels to learn from (or none, to skip that head)"
                )
        has_themes, has_sentiment = bool(theme_set), bool(sentiment_set)
        themes = list(taxonomy.theme_ids) if has_themes else None
        return cls(
            themes=themes,
            sentiments=list(SENTIMENTS) if has_sentiment else None,
            fallback=taxonomy.fallback,
            max_themes=taxonomy.max_themes,
            thresholds={t: 0.5 for t in themes or []},
        )

    def theme_matrix(self, examples: Sequence[LabelledExample]) -> np.ndarray:
        """0/1 targets, one row per example (all zeros where an example has no themes)."""
        index = {t: i for i, t in enumerate(self.themes or [])}
        y = np.zeros((len(examples), len(index)), dtype=np.float32)
        for row, example in enumerate(examples):
            for theme in example.themes or ():
                y[row, index[theme]] = 1.0
        return y

    def to_json(self) -> dict[str, Any]:
        def maps(labels: list[str] | None) -> dict[str, Any] | None:
            if labels is None:
                return None
            return {
                "id2label": {str(i): x for i, x in enumerate(labels)},
                "label2id": {x: i for i, x in enumerate(labels)},
            }

        return {
            "themes": maps(self.themes),
            "sentiment": maps(self.sentiments),
            "theme_thresholds": self.thresholds,
            "sentiment_bias": self.sentiment_bias,
            "fallback": self.fallback,
            "max_themes": self.max_themes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabelMaps:
        def labels(maps: dict[str, Any] | None) -> list[str] | None:
            if maps is None:
                return None
            id2label = maps["id2label"]
            return [id2label[str(i)] for i in range(len(id2label))]

        return cls(
            themes=labels(data["themes"]),
            sentiments=labels(data["sentiment"]),
            fallback=data["fallback"],
            max_themes=data["max_themes"],
            thresholds={k: float(v) for k, v in data["theme_thresholds"].items()},
            sentiment_bias={k: float(v) for k, v in data.get("sentiment_bias", {}).items()},
        )

    def save(self, out_dir: Path) -> None:
        write_json(out_dir / LABELS_FILE, self.to_json())

    @classmethod
    def load(cls, model_dir: Path) -> LabelMaps:
        return cls.from_json(json.loads((model_dir / LABELS_FILE).read_text(encoding="utf-8")))

    def decide_themes(self, probs: Sequence[float]) -> list[str]:
        """Themes whose probability passes its threshold, most probable first, at most
        `max_themes`; `fallback` only when it stands alone; the argmax when nothing passes."""
        themes = self.themes or []
        order = sorted(range(len(themes)), key=lambda i: -probs[i])
        kept = [themes[i] for i in order if probs[i] >= self.thresholds.get(themes[i], 0.5)]
        grievances = [t for t in kept if t != self.fallback]
        kept = grievances or kept
        return kept[: self.max_themes] or [themes[order[0]]]

    def tune_thresholds(self, probs: np.ndarray, y: np.ndarray, min_positives: int = 5) -> None:
        """Per theme, the threshold with the best validation F1, nearest 0.5 on ties; a theme
        with fewer than `min_positives` validation positives keeps 0.5 (too few to tune on)."""
        for j, theme in enumerate(self.themes or []):
            if y[:, j].sum() < min_positives:
                continue
            scores = [
                (_f1(probs[:, j] >= t, y[:, j] > 0), -abs(t - 0.5), t) for t in THRESHOLD_GRID
            ]
            self.thresholds[theme] = max(scores)[2]

    def decide_sentiment(self, probs: Sequence[float]) -> str:
        """The sentiment with the highest log probability plus its bias."""
        labels = self.sentiments or []
        scores = [
            np.log(max(p, 1e-9)) + self.sentiment_bias.get(s, 0.0)
            for s, p in zip(labels, probs, strict=True)
        ]
        return labels[int(np.argmax(scores))]

    def tune_sentiment_bias(
        self, probs: np.ndarray, gold: Sequence[str], min_per_class: int = 5
    ) -> None:
        """Biases on the sentiments' log probabilities (the first sentiment's fixed at 0) with
        the best validation macro-F1, the smallest on ties: a fine-tuned head leans toward the
        classes it saw most and was surest of, and the validation split says by how much. Left
        at 0 when a sentiment has fewer than `min_per_class` validation examples."""
        labels = self.sentiments or []
        y = np.array([labels.index(g) for g in gold])
        if len(labels) < 2 or np.bincount(y, minlength=len(labels)).min() < min_per_class:
            return
        logp = np.log(np.clip(probs, 1e-9, None))
        best: tuple[tuple[float, float], np.ndarray] | None = None
        for offsets in itertools.product(BIAS_GRID, repeat=len(labels) - 1):
            bias = np.array((0.0, *offsets))
            pred = np.argmax(logp + bias, axis=1)
            score = float(np.mean([_f1(pred == c, y == c) for c in range(len(labels))]))
            key = (round(score, 6), -float(np.abs(bias).sum()))
            if best is None or key > best[0]:
                best = (key, bias)
        assert best is not None
        self.sentiment_bias = {s: float(b) for s, b in zip(labels, best[1], strict=True)}


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float(np.sum(pred & gold))
    denominator = float(np.sum(pred) + np.sum(gold))
    return 2 * tp / denominator if denominator else 0.0


def split_examples(
    examples: Sequence[LabelledExample], val_fraction: float, seed: int
) -> tuple[list[LabelledExample], list[LabelledExample]]:
    """A seeded train/validation split, stratified by (rarest theme, sentiment): every group
    gives about `val_fraction` of its examples, so rare labels reach both sides."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), not {val_fraction}")
    theme_counts = Counter(t for e in examples for t in e.themes or ())
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        rarest = min(e.themes, key=lambda t: (theme_counts[t], t)) if e.themes else ""
        groups[(rarest, e.sentiment or "")].append(i)
    rng = random.Random(seed)
    val: list[int] = []
    carry = 0.0
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        carry += len(members) * val_fraction
        take = min(int(carry + 1e-9), len(members) - 1)  # a group's last example trains
        carry -= take
        val.extend(members[:take])
    chosen = set(val)
    train = [e for i, e in enumerate(examples) if i not in chosen]
    if not train:
        raise ValueError("the split left no training examples: lower val_fraction")
    return train, [examples[i] for i in sorted(chosen)]


def theme_pos_weight(y: np.ndarray, mask: np.ndarray, cap: float = 20.0) -> np.ndarray:
    """BCE pos_weight per theme: negatives / positives among labelled rows, capped."""
    rows = y[mask]
    positives = rows.sum(axis=0)
    negatives = len(rows) - positives
    return np.clip(negatives / np.maximum(positives, 1.0), 1.0 / cap, cap).astype(np.float32)


def sentiment_weights(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """'Balanced' class weights, n / (k · count); 1.0 for a class absent from the data."""
    counts = Counter(labels)
    present = [c for c in classes if counts[c]]
    n = sum(counts[c] for c in present)
    return np.array(
        [n / (len(present) * counts[c]) if counts[c] else 1.0 for c in classes], dtype=np.float32
    )


def label_counts(examples: Sequence[LabelledExample]) -> dict[str, Any]:
    themes = Counter(t for e in examples for t in e.themes or ())
    sentiments = Counter(e.sentiment for e in examples if e.sentiment)
    return {
        "examples": len(examples),
        "with_themes": sum(1 for e in examples if e.themes),
        "with_sentiment": sum(1 for e in examples if e.sentiment),
        "themes": dict(sorted(themes.items())),
        "sentiment": dict(sorted(sentiments.items())),
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("yuqing", "numpy", "scikit-learn", "torch", "transformers", "tokenizers"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def new_card(kind: str, data: str | None, examples: Sequence[LabelledExample], seed: int) -> dict:
    """The model card fields every trainer fills in; trainers add metrics and their config."""
    return {
        "kind": kind,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "data": {"file": data, **label_counts(examples)},
        "versions": versions(),
    }


def write_card(out_dir: Path, card: dict[str, Any]) -> None:
    """model_card.json, and MODEL_CARD.md for people: the same facts in words and tables."""
    write_json(out_dir / CARD_FILE, card)
    data, split = card["data"], card.get("split", {})
    lines = [
        f"# Yuqing {card['kind']} classifier",
        "",
        f"Trained {card['trained_at']} with seed {card['seed']}"
        + (f" from `{card['base']}`." if card.get("base") else "."),
        "",
        "## Data",
        f"- file: {data['file'] or '(not recorded)'}",
        f"- examples: {data['examples']} ({data['with_themes']} with themes, "
        f"{data['with_sentiment']} with sentiment)",
        f"- split: {split.get('train')} training, {split.get('validation')} validation",
        f"- theme counts: {data['themes']}",
        f"- sentiment counts: {data['sentiment']}",
        "",
        "## Heads",
        *(f"- {head}: {state}" for head, state in card.get("heads", {}).items()),
        "",
        "## Validation metrics",
        "",
        *_metric_lines(card.get("metrics"), card.get("baseline")),
        *([f"_{card['metrics_note']}._", ""] if card.get("metrics_note") else []),
        "## Configuration",
        "```json",
        json.dumps(card.get("config"), indent=2, ensure_ascii=False),
        "```",
        "",
        "## Versions",
        *(f"- {k}: {v}" for k, v in card["versions"].items()),
    ]
    (out_dir / CARD_MD).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _metric_lines(metrics: dict[str, Any] | None, baseline: dict[str, Any] | None) -> list[str]:
    if not metrics:
        return ["No validation split: no metrics.", ""]
    lines = []
    for head in ("themes", "sentiment"):
        if head not in metrics:
            continue
        floor = (baseline or {}).get(head, {}).get("macro_f1")
        lines.append(
            f"**{head}**: macro-F1 {metrics[head]['macro_f1']}"
            + (f" (majority baseline {floor})" if floor is not None else "")
        )
        lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, m in metrics[head]["per_label"].items():
            lines.append(
                f"| {label} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |"
            )
        lines.append("")
    return lines


def read_card(model_dir: Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / CARD_FILE).read_text(encoding="utf-8"))


def head_states(maps: LabelMaps) -> dict[str, str]:
    def state(labels: list[str] | None, kind: str) -> str:
        return "trained" if labels else f"not trained: the data has no {kind} labels"

    return {"themes": state(maps.themes, "theme"), "sentiment": state(maps.sentiments, "sentiment")}


def summary_score(report: dict[str, Any]) -> float:
    """Early-stopping score: the mean macro-F1 of the heads that the report covers."""
    scores = [report[k]["macro_f1"] for k in ("themes", "sentiment") if k in report]
    return sum(scores) / len(scores) if scores else 0.0


def as_plain(config: Any) -> dict[str, Any]:
    """A dataclass config as JSON-ready values (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}


def majority_baseline(
    train: Sequence[LabelledExample], val: Sequence[LabelledExample]
) -> dict[str, Any]:
    """Validation metrics of always answering the commonest training theme and sentiment: the
    floor a trained model has to beat."""
    from nlp.metrics import evaluate_predictions
    from yuqing.schema import Classification

    themes = Counter(t for e in train for t in e.themes or ())
    sentiments = Counter(e.sentiment for e in train if e.sentiment)
    guess = Classification(
        themes=[themes.most_common(1)[0][0]] if themes else [],
        sentiment=sentiments.most_common(1)[0][0] if sentiments else None,
        classifier="majority",
    )
    return evaluate_predictions(val, [guess] * len(val))
