"""Sentiment on real reviews: train on a split of ../shared/data/sentiment/, test on the rest.

    .venv/bin/python bench/sentiment.py [--test-fraction 0.2] [--transformer] [--json]

The review sets (food delivery, hotels; positive/negative only) are development data: they
are read from ../shared/data, never copied into the product, and the models trained here are
thrown away. Each set is split the same seeded way; the linear classifier (and, with
--transformer, the e5-small transformer on a subsample) is trained on the training parts of
both sets and scored per set with `yuqing evaluate`'s metrics, next to the lexicon baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.base import NormalizingClassifier  # noqa: E402
from nlp.factory import build_classifier, train  # noqa: E402
from nlp.labels import LabelledExample, read_labelled  # noqa: E402
from nlp.metrics import evaluate_predictions  # noqa: E402
from yuqing.services import normalizer_for, segmenter_for  # noqa: E402
from yuqing.settings import load_config  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment"
SETS = ("waimai_10k.jsonl", "chnsenticorp_htl.jsonl")


def split(examples: list[LabelledExample], fraction: float, seed: int) -> tuple[list, list]:
    shuffled = examples[:]
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * fraction)
    return shuffled[cut:], shuffled[:cut]


def score(classifier, examples: list[LabelledExample]) -> dict:
    start = time.perf_counter()
    predictions = []
    for i in range(0, len(examples), 64):
        predictions.extend(classifier.classify([e.full_text for e in examples[i : i + 64]]))
    rate = len(examples) / (time.perf_counter() - start)
    report = evaluate_predictions(examples, predictions)["sentiment"]
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "posts_per_s": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--transformer", action="store_true", help="also fine-tune e5-small")
    parser.add_argument("--transformer-train", type=int, default=2000, help="its training size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(
            f"bench/sentiment.py: {DATA} is missing (development data is not in the repo); nothing to do"
        )
        return

    config = load_config(ROOT / "configs", environ={"YUQING_PSEUDONYM_KEY": "bench"})
    normalize = normalizer_for(config).normalize
    train_parts, test_parts = [], {}
    for name in SETS:
        tr, te = split(read_labelled(DATA / name), args.test_fraction, args.seed)
        train_parts += tr
        test_parts[name] = te
    classifiers = {
        "lexicon": build_classifier("lexicon", config.taxonomy, segmenter=segmenter_for(config))
    }
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        normalized = [
            LabelledExample(e.id, normalize(e.text), normalize(e.title), None, None, e.sentiment)
            for e in train_parts
        ]
        train("linear", normalized, config.taxonomy, Path(tmp) / "linear", seed=args.seed)
        classifiers["linear"] = build_classifier("linear", config.taxonomy, Path(tmp) / "linear")
        if args.transformer:
            sample = random.Random(args.seed).sample(
                normalized, min(args.transformer_train, len(normalized))
            )
            train(
                "transformer", sample, config.taxonomy, Path(tmp) / "transformer", seed=args.seed,
                epochs=3, max_length=128, cache_dir=ROOT / "data" / "models" / "cache",
            )  # fmt: skip
            classifiers["transformer"] = build_classifier(
                "transformer", config.taxonomy, Path(tmp) / "transformer"
            )
        for kind, clf in classifiers.items():
            clf = NormalizingClassifier(clf, normalize)
            for name, test in test_parts.items():
                results[f"{kind} / {name}"] = score(clf, test)

    if args.json:
        print(json.dumps({"train": len(train_parts), "results": results}, indent=2))
        return
    print(
        f"trained on {len(train_parts)} reviews; tested on {', '.join(f'{n} ({len(t)})' for n, t in test_parts.items())}"
    )
    print(f"{'classifier / set':40} {'accuracy':>9} {'macro-F1':>9} {'posts/s':>9}")
    for key, r in results.items():
        print(f"{key:40} {r['accuracy']:9.3f} {r['macro_f1']:9.3f} {r['posts_per_s']:9.0f}")


if __name__ == "__main__":
    main()
