"""Run the `yuqing` command as a user does: a subprocess, with its own config and data folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TEST_KEY = "test-key-not-secret"


def command(config_dir: Path, data_dir: Path, *args: str) -> list[str]:
    """The command line of `yuqing --config-dir … --data-dir … ARGS`."""
    cmd = [sys.executable, "-m", "yuqing", "--config-dir", str(config_dir)]
    return [*cmd, "--data-dir", str(data_dir), *args]


def environment() -> dict[str, str]:
    return {**os.environ, "YUQING_PSEUDONYM_KEY": TEST_KEY}


def yuqing(
    config_dir: Path, data_dir: Path, *args: str, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(config_dir, data_dir, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(),
    )
