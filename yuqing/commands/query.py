"""Reading the store: `yuqing search` and `yuqing index top`."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime
from typing import Any

import click

from index.base import TOP_FIELDS, Cursor, SearchHit, SearchQuery
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.commands.store import configured_store, index
from yuqing.schema import SENTIMENTS, as_shanghai
from yuqing.settings import Config


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
    with closing(configured_store(config)) as store:
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
    with closing(configured_store(config)) as store:
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


COMMANDS = (search,)
