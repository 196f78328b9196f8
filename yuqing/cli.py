"""The `yuqing` command: one entry point, a subcommand per job."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from yuqing.commands import (
    alerts,
    crawl,
    demo,
    evidence,
    nlp,
    query,
    report,
    service,
    store,
    users,
)
from yuqing.commands.common import CliState


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config-dir",
    type=click.Path(path_type=Path),
    default="configs",
    show_default=True,
    envvar="YUQING_CONFIG_DIR",
    help="Folder with settings.yaml, sources.yaml and taxonomy.yaml.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="YUQING_DATA_DIR",
    help="Override settings.yaml's data_dir.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="yuqing")
@click.pass_context
def main(ctx: click.Context, config_dir: Path, data_dir: Path | None, verbose: int) -> None:
    """Yuqing: watch what is said publicly about the enterprise, so problems get solved."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)  # on the handler: Scrapy resets the root logger's level
    logging.basicConfig(level=level, handlers=[handler])
    if verbose < 2:
        # The client logs each failed connection attempt with a traceback; the command
        # itself reports an unreachable store in one line.
        logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
    ctx.obj = CliState(config_dir, data_dir)


for command in (
    *demo.COMMANDS,
    *crawl.COMMANDS,
    *evidence.COMMANDS,
    *store.COMMANDS,
    *query.COMMANDS,
    *nlp.COMMANDS,
    *alerts.COMMANDS,
    *service.COMMANDS,
    *report.COMMANDS,
    *users.COMMANDS,
):
    main.add_command(command)
