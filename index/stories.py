"""Stories: reposts and near-duplicates, across sources, share one `story_id`.

Each post's title and text, lowercased without spaces and punctuation, become a set of
character 3-grams, fingerprinted by a MinHash (`datasketch`, 128 permutations). Posts whose
fingerprints estimate a Jaccard similarity of `THRESHOLD` or more tell the same story. The
fingerprints live in an SQLite file beside the store (`data/stories.sqlite3`) with LSH band
keys (32 bands of 4 rows), so a post is compared only with the few posts that share a band,
not with all of them. A post keeps the story it was first given, so re-runs are stable, and a
repost crawled months later joins the story of the post it copies. A new story takes the id
of its first post.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from datasketch import MinHash

from yuqing.schema import Post

NUM_PERM = 128
BANDS, ROWS = 32, 4
SHINGLE = 3
THRESHOLD = 0.6  # estimated Jaccard similarity of 3-gram sets at which posts share a story
MIN_SHINGLES = 8  # shorter texts are too short to compare: each is its own story
_NOT_WORD = re.compile(r"[\W_]+")
_SEED = 1

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fingerprints (id TEXT PRIMARY KEY, story_id TEXT NOT NULL, "
    "sig BLOB)",
    "CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bands_key ON bands (key)",
)


# The permutations are drawn once from the seed, not again for every post's MinHash.
_SCHEME = MinHash(num_perm=NUM_PERM, seed=_SEED)


def shingles(text: str) -> set[bytes]:
    flat = _NOT_WORD.sub("", text.lower())
    return {flat[i : i + SHINGLE].encode("utf-8") for i in range(len(flat) - SHINGLE + 1)}


def signature(text: str) -> np.ndarray | None:
    """The MinHash values of a text, or None if it is too short to compare."""
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    m = MinHash(seed=_SEED, permutations=_SCHEME.permutations, scheme=_SCHEME.scheme)
    m.update_batch(list(grams))
    return m.hashvalues.astype(np.uint64)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 63-bit key per band (the band's number and values, hashed)."""
    keys = []
    for band in range(BANDS):
        rows = sig[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(struct.pack("<I", band) + rows, digest_size=8).digest()
        keys.append(struct.unpack("<q", digest)[0] >> 1)
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


class StoryIndex:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        for statement in SCHEMA:
            self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def assign(self, posts: Iterable[Post]) -> list[Post]:
        """The posts with their story ids, recording the new ones (one transaction)."""
        out = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for post in posts:
                out.append(post.model_copy(update={"story_id": self._story(post)}))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return out

    def _story(self, post: Post) -> str:
        row = self._db.execute("SELECT story_id FROM fingerprints WHERE id = ?", (post.id,))
        if found := row.fetchone():
            return found[0]
        sig = signature(post.full_text())
        story = post.id
        if sig is not None:
            keys = band_keys(sig)
            story = self._match(post.id, sig, keys) or post.id
            self._db.executemany("INSERT INTO bands VALUES (?, ?)", [(k, post.id) for k in keys])
        self._db.execute(
            "INSERT INTO fingerprints VALUES (?, ?, ?)",
            (post.id, story, sig.tobytes() if sig is not None else None),
        )
        return story

    def _match(self, post_id: str, sig: np.ndarray, keys: list[int]) -> str | None:
        """The story of the most similar earlier post at or above THRESHOLD, if any."""
        rows = self._db.execute(
            "SELECT f.story_id, f.sig FROM fingerprints f WHERE f.id IN "
            f"(SELECT id FROM bands WHERE key IN ({','.join('?' * len(keys))})) AND f.id != ?",
            [*keys, post_id],
        ).fetchall()
        best, story = THRESHOLD, None
        for candidate, blob in rows:
            score = similarity(sig, np.frombuffer(blob, dtype=np.uint64))
            if score >= best:
                best, story = score, candidate
        return story
