"""The one-way pipeline: crawl into the inbox, then classify and index what the inbox holds.

The inbox (data/inbox/*.jsonl, written by the crawler) doubles as the spool: a batch leaves
it only after the store accepted every post in it. If the store is down the batch stays,
and the next run (or `yuqing index replay`) writes it again; upserts by id make that safe.
A crawl that was killed leaves a `.part` batch: `recover_spool` moves it into the inbox.

Before it is stored, each post gets its story (`index.stories`: reposts and near-duplicates
share one); a tombstone line (a post found gone) marks the stored post deleted, keeping it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

from pydantic import BaseModel, ValidationError

from index.base import Store, StoreUnavailable
from index.stories import StoryIndex
from nlp.base import Classifier
from yuqing.schema import AwareDatetime, Post

TOMBSTONE = "tombstone"  # as crawlers.pipelines writes it

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataPaths:
    """Where each stage keeps its files under the data directory."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def processed(self) -> Path:
        return self.root / "processed"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def crawl(self) -> Path:
        """The crawl state (`state.sqlite3`) and the lock a running crawl holds."""
        return self.root / "crawl"

    @property
    def crawl_state(self) -> Path:
        return self.crawl / "state.sqlite3"

    @property
    def evidence(self) -> Path:
        return self.root / "evidence"

    @property
    def stories(self) -> Path:
        return self.root / "stories.sqlite3"


def recover_spool(paths: DataPaths) -> int:
    """Move the `.part` batches a killed crawl left into the inbox; call it only while no
    crawl runs (the crawl lock is held). A torn last line is cut off: its post was not yet
    recorded in the crawl state, so the next crawl fetches it again. Returns the batches moved."""
    moved = 0
    for part in sorted(paths.inbox.glob("*.part")) if paths.inbox.is_dir() else []:
        data = part.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]
        target = part.with_suffix(".jsonl")
        if not whole:
            part.unlink()
            continue
        if len(whole) != len(data):
            logger.warning(
                "%s: cut off a torn last line of %d bytes", part.name, len(data) - len(whole)
            )
            tmp = part.with_suffix(".recovering")
            tmp.write_bytes(whole)
            tmp.replace(target)  # atomic; a kill before the unlink only repeats posts (upserts)
            part.unlink()
        else:
            part.rename(target)
        moved += 1
    if moved:
        logger.warning("recovered %d batch(es) of an interrupted crawl into %s", moved, paths.inbox)
    return moved


@dataclass
class IndexReport:
    files: int = 0
    posts: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    deleted: int = 0
    spooled_files: int = 0
    error: str | None = None
    themes: Counter[str] = field(default_factory=Counter)
    sentiments: Counter[str] = field(default_factory=Counter)

    def add(self, other: IndexReport) -> None:
        """Count `other`'s work into this report; its `spooled_files` and `error` are the
        latest word, so they replace these."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("spooled_files", "error"):
                setattr(self, f.name, theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine + theirs)


def _read_batch(path: Path, quarantine: Path, report: IndexReport) -> Iterator[Post | Gone]:
    """The batch's posts, and its tombstones."""
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                if line.startswith('{"' + TOMBSTONE):
                    yield Tombstone.model_validate_json(line).tombstone
                else:
                    yield Post.model_validate_json(line)
            except ValidationError as e:
                report.quarantined += 1
                logger.warning(
                    "%s line %d is not a valid post, quarantined: %s", path.name, lineno, e
                )
                quarantine.mkdir(parents=True, exist_ok=True)
                record = {
                    "file": path.name,
                    "line": lineno,
                    "error": str(e),
                    "raw": line.rstrip("\n"),
                }
                with (quarantine / "index-rejects.jsonl").open("a", encoding="utf-8") as out:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")


class Gone(BaseModel):
    """A post the crawler found gone: its id, when, and why (HTTP 404, a deletion notice)."""

    id: str
    deleted_at: AwareDatetime
    reason: str = ""


class Tombstone(BaseModel):
    """A spool line saying a post is gone from its site (written by the crawler)."""

    tombstone: Gone


def apply_tombstones(store: Store, gone: list[Gone]) -> list[Post]:
    """The stored posts the tombstones name, marked deleted (text and evidence kept)."""
    out = []
    for t in gone:
        post = store.get(t.id)
        if post is None or post.deleted:
            continue
        out.append(post.model_copy(update={"deleted": True, "deleted_at": t.deleted_at}))
    return out


def classify_posts(posts: list[Post], classifier: Classifier, batch_size: int = 64) -> list[Post]:
    out: list[Post] = []
    for start in range(0, len(posts), batch_size):
        batch = posts[start : start + batch_size]
        results = classifier.classify([p.full_text() for p in batch])
        out.extend(
            p.model_copy(update={"classification": r}) for p, r in zip(batch, results, strict=True)
        )
    return out


def process_inbox(
    paths: DataPaths, store: Store, classifier: Classifier, batch_size: int = 64
) -> IndexReport:
    """Classify and index every batch in the inbox, oldest first; spool on store outage.
    One process at a time: a second waits for the first (the live indexer of a running crawl
    and `yuqing index` may both be at work)."""
    with _index_lock(paths):
        return _process_inbox(paths, store, classifier, batch_size)


@contextmanager
def _index_lock(paths: DataPaths) -> Iterator[None]:
    paths.root.mkdir(parents=True, exist_ok=True)
    with open(paths.root / "index.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pending_batches(paths: DataPaths) -> list[Path]:
    """The closed batches waiting in the inbox, oldest first."""
    return sorted(paths.inbox.glob("*.jsonl")) if paths.inbox.is_dir() else []


def _process_inbox(
    paths: DataPaths, store: Store, classifier: Classifier, batch_size: int
) -> IndexReport:
    report = IndexReport()
    batches = pending_batches(paths)
    if not batches:
        return report
    stories = StoryIndex(paths.stories)
    try:
        for i, path in enumerate(batches):
            if not _index_batch(path, paths, store, stories, classifier, batch_size, report):
                report.spooled_files = len(batches) - i
                logger.error(
                    "store unavailable; %d batch(es) stay spooled in %s: %s",
                    report.spooled_files,
                    paths.inbox,
                    report.error,
                )
                break
    finally:
        stories.close()
    return report


def _index_batch(
    path: Path,
    paths: DataPaths,
    store: Store,
    stories: StoryIndex,
    classifier: Classifier,
    batch_size: int,
    report: IndexReport,
) -> bool:
    """Index one batch and move it to processed/; False (and the batch stays) on an outage."""
    lines = list(_read_batch(path, paths.quarantine, report))
    posts = [p for p in lines if isinstance(p, Post)]
    gone = [t for t in lines if isinstance(t, Gone)]
    posts = classify_posts(stories.assign(posts), classifier, batch_size)
    try:
        result = store.upsert(posts)
        deleted = apply_tombstones(store, gone)
        if deleted:
            store.upsert(deleted)
    except StoreUnavailable as e:
        report.error = str(e)
        return False
    report.files += 1
    report.posts += len(posts)
    report.deleted += len(deleted)
    report.created += result.created
    report.updated += result.updated
    report.unchanged += result.unchanged
    for post in posts:
        report.themes.update(post.themes)
        report.sentiments[post.sentiment or "unknown"] += 1
    paths.processed.mkdir(parents=True, exist_ok=True)
    shutil.move(path, paths.processed / path.name)
    return True
