"""Command line: ``volunteer-bot run | sandbox | migrate | stations | grant | tally |
audit | export | report | backup | copy-db``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bot import logs
from ui.settings import SUPPORTED_LOCALES, Settings, describe_error


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="volunteer-bot", description="The volunteer station bot.")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve Telegram by long polling (needs BOT_TOKEN)")
    commands.add_parser(
        "serve",
        help="serve Telegram by webhook (needs BOT_TOKEN, WEBHOOK_URL, WEBHOOK_SECRET); "
        "several may run behind one address",
    )
    sandbox = commands.add_parser("sandbox", help="chat with the bot in this terminal, offline")
    sandbox.add_argument("--user-id", type=int, default=10001, help="your pretend Telegram id")
    sandbox.add_argument("--language", default="zh-hans", help="your pretend client language")
    commands.add_parser("migrate", help="bring the database schema up to date")
    stations = commands.add_parser("stations", help="the station tree")
    station_commands = stations.add_subparsers(dest="stations_command", required=True)
    importer = station_commands.add_parser("import", help="create or update stations from YAML")
    importer.add_argument("file")
    station_commands.add_parser("list", help="print the station tree")
    grant = commands.add_parser("grant", help="grant a role on a station")
    grant.add_argument("user_id", type=int)
    grant.add_argument("role", choices=["staff", "coordinator"])
    grant.add_argument("station_code")
    tally = commands.add_parser(
        "tally", help="print a station's tally (its whole subtree), optionally as files"
    )
    tally.add_argument("--station", required=True, metavar="CODE", help="the station's code")
    tally.add_argument("--week", metavar="YYYY-Www", help="an ISO week (default: last week)")
    tally.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD")
    tally.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD")
    tally.add_argument("--xlsx", metavar="FILE", help="also write the spreadsheet here")
    tally.add_argument("--png", metavar="FILE", help="also write the chart here")
    tally.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help="the language of the text and files (default: DEFAULT_LOCALE, zh_CN unless set)",
    )
    add_audit_parser(commands)
    add_export(commands)
    add_report_parser(commands)
    add_database_copies(commands)
    return root


def add_audit_parser(commands: Any) -> None:
    audit = commands.add_parser(
        "audit", help="print the audit log of a station and its subtree since a day"
    )
    audit.add_argument("--station", required=True, metavar="CODE", help="the station's code")
    audit.add_argument(
        "--since", required=True, metavar="DATE", help="first day, YYYY-MM-DD (station time)"
    )
    audit.add_argument("--csv", metavar="FILE", help="also write the entries as CSV here")
    audit.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help="the language of the sentences (default: DEFAULT_LOCALE, zh_CN unless set)",
    )


def add_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``export hours``: the hours for the national volunteer system."""
    export = commands.add_parser("export", help="export records for other systems")
    what = export.add_subparsers(dest="export_command", required=True)
    hours = what.add_parser(
        "hours",
        help="one row per person and activity of a station's subtree (credited hours)",
    )
    hours.add_argument("--station", required=True, metavar="CODE", help="the station's code")
    hours.add_argument("--from", dest="first", required=True, metavar="DATE", help="YYYY-MM-DD")
    hours.add_argument("--to", dest="last", required=True, metavar="DATE", help="YYYY-MM-DD")
    hours.add_argument(
        "--mapping", metavar="FILE", help="the column layout (YAML; default: the one shipped)"
    )
    hours.add_argument(
        "--out", metavar="FILE", help="write here (.csv or .xlsx); default: CSV to standard output"
    )


def add_report_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``volunteer-bot report --station CODE --month 2026-11 | --quarter 2026-Q3 |
    --year 2026 [--format text|png|xlsx] [--out FILE]``."""
    report = commands.add_parser(
        "report",
        help="a station's monthly, quarterly or yearly report (its whole subtree)",
    )
    report.add_argument("--station", required=True, metavar="CODE", help="the station's code")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", metavar="YYYY-MM", help="a calendar month, e.g. 2026-11")
    which.add_argument("--quarter", metavar="YYYY-Qn", help="a quarter, e.g. 2026-Q3")
    which.add_argument("--year", metavar="YYYY", help="a calendar year, e.g. 2026")
    report.add_argument(
        "--format",
        choices=("text", "png", "xlsx"),
        default="text",
        help="text (printed, or written to --out), png or xlsx (written to --out, "
        "default report-CODE-PERIOD.png/.xlsx)",
    )
    report.add_argument("--out", metavar="FILE", help="where to write the report")
    report.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help="the language of the report (default: DEFAULT_LOCALE, zh_CN unless set)",
    )


def add_database_copies(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``backup FILE [--force]`` and ``copy-db --to URL``."""
    backup = commands.add_parser(
        "backup", help="copy the SQLite database to a file, safely while the bot runs"
    )
    backup.add_argument("file", metavar="FILE", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    copy = commands.add_parser(
        "copy-db",
        help="copy every row of the database (DATABASE_URL) into another, empty one "
        "(e.g. SQLite to PostgreSQL)",
    )
    copy.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="the database to fill, e.g. postgresql://user:pass@host/db (migrated first)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except (ValidationError, ValueError) as exc:
        print(f"volunteer-bot: {describe_error(exc)}", file=sys.stderr)
        return 2
    # The sandbox's terminal is for the conversation: only warnings and errors there.
    level = "WARNING" if args.command == "sandbox" else settings.log_level.upper()
    logs.configure(level, settings.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # plugin chatter on import
    from bot import cli  # imported late: settings problems are reported first
    from bot.database import UsageError

    try:
        return asyncio.run(cli.dispatch(args, settings))
    except UsageError as exc:
        print(f"volunteer-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
