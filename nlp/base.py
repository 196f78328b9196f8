"""The one interface every classifier implements, and the factory that picks one by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from yuqing.schema import Classification


class Classifier(Protocol):
    """Tags a batch of texts with themes and a sentiment, explaining each tag."""

    name: str

    def classify(self, texts: Sequence[str]) -> list[Classification]: ...
