"""`yuqing alerts …`: check now, backtest over history, list, acknowledge and resolve alerts."""

from __future__ import annotations

from contextlib import closing
from datetime import date, datetime
from typing import Any

import click

from alerts.backtest import MemoryRecords, backtest
from alerts.calendar import load_calendar
from alerts.check import Channels, CheckReport, run_check
from alerts.config import AlertsFile, load_alerts
from alerts.engine import KIND, Engine
from alerts.history import acknowledge, resolve
from alerts.outbox import OUTBOX_FILE, Outbox
from index.base import Store, StoreUnavailable
from index.records import RecordStore
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.commands.store import configured_store
from yuqing.config_errors import ConfigError
from yuqing.schema import SHANGHAI
from yuqing.services import departments_for, records_for
from yuqing.settings import Config


def alerts_config(config: Config) -> AlertsFile:
    try:
        return load_alerts(config.config_dir, config.taxonomy.theme_ids, departments_for(config))
    except ConfigError as e:
        raise UserError(str(e)) from e


def build_engine(config: Config, store: Store, records: RecordStore | None = None) -> Engine:
    try:
        calendar = load_calendar(config.config_dir)
    except ConfigError as e:
        raise UserError(str(e)) from e
    return Engine(
        store,
        records if records is not None else MemoryRecords(),
        alerts_config(config),
        calendar,
        departments_for(config),
        {t.id: t.name for t in config.taxonomy.themes},
    )


def open_outbox(config: Config, alerts: AlertsFile) -> Outbox:
    s = alerts.service
    return Outbox(config.data_dir / OUTBOX_FILE, s.base_backoff, s.max_backoff)


def check_alerts(config: Config, dry_run: bool = False, at: datetime | None = None) -> CheckReport:
    """Evaluate every rule now; unless `dry_run`, store the alerts, queue and deliver them."""
    at = at or datetime.now(SHANGHAI)
    with closing(configured_store(config)) as store:
        try:
            records = records_for(config)
        except StoreUnavailable as e:
            raise UserError(f"{e}. Fix: start the store, then run the check again.") from e
        engine = build_engine(config, store, records)
        if dry_run:  # reads the stored alerts (for dedup), writes nothing
            return run_check(engine, None, None, at, dry_run=True)
        with closing(open_outbox(config, engine.config)) as outbox:
            return run_check(engine, outbox, Channels(engine.config), at)


def _event_json(day: date | None, event: Any) -> dict[str, Any]:
    a = event.alert
    keys = ("id", "rule", "detector", "severity", "title", "summary", "scope", "observed")
    out = {k: a[k] for k in (*keys, "expected", "p_value", "department", "channels")}
    out.update(event=event.kind, window_start=a["window_start"], window_end=a["window_end"])
    out.update(top_words=a["top_words"], dashboard_url=a["dashboard_url"])
    return {"day": day.isoformat(), **out} if day else out


def echo_events(report: CheckReport) -> None:
    for e in report.events:
        a = e.alert
        click.echo(f"{e.kind:7} {a['severity']:8} {a['title']}  {a['summary']}")
        click.echo(
            f"        -> {a['department_name']}; channels: {', '.join(e.channels) or 'none'}"
        )
    click.echo(f"Alerts: {len(report.events)} event(s)")
    if report.delivery:
        d = report.delivery
        click.echo(f"Delivery: {d['delivered']} sent, {d['failed']} failed, {d['waiting']} waiting")


@click.group("alerts")
def alerts_group() -> None:
    """Alerts: check now, backtest over history, list, acknowledge, resolve."""


@alerts_group.command()
@click.option("--dry-run", is_flag=True, help="Evaluate only: store nothing, send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@pass_state
def check(state: CliState, dry_run: bool, as_json: bool) -> None:
    """Evaluate the rules now; store, queue and deliver the alerts (unless --dry-run)."""
    report = check_alerts(state.config(), dry_run=dry_run)
    if as_json:
        print_json(
            {"events": [_event_json(None, e) for e in report.events], "delivery": report.delivery}
        )
    else:
        echo_events(report)


@alerts_group.command("backtest")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@pass_state
def backtest_command(
    state: CliState, since: datetime, until: datetime | None, as_json: bool
) -> None:
    """Replay the rules day by day over stored posts: which alerts would have fired. Nothing
    is stored or sent."""
    config = state.config()
    last = until.date() if until else datetime.now(SHANGHAI).date()
    if last < since.date():
        raise UserError(f"--until {last} is before --since {since.date()}. Fix: swap them.")
    with closing(configured_store(config)) as store:
        events = backtest(build_engine(config, store), since.date(), last)
    if as_json:
        print_json([_event_json(day, e) for day, e in events])
        return
    for day, e in events:
        click.echo(
            f"{day} {e.kind:7} {e.alert['severity']:8} {e.alert['title']}  {e.alert['summary']}"
        )
    click.echo(f"{len(events)} alert event(s) from {since.date()} to {last}")


@alerts_group.command("list")
@click.option("--status", type=click.Choice(["open", "acknowledged", "resolved"]))
@click.option("--json", "as_json", is_flag=True)
@pass_state
def list_command(state: CliState, status: str | None, as_json: bool) -> None:
    """Stored alerts, most recently changed first."""
    records = records_for(state.config())
    docs = records.list(KIND, where={"status": status} if status else None)
    if as_json:
        print_json(docs)
        return
    for d in docs:
        click.echo(
            f"{d['id']}  {d['status']:12} {d['severity']:8} {d['fired_at'][:16]} {d['title']}"
        )


def _step(state: CliState, alert_id: str, user: str, comment: str, action: Any) -> None:
    try:
        doc = action(records_for(state.config()), alert_id, user, comment)
    except KeyError:
        raise UserError(
            f"no alert {alert_id!r}. Fix: take the id from `yuqing alerts list`."
        ) from None
    click.echo(f"{doc['id']}: {doc['status']} by {user}")


@alerts_group.command("ack")
@click.argument("alert_id")
@click.option("--user", required=True, help="Who takes it on.")
@click.option("--comment", default="", help="A note kept in the alert's history.")
@pass_state
def ack_command(state: CliState, alert_id: str, user: str, comment: str) -> None:
    """Acknowledge an alert."""
    _step(state, alert_id, user, comment, acknowledge)


@alerts_group.command("resolve")
@click.argument("alert_id")
@click.option("--user", required=True, help="Who resolved it.")
@click.option("--comment", default="", help="What was done.")
@pass_state
def resolve_command(state: CliState, alert_id: str, user: str, comment: str) -> None:
    """Resolve an alert."""
    _step(state, alert_id, user, comment, resolve)


COMMANDS = (alerts_group,)
