"""The one-way pipeline: crawl into the inbox, then classify and index what the inbox holds.

The inbox (data/inbox/*.jsonl, written by the crawler) doubles as the spool: a batch leaves
it only after the store accepted every post in it. If the store is down the batch stays,
and the next run (or `yuqing index replay`) writes it again; upserts by id make that safe.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from index.base import Store, StoreUnavailable
from nlp.base import Classifier
from yuqing.schema import Post

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


@dataclass
class IndexReport:
    files: int = 0
    posts: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    spooled_files: int = 0
    error: str | None = None
    themes: Counter[str] = field(default_factory=Counter)
    sentiments: Counter[str] = field(default_factory=Counter)


def _read_batch(path: Path, quarantine: Path, report: IndexReport) -> Iterator[Post]:
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
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
    """Classify and index every batch in the inbox, oldest first; spool on store outage."""
    report = IndexReport()
    batches = sorted(paths.inbox.glob("*.jsonl")) if paths.inbox.is_dir() else []
    for i, path in enumerate(batches):
        posts = classify_posts(
            list(_read_batch(path, paths.quarantine, report)), classifier, batch_size
        )
        try:
            result = store.upsert(posts)
        except StoreUnavailable as e:
            report.spooled_files = len(batches) - i
            report.error = str(e)
            logger.error(
                "store unavailable; %d batch(es) stay spooled in %s: %s",
                report.spooled_files,
                paths.inbox,
                e,
            )
            break
        report.files += 1
        report.posts += len(posts)
        report.created += result.created
        report.updated += result.updated
        report.unchanged += result.unchanged
        for post in posts:
            report.themes.update(post.themes)
            report.sentiments[post.sentiment or "unknown"] += 1
        paths.processed.mkdir(parents=True, exist_ok=True)
        shutil.move(path, paths.processed / path.name)
    return report
