"""The seed corpus that ships in nlp/seed/ parses against the taxonomy and covers every label."""

from collections import Counter
from pathlib import Path

import pytest

from nlp.labels import read_labelled

SEED = Path(__file__).resolve().parents[1] / "nlp" / "seed" / "seed.jsonl"


@pytest.fixture(scope="module")
def seed(project_config):
    return read_labelled(SEED, project_config.taxonomy.theme_ids)


def test_seed_has_2000_unique_fully_labelled_posts(seed):
    texts = [e.text for e in seed]
    assert len(set(texts)) == len(texts) >= 2000
    assert len({e.id for e in seed}) == len(seed)
    assert all(e.themes and e.sentiment for e in seed)


def test_every_theme_and_sentiment_is_well_represented(seed, project_config):
    themes = Counter(t for e in seed for t in e.themes)
    assert {t: themes[t] for t in project_config.taxonomy.theme_ids if themes[t] < 150} == {}
    sentiments = Counter(e.sentiment for e in seed)
    assert {s: n for s, n in sentiments.items() if n < 400} == {}
    assert set(sentiments) == {"negative", "neutral", "positive"}


def test_themes_per_post_and_other_alone(seed, project_config):
    fallback = project_config.taxonomy.fallback
    assert all(1 <= len(e.themes) <= 3 for e in seed)
    assert [e.id for e in seed if fallback in e.themes and len(e.themes) > 1] == []


def test_lengths_and_platforms(seed):
    # One-liners (三個月沒發工資了, 7 characters) are how many grievances are posted: the corpus
    # has a couple of hundred short posts, and none empty or too long to read as one post.
    assert all(5 <= len(e.text) <= 300 for e in seed)
    assert sum(len(e.text) <= 25 for e in seed) >= 200
    assert {e.platform for e in seed} == {
        "forum",
        "tieba",
        "weibo",
        "news",
        "message_board",
        "complaint_site",
    }
