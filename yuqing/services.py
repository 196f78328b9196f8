"""Build the shared parts (segmenter, classifier, store) from a loaded Config, once."""

from __future__ import annotations

from index.base import Store
from index.factory import open_store
from nlp.base import Classifier
from nlp.lexicon import LexiconClassifier, taxonomy_words
from nlp.segment import Segmenter, get_segmenter
from yuqing.settings import Config


def segmenter_for(config: Config) -> Segmenter:
    return get_segmenter(taxonomy_words(config.taxonomy))


def classifier_for(config: Config) -> Classifier:
    return LexiconClassifier(config.taxonomy, segmenter_for(config))


def store_for(config: Config, *, refresh: bool = False) -> Store:
    return open_store(config.settings, segmenter_for(config), refresh=refresh)
