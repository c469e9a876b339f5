#!/usr/bin/env bash
# Sets up and runs the whole test suite, with lint and type checks first.
# PostgreSQL parts run when TEST_DATABASE_URL is set, and are skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
