"""Raw pages kept as evidence: gzip files named by the sha256 of their bytes.

`data/evidence/ab/abcdef….gz` holds the page whose sha256 is `abcdef…`, exactly as it was
fetched; the same bytes are stored once however often they are captured.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path


def evidence_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / f"{sha256}.gz"


def save(root: Path, raw: bytes) -> str:
    """Store `raw` (once) and return its sha256."""
    sha = hashlib.sha256(raw).hexdigest()
    path = evidence_path(root, sha)
    if path.exists():
        return sha
    data = gzip.compress(raw, compresslevel=6, mtime=0)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
    except FileNotFoundError:  # the first page under this prefix
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
    tmp.replace(path)  # atomic: a reader sees the whole file or none
    return sha


def load(root: Path, sha256: str) -> bytes:
    """The raw bytes stored under `sha256`; checks them against it."""
    raw = gzip.decompress(evidence_path(root, sha256).read_bytes())
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise ValueError(f"evidence {sha256} is corrupt: its bytes hash differently")
    return raw
