"""Crawl, index and search: `yuqing crawl`, `yuqing index …`, `yuqing search`."""

from __future__ import annotations

from datetime import datetime

import click

from index.base import SearchQuery, StoreUnavailable
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.pipeline import DataPaths, IndexReport, process_inbox
from yuqing.schema import as_shanghai
from yuqing.services import classifier_for, store_for
from yuqing.settings import Config, Source


def _store(config: Config, refresh: bool = False):
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
    """Manage the store: create it, replay spooled batches."""


@index.command()
@pass_state
def setup(state: CliState) -> None:
    """Create the store's tables or index. Safe to run on every deploy."""
    config = state.config()
    store = _store(config)
    click.echo(f"{store.name} store ready: {store.count()} posts")
    store.close()


@index.command()
@pass_state
def replay(state: CliState) -> None:
    """Classify and index the batches spooled in the inbox (after an outage)."""
    config = state.config()
    report = index_inbox(config)
    echo_index_report(report, config.settings.store.backend)
    if report.spooled_files:
        raise SystemExit(1)


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_shanghai(datetime.fromisoformat(value))
    except ValueError as e:
        raise UserError(f"bad date {value!r}: use YYYY-MM-DD") from e


@click.command()
@click.argument("query", required=False, default="")
@click.option(
    "--theme", "themes", multiple=True, help="Only posts with this theme (repeatable: any of)."
)
@click.option(
    "--sentiment",
    "sentiments",
    multiple=True,
    type=click.Choice(["negative", "neutral", "positive"]),
    help="Only posts with this sentiment.",
)
@click.option("--source", "sources", multiple=True, help="Only posts from this source.")
@click.option("--since", help="Posts published on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Posts published before this date (YYYY-MM-DD).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def search(
    state: CliState,
    query: str,
    themes,
    sentiments,
    sources,
    since,
    until,
    limit: int,
    as_json: bool,
) -> None:
    """Search the configured store. Words are matched whole (jieba); quote a phrase."""
    config = state.config()
    unknown = sorted(set(themes) - set(config.taxonomy.theme_ids))
    if unknown:
        raise UserError(
            f"unknown theme(s): {', '.join(unknown)}. Themes: {', '.join(config.taxonomy.theme_ids)}."
        )
    store = _store(config)
    try:
        result = store.search(
            SearchQuery(
                query,
                tuple(themes),
                tuple(sentiments),
                tuple(sources),
                (),
                _day(since),
                _day(until),
                limit,
            )
        )
    finally:
        store.close()
    if as_json:
        print_json(
            {
                "query": query,
                "total": result.total,
                "hits": [
                    {
                        "id": h.post.id,
                        "url": h.post.url,
                        "source": h.post.source,
                        "platform": h.post.platform,
                        "title": h.post.title,
                        "published_at": h.post.published_at,
                        "themes": h.post.themes,
                        "sentiment": h.post.sentiment,
                        "sentiment_score": h.post.classification.sentiment_score
                        if h.post.classification
                        else None,
                        "snippet": h.snippet,
                    }
                    for h in result.hits
                ],
            }
        )
        return
    click.echo(f"{result.total} post(s)")
    for h in result.hits:
        p = h.post
        click.echo(
            f"\n{p.day} [{','.join(p.themes)}|{p.sentiment}] {p.title}\n  {h.snippet}\n  {p.url}"
        )


COMMANDS = (crawl, index, search)
