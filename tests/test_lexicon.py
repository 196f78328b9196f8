"""The lexicon classifier tags themes and sentiment and says which cues caused each tag."""

from types import SimpleNamespace

import pytest

from nlp.lexicon import LexiconClassifier


@pytest.fixture(scope="module")
def classifier(project_config, segmenter):
    return LexiconClassifier(project_config.taxonomy, segmenter)


def one(classifier, text):
    [result] = classifier.classify([text])
    return result


def test_negated_grievance_is_negative_wages(classifier):
    r = one(classifier, "不是不想干，是工资一直不发，拖欠了三个月，太寒心了")
    assert r.themes == ["wages"]
    assert r.sentiment == "negative"
    assert r.sentiment_score < -0.5
    assert {"工资", "拖欠"} <= set(r.cues["wages"])
    assert any(c.startswith("寒心") for c in r.cues["sentiment"])


def test_resolved_grievance_keeps_its_theme_and_is_positive(classifier):
    for text in ("拖欠的工资已经补发了，感谢厂领导", "欠了半年的工资今天全部补发到账了，谢谢工会"):
        r = one(classifier, text)
        assert (r.themes, r.sentiment) == (["wages"], "positive"), text


def test_multi_label_with_cues_for_each(classifier):
    r = one(classifier, "子女接班的政策什么时候落实？领导推诿不作为")
    assert set(r.themes) == {"cadre_conduct", "children_employment"}
    assert {"不作为", "推诿"} <= set(r.cues["cadre_conduct"])
    assert r.cues["children_employment"] == ["子女接班"]
    assert r.sentiment == "negative"


def test_contrast_weighs_the_second_clause(classifier):
    r = one(classifier, "虽然领导很关心，但是取暖费至今没有发放")
    assert r.themes == ["welfare"]
    assert r.sentiment == "negative"


def test_negation_flips_praise(classifier):
    r = one(classifier, "对这次竞聘的结果一点也不满意")
    assert r.themes == ["job_transfer"]
    assert r.sentiment == "negative"
    assert any(c.startswith("不满意") for c in r.cues["sentiment"])


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


# --- hard cases ------------------------------------------------------------------------


def test_sarcasm_and_scare_quotes_turn_praise_negative(classifier):
    r = one(classifier, "呵呵，我们矿长真是“好”领导，天天开着公车接孩子")
    assert r.themes == ["cadre_conduct"]
    assert r.sentiment == "negative"
    assert "“好”(-1.0)" in r.cues["sentiment"]
    r = one(classifier, "取暖费拖了两年，领导对退休职工可真是太“关心”了")
    assert r.sentiment == "negative"
    assert any(c.startswith("“关心”(-") for c in r.cues["sentiment"])


def test_praise_asked_as_a_question_is_a_challenge(classifier):
    r = one(classifier, "这次竞聘的结果，公平吗？")
    assert r.themes == ["job_transfer"]
    assert r.sentiment == "negative"
    assert any(c.startswith("公平[吗](-") for c in r.cues["sentiment"])


def test_inquiry_and_notice_are_neutral(classifier):
    for text, theme in (
        ("请问企业年金退休以后怎么领取？", "welfare"),
        ("有没有人知道内退政策今年有没有变化？", "job_transfer"),
        ("集团近日召开专题会，部署大病救助申请工作", "hardship"),
    ):
        r = one(classifier, text)
        assert (r.themes, r.sentiment) == ([theme], "neutral"), text


def test_plain_complaint_without_emotion_words_is_negative(classifier):
    r = one(classifier, "工伤认定材料交上去三个月了还没消息")
    assert (r.themes, r.sentiment) == (["injury_illness"], "negative")
    assert "grievance(-1.0)" in r.cues["sentiment"]


def test_a_wish_is_not_praise(classifier):
    r = one(classifier, "希望领导尽快解决取暖费的问题")
    assert r.sentiment == "negative"
    assert not any(c.startswith("解决") for c in r.cues["sentiment"])


def test_thanks_closing_a_petition_are_courtesy(classifier):
    r = one(classifier, "尊敬的领导：我们的取暖补贴已经拖欠两年，恳请过问。谢谢！此致敬礼")
    assert (r.themes, r.sentiment) == (["welfare"], "negative")


def test_longest_cue_wins(classifier):
    r = one(classifier, "今年的安全生产奖一直没发")
    assert r.themes == ["wages"]
    assert r.cues["wages"] == ["安全生产奖"]


def test_not_a_grievance_is_the_fallback_with_its_cues(classifier):
    r = one(classifier, "出售二手电动车，矿工新村自提")
    assert (r.themes, r.sentiment) == (["other"], "neutral")
    assert set(r.cues["other"]) == {"出售", "二手"}
    r = one(classifier, "别家公司拖欠工资上了新闻，还好我们这边没有")
    assert r.themes == ["other"]


def test_emoji_counts(classifier):
    r = one(classifier, "中秋福利发了米面油和月饼👍")
    assert (r.themes, r.sentiment) == (["welfare"], "positive")
    assert "👍(+1.5)" in r.cues["sentiment"]


