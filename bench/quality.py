"""Quality and speed of classifiers on labelled posts: the shared dev set and the seed corpus.

    .venv/bin/python bench/quality.py                                  # the lexicon
    .venv/bin/python bench/quality.py --classifier lexicon --classifier linear --model DIR
    .venv/bin/python bench/quality.py --data mine=path/to/labelled.jsonl --json

Each (dataset, classifier) pair is scored with `nlp.metrics.evaluate_predictions`, the same
report `yuqing evaluate` prints, and timed as the pipeline runs it: normalisation included (as
`yuqing evaluate` does; `--no-normalize` to leave it out), in batches of 64, after a warm-up.
The dev set lives outside the repository, in ../shared/data/grievances/dev.jsonl; where it is
missing the bench says so and scores the seed corpus (nlp/seed/seed.jsonl) alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.assist import LexiconAssisted  # noqa: E402
from nlp.base import Classifier, NormalizingClassifier  # noqa: E402
from nlp.factory import TRAINED_KINDS, build_classifier  # noqa: E402
from nlp.labels import LabelledExample, read_labelled  # noqa: E402
from nlp.metrics import evaluate_predictions  # noqa: E402
from yuqing.services import normalizer_for, segmenter_for  # noqa: E402
from yuqing.settings import Config, load_config  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
DATASETS = {
    "dev": SHARED_DATA / "grievances" / "dev.jsonl",
    "seed": ROOT / "nlp" / "seed" / "seed.jsonl",
}
BATCH = 64
COLUMNS = (  # key, heading, format
    ("dataset", "dataset", "{:<8}"),
    ("classifier", "classifier", "{:<24}"),
    ("n", "n", "{:>5}"),
    ("theme_micro_f1", "theme µF1", "{:>9.3f}"),
    ("theme_macro_f1", "theme MF1", "{:>9.3f}"),
    ("sentiment_accuracy", "sent acc", "{:>8.3f}"),
    ("sentiment_macro_f1", "sent MF1", "{:>8.3f}"),
    ("posts_per_s", "posts/s", "{:>7.0f}"),
)


def classifiers(
    config: Config, kinds: Sequence[str], models: Sequence[Path], normalize: bool
) -> dict[str, Classifier]:
    """The classifiers to score, by label; each trained kind takes the next `--model`."""
    models = list(models)
    built: dict[str, Classifier] = {}
    for kind in kinds:
        model = models.pop(0) if kind in TRAINED_KINDS and models else None
        inner = build_classifier(kind, config.taxonomy, model, segmenter=segmenter_for(config))
        clf = NormalizingClassifier(inner, normalizer_for(config).normalize) if normalize else inner
        built[kind if model is None else f"{kind}:{model.name}"] = clf
        if kind == "transformer":  # also as served by default, with the lexicon's assist
            lexicon = build_classifier("lexicon", config.taxonomy, segmenter=segmenter_for(config))
            assisted = LexiconAssisted(inner, lexicon)
            name = f"{kind}+lex:{model.name}" if model else f"{kind}+lex"
            built[name] = (
                NormalizingClassifier(assisted, normalizer_for(config).normalize)
                if normalize
                else assisted
            )
    return built


def score(
    examples: Sequence[LabelledExample], classifier: Classifier
) -> tuple[dict[str, Any], float]:
    """The evaluation report and posts per second."""
    texts = [e.full_text for e in examples]
    classifier.classify(texts[:BATCH])  # warm up: lazy loads, caches
    start = time.perf_counter()
    predictions = []
    for i in range(0, len(texts), BATCH):
        predictions.extend(classifier.classify(texts[i : i + BATCH]))
    seconds = time.perf_counter() - start
    return evaluate_predictions(examples, predictions), len(texts) / seconds


def row(dataset: str, name: str, report: dict[str, Any], speed: float) -> dict[str, Any]:
    themes, sentiment = report.get("themes", {}), report.get("sentiment", {})
    return {
        "dataset": dataset,
        "classifier": name,
        "n": report["n"],
        "theme_micro_f1": themes.get("micro_f1", float("nan")),
        "theme_macro_f1": themes.get("macro_f1", float("nan")),
        "sentiment_accuracy": sentiment.get("accuracy", float("nan")),
        "sentiment_macro_f1": sentiment.get("macro_f1", float("nan")),
        "posts_per_s": round(speed, 1),
        "report": report,
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    def cell(fmt: str, value: Any) -> str:
        if not isinstance(value, str):
            return fmt.format(value)
        width = int("".join(c for c in fmt.split(".")[0] if c.isdigit()))
        return value.ljust(width) if "<" in fmt else value.rjust(width)

    lines = ["  ".join(cell(fmt, heading) for _, heading, fmt in COLUMNS)]
    lines += ["  ".join(cell(fmt, r[key]) for key, _, fmt in COLUMNS) for r in rows]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--classifier",
        action="append",
        choices=("lexicon", *TRAINED_KINDS),
        help="classifier kind to score (repeatable; default: lexicon)",
    )
    parser.add_argument(
        "--model",
        action="append",
        type=Path,
        default=[],
        help="model folder from `yuqing train`, one per trained --classifier, in order",
    )
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another labelled JSONL file to score (repeatable)",
    )
    parser.add_argument("--config-dir", type=Path, default=ROOT / "configs")
    parser.add_argument("--no-normalize", action="store_true", help="classify the raw text")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    datasets = dict(DATASETS)
    for item in args.data:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            sys.exit(f"--data takes NAME=PATH, not {item!r}")
        datasets[name] = Path(path)
    missing = {name: str(path) for name, path in datasets.items() if not path.is_file()}
    for name, path in missing.items():
        print(f"{name}: {path} not found; skipping it", file=sys.stderr)
    if "dev" in missing:
        print(
            f"the shared dev set is missing (expected under {SHARED_DATA}): "
            "scoring the seed corpus only",
            file=sys.stderr,
        )
    config = load_config(args.config_dir, environ={"YUQING_PSEUDONYM_KEY": "bench-only"})
    try:
        built = classifiers(
            config, args.classifier or ["lexicon"], args.model, not args.no_normalize
        )
    except ValueError as e:
        sys.exit(str(e))
    rows = []
    for dataset, path in datasets.items():
        if dataset in missing:
            continue
        examples = read_labelled(path, config.taxonomy.theme_ids)
        for name, clf in built.items():
            rows.append(row(dataset, name, *score(examples, clf)))
    if args.json:
        print(json.dumps({"results": rows, "missing": missing}, ensure_ascii=False, indent=2))
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
