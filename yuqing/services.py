"""Build the shared parts (normaliser, segmenter, classifier, store) from a loaded Config."""

from __future__ import annotations

from pathlib import Path

from index.base import Store
from index.factory import open_records, open_store
from index.records import RecordStore
from nlp.base import Classifier, NormalizingClassifier
from nlp.lexicon import taxonomy_words
from nlp.normalize import Normalizer, get_normalizer, load_normalization, user_words
from nlp.segment import Segmenter, get_segmenter
from yuqing.routing import Departments, load_departments
from yuqing.settings import Config

NORMALIZATION_FILE = "normalization.yaml"


def normalizer_for(config: Config) -> Normalizer:
    return get_normalizer(load_normalization(config.config_dir / NORMALIZATION_FILE))


def segmenter_for(config: Config) -> Segmenter:
    """jieba with the taxonomy's cue words and the normalisation table's words kept whole."""
    table = load_normalization(config.config_dir / NORMALIZATION_FILE)
    return get_segmenter(taxonomy_words(config.taxonomy) | user_words(table))


def classifier_for(config: Config, model_dir: Path | None = None) -> Classifier:
    """The configured classifier (or the model in `model_dir`), normalising its input."""
    from nlp.factory import build_classifier, detect_kind

    settings = config.settings.classifier
    if model_dir is not None:
        kind = detect_kind(model_dir)
    else:
        kind, model_dir = settings.kind, settings.model_dir
    options = {"precision": settings.precision} if kind == "transformer" else {}
    segmenter = segmenter_for(config)
    inner = build_classifier(kind, config.taxonomy, model_dir, segmenter=segmenter, **options)
    if kind == "transformer" and settings.lexicon_assist:
        from nlp.assist import LexiconAssisted

        lexicon = build_classifier("lexicon", config.taxonomy, segmenter=segmenter)
        inner = LexiconAssisted(inner, lexicon)
    return NormalizingClassifier(inner, normalizer_for(config).normalize)


def store_for(config: Config, *, refresh: bool = False) -> Store:
    return open_store(config.settings, segmenter_for(config), refresh=refresh)


def records_for(config: Config) -> RecordStore:
    return open_records(config.settings)


def departments_for(config: Config) -> Departments:
    """departments.yaml (归口), checked against the taxonomy's theme ids."""
    return load_departments(config.config_dir, config.taxonomy.theme_ids)
