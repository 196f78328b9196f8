"""`yuqing run` (the service) and `yuqing status`.

Each cycle crawls the sources that are due (in a subprocess: Scrapy's Twisted reactor cannot
restart in one process), classifies and indexes the inbox, checks the alerts and delivers the
outbox, then records itself in `DATA_DIR/service/cycles.jsonl` and prints one line. Between
cycles it only retries deliveries. SIGTERM or Ctrl-C lets the current step finish, then exits 0.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from alerts.calendar import load_calendar
from alerts.check import Channels
from alerts.config import AlertsFile
from index.base import StoreUnavailable
from yuqing.commands.alerts import alerts_config, check_alerts, open_outbox
from yuqing.commands.common import CliState, UserError, pass_state, print_json
from yuqing.commands.store import index_inbox
from yuqing.config_errors import ConfigError
from yuqing.pipeline import DataPaths
from yuqing.schema import SHANGHAI
from yuqing.settings import Config

logger = logging.getLogger(__name__)

CYCLES_FILE = Path("service") / "cycles.jsonl"
KEEP_CYCLES = 500
TICK = 60.0  # longest sleep: failed deliveries are retried at least this often


def crawl_command(config: Config, names: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "yuqing", "--config-dir", str(config.config_dir.resolve())]
    cmd += ["--data-dir", str(config.data_dir), "crawl", "--no-index"]
    for name in names:
        cmd += ["--source", name]
    return cmd


def intervals(config: Config, alerts: AlertsFile, default: float | None) -> dict[str, float]:
    base = default if default is not None else alerts.service.interval
    return {
        s.name: alerts.service.source_intervals.get(s.name, base)
        for s in config.sources
        if s.enabled
    }


def record_cycle(data_dir: Path, cycle: dict[str, Any]) -> None:
    path = data_dir / CYCLES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    lines = [*lines[-(KEEP_CYCLES - 1) :], json.dumps(cycle, ensure_ascii=False)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def run_cycle(config: Config, due: list[str], period: str | None) -> dict[str, Any]:
    """Crawl `due`, index, check alerts, deliver; what happened, for the cycle record."""
    started = time.monotonic()
    cycle: dict[str, Any] = {"started_at": datetime.now(SHANGHAI).isoformat(), "sources": due}
    cycle["sensitive_period"] = period
    errors = []
    if due:
        proc = subprocess.run(crawl_command(config, due), capture_output=True, text=True)
        cycle["crawl_rc"] = proc.returncode
        if proc.returncode != 0:
            errors.append(f"crawl exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    report = index_inbox(config)
    cycle.update(indexed=report.posts, created=report.created, spooled=report.spooled_files)
    if report.error:
        errors.append(f"index: {report.error}")
    try:
        check = check_alerts(config)
        cycle["alerts"] = [f"{e.kind}:{e.alert['id']}" for e in check.events]
        cycle["delivery"] = check.delivery
    except (
        UserError,
        ConfigError,
        StoreUnavailable,
    ) as e:  # the store is down: deliver what is queued anyway
        errors.append(f"alerts: {e}")
        cycle["delivery"] = deliver_outbox(config)
    cycle.update(errors=errors, seconds=round(time.monotonic() - started, 2))
    cycle["finished_at"] = datetime.now(SHANGHAI).isoformat()
    return cycle


def deliver_outbox(config: Config) -> dict[str, int]:
    alerts = alerts_config(config)
    with closing(open_outbox(config, alerts)) as outbox:
        return outbox.deliver(Channels(alerts))


def _line(c: dict[str, Any]) -> str:
    d = c.get("delivery") or {}
    return (
        f"{c['finished_at'][:19]} cycle: crawled {','.join(c['sources']) or '-'}; "
        f"indexed {c['indexed']} ({c['created']} new, {c['spooled']} spooled); "
        f"alerts {len(c.get('alerts', []))}; sent {d.get('delivered', 0)}, "
        f"failed {d.get('failed', 0)}, waiting {d.get('waiting', 0)}; {c['seconds']}s"
        + (f"; period {c['sensitive_period']}" if c["sensitive_period"] else "")
        + (f"; errors: {' | '.join(c['errors'])}" if c["errors"] else "")
    )


@click.command("run")
@click.option("--interval", type=click.FloatRange(min=1), help="Seconds between crawls of each source (default: alerts.yaml service.interval).")  # fmt: skip
@click.option("--once", is_flag=True, help="Run one cycle over every source and exit.")
@pass_state
def run(state: CliState, interval: float | None, once: bool) -> None:
    """Run as a service: crawl each source on its interval, index, check alerts, deliver."""
    config = state.config()
    alerts = alerts_config(config)
    try:
        calendar = load_calendar(config.config_dir)
    except ConfigError as e:
        raise UserError(str(e)) from e
    every = intervals(config, alerts, interval)
    if not every:
        raise UserError(f"no enabled source in {config.config_dir / 'sources.yaml'}. Fix: add one.")
    stop = threading.Event()
    handler = lambda signum, frame: stop.set()  # noqa: E731  (finish the step, then exit)
    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    next_due = dict.fromkeys(every, time.monotonic())
    click.echo(f"yuqing run: {len(every)} source(s), data in {config.data_dir}; SIGTERM stops it")
    try:
        while not stop.is_set():
            now = time.monotonic()
            period = calendar.period(datetime.now(SHANGHAI))
            factor = calendar.interval_factor if period else 1.0
            due = [name for name, at in next_due.items() if at <= now]
            if due:
                for name in due:
                    next_due[name] = now + every[name] * factor
                cycle = run_cycle(config, due, period)
                record_cycle(config.data_dir, cycle)
                click.echo(_line(cycle))
                if once:
                    break
            else:
                deliver_outbox(config)
            wait = min(next_due.values()) - time.monotonic()
            stop.wait(max(0.0, min(wait, TICK)))
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    click.echo("yuqing run: stopped")


def _jsonl_count(folder: Path) -> tuple[int, int]:
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    lines = 0
    for f in files:
        with f.open(encoding="utf-8") as fh:
            lines += sum(1 for line in fh if line.strip())
    return len(files), lines


def service_status(config: Config, last: int = 5) -> dict[str, Any]:
    paths = DataPaths(config.data_dir)
    path = config.data_dir / CYCLES_FILE
    cycles = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()[-last:]] if path.is_file() else []  # fmt: skip
    queues = {}
    for name, folder in (
        ("inbox", paths.inbox),
        ("quarantine", paths.quarantine),
        ("spool", config.data_dir / "spool"),
    ):
        files, items = _jsonl_count(folder)
        queues[name] = {"files": files, "items": items}
    with closing(open_outbox(config, alerts_config(config))) as outbox:
        backlog = outbox.backlog()
        errors = {r["channel"]: r["last_error"] for r in outbox.rows() if r["last_error"] and not r["delivered_at"]}  # fmt: skip
    return {"cycles": cycles, "queues": queues, "outbox": backlog, "outbox_errors": errors}


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_state
def status(state: CliState, as_json: bool) -> None:
    """The service's last cycles, the queues (inbox, quarantine, spool) and the outbox backlog."""
    report = service_status(state.config())
    if as_json:
        print_json(report)
        return
    click.echo("Last cycles:" if report["cycles"] else "No cycle yet (start `yuqing run`).")
    for c in report["cycles"]:
        click.echo("  " + _line(c))
    q = report["queues"]
    click.echo(
        "Queues: "
        + ", ".join(f"{k} {v['files']} file(s) / {v['items']} item(s)" for k, v in q.items())
    )
    backlog = report["outbox"]
    click.echo("Outbox: " + (", ".join(f"{k} {n} waiting" for k, n in backlog.items()) or "empty"))
    for channel, error in report["outbox_errors"].items():
        click.echo(f"  {channel}: last error: {error}")


COMMANDS = (run, status)
