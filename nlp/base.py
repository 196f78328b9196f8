"""The one interface every classifier implements, and the factory that picks one by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from yuqing.schema import Classification


class Classifier(Protocol):
    """Tags a batch of texts with themes and a sentiment, explaining each tag."""

    name: str

    def classify(self, texts: Sequence[str]) -> list[Classification]: ...


class NormalizingClassifier:
    """Normalises each text (Traditional → Simplified, evasions collapsed …) before `inner`."""

    def __init__(self, inner: Classifier, normalize: Callable[[str], str]):
        self.inner = inner
        self.normalize = normalize
        self.name = inner.name

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return self.inner.classify([self.normalize(t) for t in texts])
