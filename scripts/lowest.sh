#!/usr/bin/env bash
# Tests the lowest versions pyproject.toml allows: installs them into .venv-lowest
# (uv's --resolution lowest-direct: each dependency named in pyproject.toml at its
# minimum, and what they pull in at the newest version that fits) and runs the unit,
# storage and catalog tests (SQLite only), so a minimum set too low fails here; the
# handler and end-to-end tests run on the locked versions (scripts/test.sh). The bot runs from
# this checkout there, not installed. Needs the dev setup (for uv) and PyPI or uv's
# cache. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never  # the interpreter of .venv, never a downloaded one
venv=.venv-lowest
uv=.venv/bin/uv
rm -rf "$venv"
"$uv" venv --quiet --python .venv/bin/python "$venv"
VIRTUAL_ENV=$venv "$uv" pip install --quiet --resolution lowest-direct \
  --requirement pyproject.toml --extra test
echo "lowest: $(VIRTUAL_ENV=$venv "$uv" pip freeze --quiet | tr '\n' ' ')"
exec env -u TEST_DATABASE_URL "$venv/bin/python" -m pytest -p no:cacheprovider \
  tests/unit tests/storage tests/test_locales.py tests/test_cli_tally.py \
  tests/test_import_rules.py "$@"
