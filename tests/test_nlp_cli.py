"""`yuqing classify`, `evaluate`, `train` and `labels export`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.corrections import CorrectionLog
from nlp.labels import read_labelled
from tests.cli import yuqing
from yuqing.schema import SHANGHAI, Classification, Post, content_sha256, post_id

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "separable.jsonl"


def test_classify_json_explains_its_tags(config_dir, tmp_path):
    proc = yuqing(config_dir, tmp_path, "classify", "車間工 资拖欠三个月了，领导推诿不管", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert "wages" in result["themes"] and "cadre_conduct" in result["themes"]
    assert result["sentiment"] == "negative"
    assert "工资" in " ".join(result["cues"]["wages"])  # found after 工 资 was collapsed
    assert result["classifier"] == "lexicon"


def test_evaluate_json_has_exactly_the_documented_shape(config_dir, tmp_path):
    proc = yuqing(config_dir, tmp_path, "evaluate", "--data", str(FIXTURE), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert list(report) == ["n", "themes", "sentiment"]
    assert report["n"] == len(read_labelled(FIXTURE))
    assert list(report["themes"]) == ["micro_f1", "macro_f1", "per_label"]
    assert list(report["sentiment"]) == ["accuracy", "macro_f1", "per_label"]
    gold = {t for e in read_labelled(FIXTURE) for t in e.themes or ()}
    assert set(report["themes"]["per_label"]) == gold
    assert 0.5 < report["themes"]["macro_f1"] <= 1.0


def test_evaluate_leaves_out_kinds_the_file_lacks(config_dir, tmp_path):
    data = tmp_path / "sentiment-only.jsonl"
    rows = [
        {"id": "a", "text": "拖欠工资，太气人了", "sentiment": "negative"},
        {"id": "b", "text": "工资补发了，谢谢领导", "sentiment": "positive"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = json.loads(
        yuqing(config_dir, tmp_path, "evaluate", "--data", str(data), "--json").stdout
    )
    assert report == {
        "n": 2,
        "sentiment": {
            "accuracy": 1.0,
            "macro_f1": 1.0,
            "per_label": {
                "negative": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
                "positive": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
            },
        },
    }


def test_bad_labelled_file_is_a_usage_error(config_dir, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "x", "text": "工资", "themes": ["salary"]}\n', encoding="utf-8")
    proc = yuqing(config_dir, tmp_path, "evaluate", "--data", str(data))
    assert proc.returncode == 2
    assert f"{data}:1: unknown theme(s) ['salary']" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_train_linear_then_evaluate_and_classify_with_it(config_dir, tmp_path):
    out = tmp_path / "model"
    trained = yuqing(
        config_dir, tmp_path, "train", "--kind", "linear", "--data", str(FIXTURE), "--out", str(out)
    )
    assert trained.returncode == 0, trained.stderr
    assert (out / "labels.json").is_file() and (out / "model_card.json").is_file()
    report = json.loads(
        yuqing(
            config_dir, tmp_path, "evaluate", "--data", str(FIXTURE), "--model", str(out), "--json"
        ).stdout
    )
    assert report["themes"]["macro_f1"] >= 0.9
    assert report["sentiment"]["macro_f1"] >= 0.9
    settings = config_dir / "settings.yaml"
    text = (
        settings.read_text(encoding="utf-8")
        .replace("kind: lexicon ", "kind: linear ")
        .replace("model_dir: null", f"model_dir: {out}")
    )
    settings.write_text(text, encoding="utf-8")
    result = json.loads(
        yuqing(config_dir, tmp_path, "classify", "这个月欠薪的情况，真让人寒心", "--json").stdout
    )
    assert (result["classifier"], result["themes"], result["sentiment"]) == (
        "linear",
        ["wages"],
        "negative",
    )


def test_trained_kind_without_model_dir_names_the_fix(config_dir, tmp_path):
    settings = config_dir / "settings.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("kind: lexicon ", "kind: transformer "),
        encoding="utf-8",
    )
    proc = yuqing(config_dir, tmp_path, "classify", "工资")
    assert proc.returncode == 2
    assert "key `classifier`" in proc.stderr and "needs `model_dir`" in proc.stderr


def test_labels_export_writes_corrections_in_taxonomy_format(config_dir, tmp_path, project_config):
    url = "http://127.0.0.1/forum/thread/1.html"
    post = Post(
        id=post_id(url), source="s", platform="tieba", url=url, title="取暖费", text="今年取暖费还没发。",
        fetched_at=__import__("datetime").datetime(2026, 11, 1, tzinfo=SHANGHAI), content_sha256=content_sha256("x"),
        classification=Classification(themes=["other"], sentiment="neutral"),
    )  # fmt: skip
    log = CorrectionLog.in_data_dir(tmp_path)
    log.record(post, ["welfare"], "neutral", project_config.taxonomy.theme_ids)
    log.record(post, ["welfare"], "negative", project_config.taxonomy.theme_ids)  # the latest wins
    out = tmp_path / "labels.jsonl"
    proc = yuqing(config_dir, tmp_path, "labels", "export", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    [example] = read_labelled(out, project_config.taxonomy.theme_ids)
    assert (example.id, example.platform, example.title, example.text) == (
        post.id,
        "tieba",
        "取暖费",
        "今年取暖费还没发。",
    )
    assert (example.themes, example.sentiment) == (("welfare",), "negative")
    stdout = yuqing(config_dir, tmp_path, "labels", "export").stdout
    assert json.loads(stdout)["themes"] == ["welfare"]
    with pytest.raises(ValueError, match="themes must be 1 or more"):
        log.record(post, ["salary"], "negative", project_config.taxonomy.theme_ids)
