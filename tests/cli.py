"""Run the `yuqing` command as a user does: a subprocess, with its own config and data folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TEST_KEY = "test-key-not-secret"


def yuqing(
    config_dir: Path, data_dir: Path, *args: str, timeout: int = 300
) -> subprocess.CompletedProcess:
    env = {**os.environ, "YUQING_PSEUDONYM_KEY": TEST_KEY}
    cmd = [
        sys.executable,
        "-m",
        "yuqing",
        "--config-dir",
        str(config_dir),
        "--data-dir",
        str(data_dir),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
