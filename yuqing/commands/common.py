"""What every subcommand shares: the loaded config, user errors, JSON output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click

from yuqing.config_errors import ConfigError
from yuqing.settings import Config, load_config


class UserError(click.ClickException):
    """A mistake the user can fix: shown as one message, exit code 2, no traceback."""

    exit_code = 2


@dataclass
class CliState:
    config_dir: Path
    data_dir: Path | None

    def config(self, demo_url: str | None = None) -> Config:
        try:
            return load_config(self.config_dir, data_dir=self.data_dir, demo_url=demo_url)
        except ConfigError as e:
            raise UserError(str(e)) from e


pass_state = click.make_pass_decorator(CliState)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
