#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs the bot into it, exactly as locked:
# `scripts/setup.sh` installs requirements/lock.txt (what the bot runs on),
# `scripts/setup.sh dev` requirements/lock-dev.txt (also tests, lint, types, tools).
# Every file is checked against its hash; then the bot itself, editable, without
# dependencies. Needs only Python 3.11+ and pip. Safe to run again: it does nothing
# when the lock, pyproject.toml and the interpreter are what it installed last time.
# The locks come from scripts/lock.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: Python 3.11 or newer is needed (found: $("$python" --version 2>&1))" >&2
  exit 2
fi
case "${1:-}" in
  "") lock=requirements/lock.txt build=() ;;
  # The dev lock has the build backend: the editable install needs no download.
  dev) lock=requirements/lock-dev.txt build=(--no-build-isolation) ;;
  *) echo "setup: unknown extra '$1' (use: scripts/setup.sh [dev])" >&2; exit 2 ;;
esac
pip=(.venv/bin/python -m pip --quiet --disable-pip-version-check)
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  "${pip[@]}" install --upgrade pip
fi
stamp=.venv/.setup-stamp
wanted=$(cat "$lock" pyproject.toml <(.venv/bin/python -VV) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock $wanted" ]; then
  exit 0
fi
"${pip[@]}" install --require-hashes --requirement "$lock"
"${pip[@]}" install --no-deps "${build[@]}" --editable .
echo "$lock $wanted" >"$stamp"