def test_traditional_and_evasive_input_after_normalisation(project_config, classifier):
    normalize = pytest.importorskip("nlp.normalize")
    table = normalize.load_normalization(project_config.config_dir / "normalization.yaml")
    clean = normalize.get_normalizer(table).normalize
    r = one(classifier, clean("礦上拖欠工資三個月了，領導說再等等"))
    assert (r.themes, r.sentiment) == (["wages"], "negative")
    r = one(classifier, clean("工 资 又 拖 了"))
    assert r.themes == ["wages"]


# --- optional taxonomy keys (read with getattr, so they work before the model has them) ---


def _with_options(taxonomy, patterns, **sentiment):
    """A stand-in taxonomy with `themes[].patterns` and extra `sentiment` keys."""
    themes = [
        SimpleNamespace(**{**t.model_dump(), "patterns": patterns.get(t.id, {})})
        for t in taxonomy.themes
    ]
    lexicon = SimpleNamespace(**{**taxonomy.sentiment.model_dump(), **sentiment})
    return SimpleNamespace(**{**taxonomy.model_dump(), "themes": themes, "sentiment": lexicon})


def test_theme_patterns_and_sentiment_options(project_config, segmenter):
    taxonomy = _with_options(
        project_config.taxonomy,
        {"cadre_conduct": {"提.{0,8}意见.{0,12}调(到|去)": 3}},
        neutral_cues=["打听一下"],
        grievance_prior=0,
    )
    clf = LexiconClassifier(taxonomy, segmenter)
    r = one(clf, "给队长提了几次意见，下个月就被调到最远的采区")
    assert set(r.themes) == {"cadre_conduct", "job_transfer"}
    assert r.cues["cadre_conduct"][0] == "提了几次意见，下个月就被调到"
    assert one(clf, "打听一下取暖费什么时候发").sentiment == "neutral"
    assert one(clf, "请问取暖费什么时候发").sentiment == "neutral"  # prior 0: nothing leans


# --- decision rules ----------------------------------------------------------------------


def test_whom_a_letter_addresses_is_not_its_theme(classifier):
    r = one(classifier, "尊敬的集团书记：我们车间的高温津贴今年还没发放，恳请领导过问")
    assert r.themes == ["welfare"]
    assert "cadre_conduct" not in r.cues


def test_a_weak_second_theme_is_dropped_but_an_unambiguous_one_stays(classifier):
    r = one(classifier, "工伤认定拖了一年，住院的医疗费还是自己垫的，队里的班车和宿舍也不管了")
    assert r.themes == ["injury_illness"]  # 班车 and 宿舍 weigh far less than the injury
    r = one(classifier, "工伤认定拖了一年，医疗费自己垫的，公积金也断缴了")
    assert set(r.themes) == {"injury_illness", "welfare"}  # 断缴, 公积金: unambiguous


def test_a_question_without_complaint_is_an_inquiry(classifier):
    r = one(classifier, "今年的防暑降温费什么时候发？")
    assert (r.themes, r.sentiment) == (["welfare"], "neutral")
    assert any(c.endswith("(×0.5)") for c in r.cues["sentiment"])
    # a question that complains stays negative
    r = one(classifier, "取暖费拖了三年，到底有没有人管？太寒心了")
    assert r.sentiment == "negative"


def test_a_settled_grievance_reads_as_a_resolution(classifier):
    r = one(classifier, "欠了三个月的工资今天全部发了")
    assert (r.themes, r.sentiment) == (["wages"], "positive")
    assert any(c.startswith("resolved:") for c in r.cues["sentiment"])
    assert not any(c.startswith("grievance") for c in r.cues["sentiment"])
    r = one(classifier, "说了半年，劳务费还是没结")
    assert r.sentiment == "negative"


def test_yes_no_questions_and_suggestions_are_neutral(classifier):
    for text in ("退休以后企业年金还能一次性领取吗？", "建议把取暖费的发放时间在班组里公示一下"):
        r = one(classifier, text)
        assert (r.themes, r.sentiment) == (["welfare"], "neutral"), text
    r = one(classifier, "取暖费拖了两年了，退休了就不是职工了吗？")  # rhetorical: not asking
    assert r.sentiment == "negative"


def test_praise_spelled_with_plain_hao(classifier):
    r = one(classifier, "食堂换了承包以后，伙食明显好了")
    assert (r.themes, r.sentiment) == (["welfare"], "positive")
    assert "明显好(+1.5)" in r.cues["sentiment"]
    r = one(classifier, "食堂换了承包以后，伙食也没明显好转，还是不好")
    assert r.sentiment != "positive"


def test_themes_alone_are_the_full_results_themes_and_cues(classifier):
    """What the transformer's lexicon assist uses: the same themes and theme cues as
    `classify`, without the sentiment (and its jieba pass)."""
    from yuqing import demosite

    texts = [f"{p.title}\n{p.text}" for p in demosite.generate(7).posts[:200]]
    texts += ["工资拖欠了三个月，工伤认定也一直没人管", "今天天气不错", ""]
    full, themes = classifier.classify(texts), classifier.classify_themes(texts)
    for whole, part in zip(full, themes, strict=True):
        assert part.themes == whole.themes
        assert part.cues == {k: v for k, v in whole.cues.items() if k != "sentiment"}
        assert part.sentiment is None and part.classifier == "lexicon"
    assert sum(len(r.themes) > 1 for r in themes) > 5  # not trivial: multi-label posts
