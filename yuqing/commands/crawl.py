"""`yuqing crawl` (with its progress display, summary and quarantine report) and
`yuqing sources check`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from functools import partial
from typing import Any

import click

from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.commands.store import (
    crawl_lock,
    crawl_sources,
    echo_index_report,
    index_inbox,
    open_index,
)
from yuqing.live_index import LiveIndexer
from yuqing.pipeline import DataPaths
from yuqing.schema import SHANGHAI
from yuqing.services import records_for
from yuqing.settings import Config, Source


def select_sources(config: Config, names: tuple[str, ...]) -> list[Source]:
    sources = config.sources
    if not names:
        return sources
    known = {s.name for s in sources}
    unknown = sorted(set(names) - known)
    if unknown:
        raise UserError(
            f"unknown source(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
        )
    return [s for s in sources if s.name in names]


class ProgressDisplay:
    """Per-source pages and posts on stderr (rich), updated as the crawl goes."""

    def __init__(self, sources: list[Source]):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.counts: dict[str, dict[str, int]] = {}
        self.tasks: dict[str, Any] = {}
        for source in sources:
            if source.enabled:
                self.counts[source.name] = {"page": 0, "post": 0, "dropped": 0}
                self.tasks[source.name] = self.progress.add_task(source.name, total=None)

    def __enter__(self) -> Callable[[str, str], None]:
        self.progress.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, source: str, event: str) -> None:
        counts = self.counts.get(source)
        if counts is None:
            return
        if event == "done":
            self.progress.update(self.tasks[source], total=1, completed=1)
        else:
            counts[event] = counts.get(event, 0) + 1
        self.progress.update(
            self.tasks[source],
            description=f"{source}: {counts['page']} pages, {counts['post']} posts, "
            f"{counts['dropped']} dropped",
        )


def echo_summary(figures: dict[str, dict[str, Any]]) -> None:
    for source, f in figures.items():
        click.echo(
            f"  {source}: {f['status']}, {f['pages']} pages, {f['posts']} posts "
            f"({f['new_posts']} new, {f['updated_posts']} updated, {f['deleted_posts']} gone), "
            f"{f['quarantined']} quarantined, {f['errors']} errors"
        )


def echo_quarantine(config: Config, limit: int, as_json: bool) -> None:
    from crawlers.health import quarantined_items

    found = quarantined_items(config.data_dir, limit)
    if as_json:
        print_json(found)
        return
    click.echo(f"Quarantine ({config.data_dir / 'quarantine'}): {found['total']} item(s)")
    for reason, n in found["by_reason"].items():
        click.echo(f"  {reason}: {n}")
    if found["items"]:
        click.echo(f"Newest {len(found['items'])}:")
    for item in found["items"]:
        click.echo(
            f"  {item.get('time') or '-'}  {item.get('source') or '-'}  {item['reason']}  "
            f"{item.get('url') or item.get('file')}  {item.get('error') or ''}"[:300]
        )


@click.command()
@click.option("--source", "names", multiple=True, help="Crawl only this source (repeatable).")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Drop posts published before this day (YYYY-MM-DD, Asia/Shanghai).",
)
@click.option("--full", is_flag=True, help="Ignore the high-water marks: page through everything.")
@click.option(
    "--no-index", is_flag=True, help="Only crawl into the inbox; do not classify or index."
)
@click.option(
    "--report",
    "show_report",
    is_flag=True,
    help="List the quarantined items and the counts by reason, then exit (no crawl).",
)
@click.option("--limit", default=50, show_default=True, help="Items --report lists.")
@click.option("--json", "as_json", is_flag=True, help="--report as JSON.")
@pass_state
def crawl(
    state: CliState,
    names: tuple[str, ...],
    since: datetime | None,
    full: bool,
    no_index: bool,
    show_report: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Crawl the sources in sources.yaml, then classify and index what was found."""
    config = state.config()
    if show_report:
        echo_quarantine(config, limit, as_json)
        return
    sources = select_sources(config, names)
    since = since.replace(tzinfo=SHANGHAI) if since else None
    display = ProgressDisplay(sources)
    paths = DataPaths(config.data_dir)
    with crawl_lock(paths):  # another crawl running: refuse now, before a worker loads a model
        pass
    # The live indexer is forked first, before the display's thread and the crawl lock.
    live = None if no_index else LiveIndexer(paths, partial(open_index, config))
    with live or nullcontext(), display as progress:
        report = crawl_sources(config, sources, full=full, since=since, progress=progress)
    click.echo(
        f"Crawl: {report.pages_fetched} pages fetched, {report.posts} posts, {report.quarantined} quarantined"
    )
    echo_summary(report.figures())
    if live is not None:
        result = live.report  # what the live indexer stored, and then the rest
        result.add(index_inbox(config))
        echo_index_report(result, config.settings.store.backend)
        click.echo(f"({live.during_crawl} of them indexed while the crawl ran)")
        if result.spooled_files:
            raise SystemExit(1)


@click.group()
def sources() -> None:
    """The configured sources: are they healthy, do their selectors still match?"""


@sources.command()
@click.option("--source", "names", multiple=True, help="Check only this source (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--offline", is_flag=True, help="Do not fetch pages: only the recorded health.")
@pass_state
def check(state: CliState, names: tuple[str, ...], as_json: bool, offline: bool) -> None:
    """Each source's health (last crawl, posts, errors, quarantined) and whether its selectors
    still match its site (fetches its first list page and one post, obeying robots.txt)."""
    from crawlers.check import check_source
    from crawlers.health import source_health

    config = state.config()
    wanted = {s.name for s in select_sources(config, names)}
    try:
        records = records_for(config)
    except Exception as e:  # an unreachable store: report what the files say
        click.echo(f"Record store unavailable ({e}); last runs are not shown.", err=True)
        records = None
    rows = [r for r in source_health(config, records) if r["source"] in wanted]
    by_name = {s.name: s for s in config.sources}
    for row in rows:
        if not offline and row["enabled"]:
            row["selectors"] = check_source(by_name[row["source"]], config.settings.crawl)
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            _echo_health(row)
    checks = [r["selectors"] for r in rows if r.get("selectors")]
    broken = [c for c in checks if c["checked"] and (c["unmatched"] or c["error"])]
    if broken:
        sys.exit(1)


def _echo_health(row: dict[str, Any]) -> None:
    click.echo(
        f"{row['source']} ({row['type']}{'' if row['enabled'] else ', disabled'}): "
        f"last crawl {row['last_crawl'] or 'never'} ({row['last_status'] or '-'}), "
        f"{row['posts']} posts ({row['deleted']} deleted), last run: {row['pages'] or 0} pages, "
        f"{row['errors'] or 0} errors, {row['quarantined'] or 0} quarantined "
        f"({row['quarantined_total']} in all)"
    )
    check = row.get("selectors")
    if not check:
        return
    if not check["checked"]:
        click.echo(f"  selectors: not checked ({row['type']} sources)")
        return
    if check["error"]:
        click.echo(f"  check failed: {check['error']}")
    matched = ", ".join(f"{k} {n}" for k, n in check["matches"].items())
    click.echo(f"  selectors: {matched or 'none checked'}")
    if check["unmatched"]:
        click.echo(f"  MATCHED NOTHING: {', '.join(check['unmatched'])}")


COMMANDS = (crawl, sources)
