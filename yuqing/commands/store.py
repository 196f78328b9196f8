"""Crawl, index and search: `yuqing crawl`, `yuqing index …`, `yuqing search`."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import click

from index.base import TOP_FIELDS, Cursor, SearchHit, SearchQuery, StoreUnavailable
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.pipeline import DataPaths, IndexReport, process_inbox
from yuqing.schema import SENTIMENTS, SHANGHAI, as_shanghai
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
    """Manage the store: set up, replay, migrate, purge old posts, top values."""


@index.command()
@pass_state
def setup(state: CliState) -> None:
    """Create the store's tables or index. Safe to run on every deploy."""
    config = state.config()
    with closing(_store(config)) as store:
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
    with closing(_store(config)) as store:
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
    with closing(_store(config)) as store:
        if not yes:
            n = store.search(SearchQuery(until=cutoff, limit=1)).total
            click.echo(
                f"{n} {what} would be deleted from the {store.name} store. "
                "Run again with --yes to delete them."
            )
            return
        n = store.purge(cutoff)
    click.echo(f"Deleted {n} {what} from the {store.name} store.")


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_shanghai(datetime.fromisoformat(value))
    except ValueError as e:
        raise UserError(f"bad date {value!r}: use YYYY-MM-DD") from e


def _cursor(value: str | None) -> Cursor | None:
    if not value:
        return None
    millis, _, post_id = value.partition(":")
    if not millis.isdigit() or not post_id:
        raise UserError(
            f"bad cursor {value!r}. Fix: pass the `--after MILLIS:ID` value that the previous "
            "page printed (its `next_after` in JSON)."
        )
    return int(millis), post_id


def _cursor_text(cursor: Cursor | None) -> str | None:
    return f"{cursor[0]}:{cursor[1]}" if cursor else None


def filter_options(command):
    """The filters `yuqing search` and `yuqing index top` share."""
    options = [
        click.option(
            "--theme", "themes", multiple=True, help="Only this theme (repeatable: any of)."
        ),
        click.option(
            "--sentiment",
            "sentiments",
            multiple=True,
            type=click.Choice(SENTIMENTS),
            help="Only this sentiment (repeatable).",
        ),
        click.option("--source", "sources", multiple=True, help="Only posts from this source."),
        click.option("--unit", "units", multiple=True, help="Only posts naming this unit."),
        click.option(
            "--since", metavar="DATE", help="Posts dated on or after this date (YYYY-MM-DD)."
        ),
        click.option("--until", metavar="DATE", help="Posts dated before this date (YYYY-MM-DD)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_query(config: Config, text: str = "", **filters: Any) -> SearchQuery:
    themes = filters.pop("themes")
    unknown = sorted(set(themes) - set(config.taxonomy.theme_ids))
    if unknown:
        raise UserError(
            f"unknown theme(s): {', '.join(unknown)}. Themes: {', '.join(config.taxonomy.theme_ids)}."
        )
    for name in ("sentiments", "sources", "units", "platforms", "story_ids"):
        if name in filters:
            filters[name] = tuple(filters[name])
    since, until = _day(filters.pop("since")), _day(filters.pop("until"))
    return SearchQuery(text, tuple(themes), since=since, until=until, **filters)


@index.command()
@click.argument("field", type=click.Choice(TOP_FIELDS))
@filter_options
@click.option("--size", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def top(state: CliState, field: str, size: int, as_json: bool, **filters: Any) -> None:
    """The most frequent values of FIELD among the matching posts, most posts first.
    `words` gives hot words (no stopwords, numbers or single characters)."""
    config = state.config()
    query = build_query(config, **filters)
    with closing(_store(config)) as store:
        buckets = store.top(query, field, size)
    if as_json:
        print_json({"field": field, "buckets": [{"key": b.key, "count": b.count} for b in buckets]})
        return
    if not buckets:
        click.echo(f"No {field}: no matching post has one.")
    width = max((len(str(b.count)) for b in buckets), default=1)
    for b in buckets:
        click.echo(f"{b.count:>{width}}  {b.key}")


def _hit_json(h: SearchHit) -> dict[str, Any]:
    p = h.post
    score = p.classification.sentiment_score if p.classification else None
    return {
        "id": p.id,
        "url": p.url,
        "source": p.source,
        "platform": p.platform,
        "title": p.title,
        "published_at": p.published_at,
        "themes": p.themes,
        "sentiment": p.sentiment,
        "sentiment_score": score,
        "units": p.units,
        "story_id": p.story_id,
        "replied": p.replied,
        "deleted": p.deleted,
        "snippet": h.snippet,
    }


@click.command()
@click.argument("query", required=False, default="")
@filter_options
@click.option("--platform", "platforms", multiple=True, help="Only posts from this platform.")
@click.option("--story", "story_ids", multiple=True, help="Only posts of this story (story id).")
@click.option("--replied/--unreplied", default=None, help="Only posts with / without a reply.")
@click.option("--deleted/--live", default=None, help="Only posts gone from / still on their site.")
@click.option("--oldest", is_flag=True, help="Oldest first (default: newest first).")
@click.option(
    "--after",
    metavar="CURSOR",
    help="The next page: the `--after MILLIS:ID` the previous page printed (same sort).",
)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def search(
    state: CliState,
    query: str,
    oldest: bool,
    after: str | None,
    limit: int,
    as_json: bool,
    **filters: Any,
) -> None:
    """Search the configured store. Words are matched whole (jieba); quote a phrase."""
    config = state.config()
    q = build_query(
        config,
        query,
        sort="oldest" if oldest else "newest",
        after=_cursor(after),
        limit=limit,
        **filters,
    )
    with closing(_store(config)) as store:
        result = store.search(q)
    next_after = _cursor_text(result.next_after)
    if as_json:
        hits = [_hit_json(h) for h in result.hits]
        print_json({"query": query, "total": result.total, "hits": hits, "next_after": next_after})
        return
    click.echo(f"{result.total} post(s)")
    for h in result.hits:
        p = h.post
        flags = "".join(
            f" ({f})" for f, on in (("replied", p.replied), ("deleted", p.deleted)) if on
        )
        click.echo(
            f"\n{p.day} [{','.join(p.themes)}|{p.sentiment}] {p.title}{flags}\n  {h.snippet}\n  {p.url}"
        )
    if next_after:
        click.echo(f"\nNext page: --after {next_after}")


COMMANDS = (crawl, index, search)
