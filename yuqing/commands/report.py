"""`yuqing report`: the day's or week's briefing as DOCX, HTML or Markdown."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from yuqing.commands.common import CliState, UserError, pass_state
from yuqing.schema import SHANGHAI


@click.command()
@click.option("--period", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["docx", "html", "md"]), default="docx", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="File to write.")
@click.option(
    "--date",
    "day",
    default=None,
    help="The period's last day, YYYY-MM-DD (default: today, Asia/Shanghai).",
)
@pass_state
def report(state: CliState, period: str, fmt: str, out: Path | None, day: str | None) -> None:
    """Write a briefing: volume, negative share, themes, units, stories, alerts, cases."""
    from dashboard.briefing import write
    from dashboard.links import base_url
    from index.base import StoreUnavailable
    from yuqing.services import records_for, store_for

    try:
        last = date.fromisoformat(day) if day else datetime.now(SHANGHAI).date()
    except ValueError as e:
        raise UserError(f"--date {day!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-01") from e
    config = state.config()
    names = {t.id: t.name for t in config.taxonomy.themes}
    try:
        store, records = store_for(config), records_for(config)
        try:
            b, data = write.make(store, records, period, last, fmt, base_url(config), names)
        finally:
            store.close()
    except StoreUnavailable as e:
        raise click.ClickException(f"the store is unreachable: {e}") from e
    out = out or Path(write.default_name(b, fmt))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        written = write.write_markdown_with_charts(b, out)
    else:
        out.write_bytes(data)
        written = [out]
    click.echo(
        f"Briefing {b.since} – {b.until} (exclusive): {b.total.count} posts, "
        f"{b.negative.count} negative; wrote {', '.join(str(p) for p in written)}"
    )


COMMANDS = (report,)
