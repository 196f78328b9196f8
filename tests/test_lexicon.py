"""The lexicon classifier tags themes and sentiment and says which cues caused each tag."""

import pytest

from nlp.lexicon import LexiconClassifier


@pytest.fixture(scope="module")
def classifier(project_config, segmenter):
    return LexiconClassifier(project_config.taxonomy, segmenter)


def test_negated_grievance_is_negative_wages(classifier):
    [r] = classifier.classify(["不是不想干，是工资一直不发，拖欠了三个月，太寒心了"])
    assert r.themes == ["wages"]
    assert r.sentiment == "negative"
    assert r.sentiment_score < -0.5
    assert r.cues["wages"] == ["工资"]
    assert any(c.startswith("寒心") for c in r.cues["sentiment"])


def test_resolved_grievance_keeps_its_theme_and_is_positive(classifier):
    [r] = classifier.classify(["拖欠的工资已经补发了，感谢厂领导"])
    assert r.themes == ["wages"]
    assert r.sentiment == "positive"


def test_multi_label_with_cues_for_each(classifier):
    [r] = classifier.classify(["子女接班的政策什么时候落实？领导推诿不作为"])
    assert set(r.themes) == {"cadre_conduct", "children_employment"}
    assert set(r.cues["cadre_conduct"]) == {"不作为", "推诿"}
    assert r.sentiment == "negative"


def test_contrast_weighs_the_second_clause(classifier):
    [r] = classifier.classify(["虽然领导很关心，但是取暖费至今没有发放"])
    assert r.themes == ["welfare"]
    assert r.sentiment == "negative"


def test_negation_flips_praise(classifier):
    [r] = classifier.classify(["对这次竞聘的结果一点也不满意"])
    assert r.themes == ["job_transfer"]
    assert r.sentiment == "negative"


def test_news_without_grievance_is_other_and_neutral(classifier):
    results = classifier.classify(["集团召开年度工作会议", "物资工作会议召开"])
    assert [(r.themes, r.sentiment, r.cues) for r in results] == [(["other"], "neutral", {})] * 2


def test_batch_keeps_order(classifier):
    texts = ["井场附近漏油，污染严重", "退休待遇和取暖费什么时候发", "工伤认定拖了半年"]
    assert [r.themes[0] for r in classifier.classify(texts)] == [
        "safety_environment",
        "welfare",
        "injury_illness",
    ]
