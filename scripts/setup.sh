#!/usr/bin/env bash
# Set up Yuqing on a fresh machine: a virtualenv in .venv with the project installed.
#   bash scripts/setup.sh         the app (then: .venv/bin/yuqing demo)
#   bash scripts/setup.sh --dev   the app plus the test and lint tools (and redis-server, apt)
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

# System packages, where apt and root are at hand (Debian/Ubuntu): a CJK font for the charts in
# briefings; with --dev, headless Chromium and its driver for the browser test, and Redis for
# the distributed-crawl test (tests/test_distributed.py).
apt_packages="fonts-noto-cjk"
[ -n "$extras" ] && apt_packages="$apt_packages chromium chromium-driver redis-server"
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  missing=""
  for p in $apt_packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "setup: apt-get install$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  fi
else
  echo "setup: not root or no apt-get; install yourself if missing: $apt_packages"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
echo "setup: installing yuqing${extras} (the first run downloads torch, which is large)"
.venv/bin/python -m pip install --quiet --progress-bar off -e ".${extras}"
echo "setup: done; the command is .venv/bin/yuqing"
