"""The evidence store: raw pages kept once by their sha256, checked when read back, the files
earlier versions wrote still readable, and `yuqing evidence` writing a page back out."""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from crawlers.evidence import FILENAME, EvidenceStore, legacy_path, read_page
from tests.cli import yuqing

PAGE = "<html><body><p>三矿职工反映高温补贴一直没有发放。</p></body></html>".encode("gbk")


def test_a_page_is_stored_once_and_read_back(tmp_path):
    with EvidenceStore(tmp_path) as store:
        sha = store.save(PAGE)
        assert sha == hashlib.sha256(PAGE).hexdigest()
        assert store.save(PAGE) == sha
        assert read_page(tmp_path, sha) == PAGE
        assert store.count() == 1
    # A second writer on the same folder (another crawler process) sees it and adds its own.
    with EvidenceStore(tmp_path) as other:
        assert other.has(sha)
        other.save(b"another page")
        assert other.count() == 2
    (row,) = sqlite3.connect(tmp_path / FILENAME).execute("SELECT size, gzip FROM pages LIMIT 1")
    assert row[0] == len(PAGE) and gzip.decompress(row[1]) == PAGE  # gzip, as documented


def _save_pages(root: Path, first: int, last: int) -> None:
    with EvidenceStore(root) as store:
        for n in range(first, last):
            store.save(f"page {n}".encode())


def test_two_processes_write_one_folder_at_once(tmp_path):
    # Overlapping ranges: both write pages 100-199, each page is kept once.
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_save_pages, args=(tmp_path, a, b)) for a, b in ((0, 200), (100, 300))
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    with EvidenceStore(tmp_path) as store:
        assert store.count() == 300
    for n in range(300):
        assert (
            read_page(tmp_path, hashlib.sha256(f"page {n}".encode()).hexdigest())
            == f"page {n}".encode()
        )


def test_an_unknown_page_is_reported_missing(tmp_path):
    with EvidenceStore(tmp_path) as store:
        store.save(PAGE)
    assert read_page(tmp_path, "0" * 64) is None


def test_a_page_that_no_longer_hashes_to_its_name_is_refused(tmp_path):
    with EvidenceStore(tmp_path) as store:
        sha = store.save(PAGE)
    db = sqlite3.connect(tmp_path / FILENAME)
    with db:
        db.execute("UPDATE pages SET gzip = ? WHERE sha256 = ?", (gzip.compress(b"edited"), sha))
    db.close()
    with pytest.raises(ValueError, match="corrupt"):
        read_page(tmp_path, sha)


def test_files_from_earlier_versions_still_load(tmp_path):
    sha = hashlib.sha256(PAGE).hexdigest()
    path = legacy_path(tmp_path, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(PAGE))
    assert path == tmp_path / sha[:2] / f"{sha}.gz"
    assert read_page(tmp_path, sha) == PAGE


def test_reading_writes_nothing(tmp_path):
    assert read_page(tmp_path / "evidence", "0" * 64) is None
    assert not (tmp_path / "evidence").exists()
    with EvidenceStore(tmp_path / "evidence") as store:
        sha = store.save(PAGE)
    assert read_page(tmp_path / "evidence", sha) == PAGE
    assert read_page(tmp_path / "evidence", "0" * 64) is None


def test_the_command_writes_a_page_by_its_sha256_and_refuses_a_corrupt_one(config_dir, tmp_path):
    data_dir = tmp_path / "data"
    with EvidenceStore(data_dir / "evidence") as store:
        sha = store.save(PAGE)
    proc = yuqing(config_dir, data_dir, "evidence", sha, "--out", str(tmp_path / "page.html"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "page.html").read_bytes() == PAGE
    proc = yuqing(config_dir, data_dir, "evidence", "1" * 64)
    assert proc.returncode == 2 and f"no evidence {'1' * 64}" in proc.stderr

    db = sqlite3.connect(data_dir / "evidence" / FILENAME)
    with db:
        db.execute("UPDATE pages SET gzip = ? WHERE sha256 = ?", (gzip.compress(b"edited"), sha))
    db.close()
    proc = yuqing(config_dir, data_dir, "evidence", sha)
    assert proc.returncode == 1 and "is corrupt" in proc.stderr
    assert proc.stdout == ""  # nothing written out
