"""Crawl, index and search: `yuqing crawl`, `yuqing index …`, `yuqing search`."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timedelta

import click

from index.base import SearchQuery, Store, StoreUnavailable
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.pipeline import DataPaths, IndexReport, process_inbox
from yuqing.schema import SHANGHAI
from yuqing.services import classifier_for, store_for
from yuqing.settings import Config, Source


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
    try:
        store = store_for(config, refresh=refresh)
    except StoreUnavailable as e:
        pending = len(list(paths.inbox.glob("*.jsonl"))) if paths.inbox.is_dir() else 0
        return IndexReport(spooled_files=pending, error=str(e))
    try:
        batch = config.settings.classifier.batch_size
        return process_inbox(paths, store, classifier_for(config), batch)
    finally:
        store.close()


def crawl_sources(config: Config, sources: list[Source]):
    from crawlers.runner import run_crawl, scrapy_settings

    paths = DataPaths(config.data_dir)
    settings = scrapy_settings(
        config.settings.crawl, paths.inbox, paths.quarantine, config.pseudonym_key
    )
    return run_crawl(sources, settings)


def echo_index_report(report: IndexReport, backend: str) -> None:
    click.echo(
        f"Index ({backend}): {report.posts} posts from {report.files} batch(es): "
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.quarantined} quarantined"
    )
    if report.spooled_files:
        click.echo(
            f"Store unavailable ({report.error}); {report.spooled_files} batch(es) stay spooled. Run `yuqing index replay` when it is back.",
            err=True,
        )


@click.command()
@click.option("--source", "names", multiple=True, help="Crawl only this source (repeatable).")
@click.option(
    "--no-index", is_flag=True, help="Only crawl into the inbox; do not classify or index."
)
@pass_state
def crawl(state: CliState, names: tuple[str, ...], no_index: bool) -> None:
    """Crawl the sources in sources.yaml, then classify and index what was found."""
    config = state.config()
    sources = config.sources
    if names:
        known = {s.name for s in sources}
        unknown = sorted(set(names) - known)
        if unknown:
            raise UserError(
                f"unknown source(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
            )
        sources = [s for s in sources if s.name in names]
    report = crawl_sources(config, sources)
    click.echo(
        f"Crawl: {report.pages_fetched} pages fetched, {report.posts} posts, {report.quarantined} quarantined"
    )
    if not no_index:
        result = index_inbox(config)
        echo_index_report(result, config.settings.store.backend)
        if result.spooled_files:
            raise SystemExit(1)


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


COMMANDS = (crawl, index)
