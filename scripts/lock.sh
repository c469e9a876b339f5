#!/usr/bin/env bash
# Regenerates the locks from pyproject.toml, with a hash for every file:
#   requirements/lock.txt      what the bot runs on (the Dockerfile, scripts/setup.sh)
#   requirements/lock-dev.txt  that and the "dev" extra: tests, lint, types, tools (CI)
# One lock serves every platform and Python 3.11 and newer (uv's universal resolution).
# Pins already in a lock are kept unless pyproject.toml no longer allows them; pass
# `--upgrade` to take the newest allowed versions of everything, or
# `--upgrade-package NAME` for one. After changing a dependency in pyproject.toml:
# run this, then commit pyproject.toml and both locks together.
# UV may name a uv binary; by default .venv/bin/uv (bash scripts/setup.sh dev), else PATH's.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-.venv/bin/uv}
if [ ! -x "$uv" ]; then
  uv=$(command -v uv) || { echo "lock: uv is needed: run bash scripts/setup.sh dev" >&2; exit 2; }
fi
export UV_PYTHON_DOWNLOADS=never
compile() {
  "$uv" pip compile pyproject.toml --quiet --universal --generate-hashes \
    --python-version 3.11 \
    --custom-compile-command "bash scripts/lock.sh" "$@"
}
compile --output-file requirements/lock.txt "$@"
# The dev lock starts from the runtime lock's pins, so the two never disagree.
compile --extra dev --constraint requirements/lock.txt --output-file requirements/lock-dev.txt "$@"
echo "lock: wrote requirements/lock.txt and requirements/lock-dev.txt"
