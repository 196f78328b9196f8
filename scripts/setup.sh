#!/usr/bin/env bash
# Set up Yuqing on a fresh machine: a virtualenv in .venv with the project installed.
#   bash scripts/setup.sh         the app (then: .venv/bin/yuqing demo)
#   bash scripts/setup.sh --dev   the app plus the test and lint tools
# Re-running is cheap: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Yuqing needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

extras=""
case "${1:-}" in
  --dev) extras="[dev]" ;;
  "") ;;
  *) echo "usage: $0 [--dev]" >&2; exit 2 ;;
esac

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
echo "setup: installing yuqing${extras} (the first run downloads torch, which is large)"
.venv/bin/python -m pip install --quiet --progress-bar off -e ".${extras}"
echo "setup: done; the command is .venv/bin/yuqing"
