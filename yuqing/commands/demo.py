"""The demo: `yuqing demo-site`, `yuqing demo` and `yuqing dashboard`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

import dashboard as dashboard_package
from yuqing.commands.common import CliState, UserError, pass_state
from yuqing.commands.store import crawl_sources, echo_index_report, index_inbox
from yuqing.settings import Config

if TYPE_CHECKING:
    from yuqing.demosite.chaos import ChaosPlan

DASHBOARD_APP = Path(dashboard_package.__file__).resolve().parent / "app.py"


def _serve(config: Config, port: int | None, seed: int | None, chaos: bool = False):
    from yuqing import demosite

    site = config.settings.demo_site
    corpus = demosite.generate(seed if seed is not None else site.seed)
    plan = demosite.plan(corpus, corpus.seed) if chaos else None
    try:
        server, base_url = demosite.serve_in_thread(
            corpus, site.host, site.port if port is None else port, chaos=plan
        )
    except OSError as e:
        raise UserError(
            f"cannot serve the demo site on {site.host}:{port or site.port}: {e}. Fix: pass --port 0 for a free port."
        ) from e
    return corpus, server, base_url


@click.command("demo-site")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: settings.yaml demo_site.port; 0 picks a free one).",
)
@click.option("--seed", type=int, default=None, help="Seed for the generated posts.")
@click.option(
    "--chaos",
    is_flag=True,
    help="Serve the faults of real sites: slow pages, 500s, dropped connections, deleted posts …",
)
@pass_state
def demo_site(state: CliState, port: int | None, seed: int | None, chaos: bool) -> None:
    """Serve the fictional enterprise's public web (forum, news, message board, complaints)."""
    corpus, server, base_url = _serve(state.config(), port, seed, chaos)
    mode = " in chaos mode" if chaos else ""
    click.echo(
        f"Demo site for {corpus.enterprise}{mode}: {base_url}/ ({len(corpus.posts)} posts, seed {corpus.seed}). Ctrl-C stops it."
    )
    if chaos:
        for fault, paths in _faults(server.chaos).items():
            click.echo(f"  {fault}: {', '.join(paths)}")
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping the demo site …")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        server.server_close()


def _faults(plan: ChaosPlan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, fault in sorted(plan.faults.items()):
        found.setdefault(fault, []).append(path)
    return found


def dashboard_command(config: Config, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP),
        "--server.address", config.settings.dashboard.host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--", "--config-dir", str(config.config_dir.resolve()), "--data-dir", str(config.data_dir),
    ]  # fmt: skip


def run_dashboard(config: Config, port: int | None) -> None:
    port = port or config.settings.dashboard.port
    url = f"http://{config.settings.dashboard.host}:{port}/"
    click.echo(f"Dashboard: {url} (Ctrl-C stops it)")
    proc = subprocess.Popen(dashboard_command(config, port))
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        proc.wait()
    except KeyboardInterrupt:
        click.echo("Stopping the dashboard …")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command()
@click.option(
    "--port", type=int, default=None, help="Dashboard port (default: settings.yaml dashboard.port)."
)
@pass_state
def dashboard(state: CliState, port: int | None) -> None:
    """Open the Streamlit dashboard on the configured store."""
    run_dashboard(state.config(), port)


@click.command()
@click.option(
    "--no-dashboard",
    is_flag=True,
    help="Print a summary and exit instead of opening the dashboard.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Demo site port (0 picks a free one).",
)
@click.option("--seed", type=int, default=None, help="Seed for the generated posts.")
@click.option("--dashboard-port", type=int, default=None, help="Dashboard port.")
@pass_state
def demo(
    state: CliState,
    no_dashboard: bool,
    port: int | None,
    seed: int | None,
    dashboard_port: int | None,
) -> None:
    """Serve the demo site, crawl it, classify, index into the store, open the dashboard."""
    corpus, server, base_url = _serve(state.config(), port, seed)
    try:
        config = state.config(demo_url=base_url)
        sources = [
            s for s in config.sources if all(u.startswith(base_url + "/") for u in s.start_urls)
        ]
        if not sources:
            raise UserError(
                f"no source in {config.config_dir / 'sources.yaml'} points at the demo site; add entries whose start_urls begin with {{demo_site}}."
            )
        click.echo(
            f"Demo site for {corpus.enterprise}: {base_url}/ ({len(corpus.posts)} posts, seed {corpus.seed})"
        )
        click.echo(f"Crawling {len(sources)} source(s): {', '.join(s.name for s in sources)} …")
        crawl = crawl_sources(config, sources)
        click.echo(
            f"Crawl: {crawl.pages_fetched} pages fetched, {crawl.posts} posts, {crawl.quarantined} quarantined"
        )
        report = index_inbox(config, refresh=True)
        echo_index_report(report, config.settings.store.backend)
        if report.spooled_files:
            raise SystemExit(1)
        _summary(config)
        _check_alerts(config, corpus.today)
        _admin_account(config)
        if not no_dashboard:
            run_dashboard(config, dashboard_port)
    finally:
        server.shutdown()
        server.server_close()


def _check_alerts(config: Config, today) -> None:
    """The alert check as of the demo's snapshot (midnight starting today)."""
    from yuqing.commands.alerts import check_alerts, echo_events
    from yuqing.demosite.corpus import midnight

    echo_events(check_alerts(config, at=midnight(today)))


def _admin_account(config: Config) -> None:
    """Create (or reset) the dashboard's `admin` with a one-time password, printed once."""
    from dashboard.auth import Accounts, new_password
    from yuqing.services import records_for

    password = new_password()
    Accounts(records_for(config)).add("admin", "admin", password, replace=True, must_change=True)
    click.echo(
        f"Dashboard login: admin / {password} "
        "(one-time; change it with `yuqing users passwd admin`)"
    )


def _summary(config: Config) -> None:
    from yuqing.services import store_for

    store = store_for(config)
    try:
        total = store.count()
        themes: Counter[str] = Counter()
        sentiments: Counter[str] = Counter()
        for row in store.counts_by_day(by_theme=True):
            themes[row.theme] += row.count
        for row in store.counts_by_day(by_theme=False):
            sentiments[row.sentiment] += row.count
    finally:
        store.close()
    click.echo(f"Posts stored: {total} ({config.settings.store.backend}, {config.data_dir})")
    click.echo("Posts per theme: " + ", ".join(f"{t} {n}" for t, n in themes.most_common()))
    click.echo("Posts per sentiment: " + ", ".join(f"{s} {n}" for s, n in sentiments.most_common()))


COMMANDS = (demo_site, demo, dashboard)
