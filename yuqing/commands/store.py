"""Crawl, index and search: `yuqing crawl`, `yuqing index …`, `yuqing search`."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

import click

from index.base import SearchQuery, Store, StoreUnavailable
from nlp.base import Classifier
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.pipeline import DataPaths, IndexReport, pending_batches, process_inbox, recover_spool
from yuqing.schema import SHANGHAI
from yuqing.services import classifier_for, records_for, store_for
from yuqing.settings import Config, Source

logger = logging.getLogger(__name__)


def configured_store(config: Config, refresh: bool = False) -> Store:
    """The configured store, or a usage error that says how to reach it."""
    try:
        return store_for(config, refresh=refresh)
    except StoreUnavailable as e:
        raise UserError(
            f"{e}. Fix: start Elasticsearch (scripts/elasticsearch.sh start) or set store.backend: sqlite in {config.config_dir / 'settings.yaml'}."
        ) from e


def index_inbox(config: Config, refresh: bool = False) -> IndexReport:
    """Classify and store every spooled batch; the store's outage leaves them spooled."""
    paths = DataPaths(config.data_dir)
    with suppress(CrawlBusy), crawl_lock(paths):  # no crawl runs: its .part batches are stale
        recover_spool(paths)
    try:
        store = store_for(config, refresh=refresh)
    except StoreUnavailable as e:
        pending = len(list(paths.inbox.glob("*.jsonl"))) if paths.inbox.is_dir() else 0
        return IndexReport(spooled_files=pending, error=str(e))
    try:
        if not pending_batches(paths):  # nothing to classify: no model to load
            return IndexReport()
        batch = config.settings.classifier.batch_size
        return process_inbox(paths, store, classifier_for(config), batch)
    finally:
        store.close()


def open_index(config: Config) -> tuple[Store, Classifier, int]:
    """What the live indexer of a crawl (`yuqing.live_index`) builds in its process."""
    return store_for(config), classifier_for(config), config.settings.classifier.batch_size


class CrawlBusy(UserError):
    pass


@contextmanager
def crawl_lock(paths: DataPaths) -> Iterator[None]:
    """Held while a crawl runs: a second crawl on the same data folder is refused."""
    paths.crawl.mkdir(parents=True, exist_ok=True)
    with open(paths.crawl / "lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise CrawlBusy(
                f"another crawl is running on {paths.root}. Fix: wait for it to finish."
            ) from e
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def crawl_sources(
    config: Config,
    sources: list[Source],
    *,
    full: bool = False,
    since: datetime | None = None,
    progress: Callable[[str, str], None] | None = None,
):
    """Crawl the sources into the inbox and record each source's run (kind `crawl_run`).
    `full` ignores the high-water marks; `since` drops posts published before it."""
    from crawlers.runner import run_crawl, scrapy_settings

    paths = DataPaths(config.data_dir)
    settings = scrapy_settings(
        config.settings.crawl,
        paths.inbox,
        paths.quarantine,
        config.pseudonym_key,
        state_path=paths.crawl_state,
        evidence_dir=paths.evidence,
        full=full,
        since=since,
        progress=progress,
    )
    with crawl_lock(paths):
        recover_spool(paths)
        started = datetime.now(SHANGHAI)
        report = run_crawl(sources, settings)
        record_runs(config, report, started)
    return report


def record_runs(config: Config, report: Any, started: datetime) -> None:
    """One `crawl_run` record per source in the record store; an unreachable store is logged,
    never fatal (the crawl itself is in the inbox)."""
    from crawlers.health import CRAWL_RUN

    finished = datetime.now(SHANGHAI)
    try:
        records = records_for(config)
        records.setup()
        for source, figures in report.figures().items():
            run_id = f"{started:%Y%m%dT%H%M%S%f}-{source}"
            doc = {"id": run_id, "source": source, "started_at": started.isoformat()}
            records.put(CRAWL_RUN, run_id, {**doc, "finished_at": finished.isoformat(), **figures})
    except (StoreUnavailable, OSError) as e:
        logger.error("could not record the crawl runs: %s", e)


def echo_index_report(report: IndexReport, backend: str) -> None:
    click.echo(
        f"Index ({backend}): {report.posts} posts from {report.files} batch(es): "
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.quarantined} quarantined"
        + (f", {report.deleted} marked deleted" if report.deleted else "")
    )
    if report.spooled_files:
        click.echo(
            f"Store unavailable ({report.error}); {report.spooled_files} batch(es) stay spooled. Run `yuqing index replay` when it is back.",
            err=True,
        )


@click.group()
def index() -> None:
    """Manage the store: set up, replay, migrate, purge old posts, top values."""


@index.command()
@pass_state
def setup(state: CliState) -> None:
    """Create the store's tables or index. Safe to run on every deploy."""
    config = state.config()
    with closing(configured_store(config)) as store:
        click.echo(f"{store.name} store ready: {store.count()} posts")


@index.command()
@pass_state
def replay(state: CliState) -> None:
    """Classify and index the batches spooled in the inbox (after an outage)."""
    config = state.config()
    report = index_inbox(config)
    echo_index_report(report, config.settings.store.backend)
    if report.spooled_files:
        raise SystemExit(1)


@index.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def migrate(state: CliState, as_json: bool) -> None:
    """Rebuild the store under the current schema, without downtime, keeping every post and
    annotation (Elasticsearch: a new index version, then the alias moves to it)."""
    config = state.config()
    with closing(configured_store(config)) as store:
        report = store.migrate()
    if as_json:
        print_json(report)
        return
    click.echo(f"Migrated the {store.name} store:")
    for key, value in report.items():
        click.echo(f"  {key}: {value}")


@index.command()
@click.option(
    "--older-than",
    "days",
    metavar="DAYS",
    type=click.IntRange(min=1),
    help="Delete posts dated more than DAYS days ago (default: store.retention_days).",
)
@click.option("--yes", is_flag=True, help="Delete them; without it, only say how many would go.")
@pass_state
def purge(state: CliState, days: int | None, yes: bool) -> None:
    """Delete old posts (retention). Without --yes, only count them."""
    config = state.config()
    if days is None:
        days = config.settings.store.retention_days
    if days is None:
        raise UserError(
            "no retention period. Fix: pass --older-than DAYS, or set store.retention_days "
            f"in {config.config_dir / 'settings.yaml'}."
        )
    cutoff = datetime.now(SHANGHAI) - timedelta(days=days)
    what = f"post(s) dated before {cutoff:%Y-%m-%d %H:%M} (older than {days} days)"
    with closing(configured_store(config)) as store:
        if not yes:
            n = store.search(SearchQuery(until=cutoff, limit=1)).total
            click.echo(
                f"{n} {what} would be deleted from the {store.name} store. "
                "Run again with --yes to delete them."
            )
            return
        n = store.purge(cutoff)
    click.echo(f"Deleted {n} {what} from the {store.name} store.")


COMMANDS = (index,)
