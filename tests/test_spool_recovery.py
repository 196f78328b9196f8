"""The `.part` batches of a killed crawl move into the inbox, a torn last line cut off."""

from __future__ import annotations

from yuqing.pipeline import DataPaths, recover_spool


def test_part_batches_are_recovered_and_torn_lines_cut(tmp_path):
    paths = DataPaths(tmp_path)
    paths.inbox.mkdir(parents=True)
    (paths.inbox / "1-a.part").write_bytes(b'{"id": 1}\n{"id": 2}\n{"id": 3, "te')
    (paths.inbox / "2-b.part").write_bytes(b'{"id": 4}\n')
    (paths.inbox / "3-c.part").write_bytes(b'{"id": 5, "te')  # nothing whole
    (paths.inbox / "0-done.jsonl").write_bytes(b'{"id": 0}\n')
    assert recover_spool(paths) == 2
    assert sorted(p.name for p in paths.inbox.iterdir()) == [
        "0-done.jsonl",
        "1-a.jsonl",
        "2-b.jsonl",
    ]
    assert (paths.inbox / "1-a.jsonl").read_bytes() == b'{"id": 1}\n{"id": 2}\n'
    assert (paths.inbox / "2-b.jsonl").read_bytes() == b'{"id": 4}\n'
    assert recover_spool(paths) == 0
