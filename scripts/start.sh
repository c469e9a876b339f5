#!/usr/bin/env bash
# Sets up and starts the bot. With BOT_TOKEN set (environment or .env) it serves
# Telegram by long polling; without one it starts the offline sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
token=${BOT_TOKEN:-}
if [ -z "$token" ] && [ -f .env ]; then
  token=$(sed -n 's/^BOT_TOKEN=//p' .env | tail -n 1)
fi
if [ -n "$token" ]; then
  exec .venv/bin/volunteer-bot run "$@"
fi
exec .venv/bin/volunteer-bot sandbox "$@"
