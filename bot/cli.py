"""What each command line verb does."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import locks, sentry, webhook
from bot.app import build_bot, build_dispatcher, make_app_engine, poll
from bot.database import UsageError, load_tree, prepare, safe_url
from services import (
    coordinator_reports,
    hours_export,
    report_periods,
    roles,
    stations,
    tallies,
    tally_details,
)
from services.errors import DomainError, InvalidInput
from services.report_periods import ReportPeriod, Span
from storage import copy as copies
from storage import migrate
from storage.db import first_line, make_engine, make_sessionmaker
from storage.models import Station
from storage.types import utcnow
from ui.i18n import MissingCatalog, make_i18n
from ui.settings import Settings


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.command == "migrate":
            await prepare(settings)
            print(f"database is up to date: {await migrate.current(settings.database_url)}")
            return 0
        if args.command == "run":
            return await run(settings)
        if args.command == "serve":
            return await serve(settings)
        if args.command == "sandbox":
            from bot.sandbox import run_sandbox

            return await run_sandbox(settings, user_id=args.user_id, language=args.language)
        if args.command == "stations" and args.stations_command == "import":
            return await import_stations(settings, Path(args.file))
        if args.command == "stations":
            return await list_stations(settings)
        if args.command == "grant":
            return await grant(settings, args.user_id, args.role, args.station_code)
        if args.command == "tally":
            return await tally(settings, args)
        if args.command == "audit":
            return await audit_log(settings, args)
        if args.command == "export":
            return await export_hours(settings, args)
        if args.command == "report":
            return await report(settings, args)
        if args.command == "backup":
            return await backup(settings, Path(args.file), force=args.force)
        if args.command == "copy-db":
            return await copy_db(settings, args.target)
    except MissingCatalog as exc:
        raise UsageError(str(exc)) from exc
    except (OperationalError, OSError, socket.gaierror) as exc:
        raise UsageError(
            f"cannot reach the database {safe_url(settings)}: {first_line(exc)}"
        ) from exc
    except DomainError as exc:
        raise UsageError(f"{exc.code} {exc.params or ''}".strip()) from exc
    except copies.CopyRefused as exc:
        raise UsageError(str(exc)) from exc
    raise UsageError(f"unknown command {args.command}")


async def run(settings: Settings) -> int:
    if settings.bot_token is None:
        raise UsageError(
            "BOT_TOKEN is not set. Set it to serve Telegram, or try `volunteer-bot sandbox`."
        )
    await prepare(settings, apart=True)
    sentry.start(settings)
    token = settings.bot_token.get_secret_value()
    try:
        async with locks.hold(settings.database_url, "poller", token):
            await _poll(settings, token)
    except locks.Taken as exc:
        raise UsageError(
            f"another `volunteer-bot run` is already polling bot {locks.bot_id(token)} "
            f"on this database ({exc.holder}); stop it first"
        ) from exc
    return 0


async def serve(settings: Settings) -> int:
    if settings.bot_token is None:
        raise UsageError("BOT_TOKEN is not set: `serve` answers Telegram for a bot.")
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise UsageError(
            "`serve` needs WEBHOOK_URL (the public https:// address Telegram posts "
            "updates to) and WEBHOOK_SECRET (1 to 256 characters of A-Z, a-z, 0-9, _ "
            "and -); `run` polls instead"
        )
    token = settings.bot_token.get_secret_value()
    if "user_cache_size" not in settings.model_fields_set:
        # Several workers may serve: one's cached rows would miss another's writes.
        settings = settings.model_copy(update={"user_cache_size": 0})
    await prepare(settings, apart=True)
    sentry.start(settings)
    address = f"{settings.webhook_listen_host}:{settings.webhook_listen_port}"
    async with _telegram_app(settings, token, elect_sender=True) as (bot, dispatcher):
        try:
            await webhook.serve(dispatcher, bot, settings)
        except TelegramBadRequest as exc:
            raise UsageError(
                f"Telegram refused the webhook {settings.webhook_url}: {exc.message}"
            ) from exc
        except OSError as exc:
            raise UsageError(f"cannot listen on {address}: {exc.strerror or exc}") from exc
    return 0


@asynccontextmanager
async def _telegram_app(
    settings: Settings, token: str, *, elect_sender: bool = False
) -> AsyncIterator[tuple[Bot, Dispatcher]]:
    """The bot and dispatcher of `run` and `serve` on their own engine, for the
    block; what Telegram answers when it refuses the token or cannot be reached
    becomes one line."""
    engine = make_app_engine(settings)
    bot = telegram_bot(settings, token)
    dispatcher = build_dispatcher(
        settings=settings, sessionmaker=make_sessionmaker(engine), elect_sender=elect_sender
    )
    try:
        yield bot, dispatcher
    except TelegramUnauthorizedError as exc:
        raise UsageError("Telegram refused BOT_TOKEN: check the token") from exc
    except TelegramNetworkError as exc:
        raise UsageError(unreachable(settings, exc)) from exc
    finally:
        await bot.session.close()
        await engine.dispose()


def telegram_bot(settings: Settings, token: str) -> Bot:
    """The bot of `run` and `serve`: TELEGRAM_API_BASE, through TELEGRAM_PROXY if set."""
    proxy = settings.telegram_proxy
    return build_bot(
        token, settings.telegram_api_base, proxy=proxy.get_secret_value() if proxy else None
    )


def unreachable(settings: Settings, exc: TelegramNetworkError) -> str:
    """One line: the Bot API (and the proxy on the way) could not be reached."""
    through = f" through the proxy {settings.proxy_shown()}" if settings.telegram_proxy else ""
    return f"cannot reach {settings.telegram_api_base}{through}: {exc.message}"


async def _poll(settings: Settings, token: str) -> None:
    async with _telegram_app(settings, token) as (bot, dispatcher):
        await poll(dispatcher, bot, settings)


async def import_stations(settings: Settings, path: Path) -> int:
    tree = load_tree(path)
    await prepare(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            try:
                result = await stations.import_tree(session, tree)
            except DomainError as exc:
                raise UsageError(f"{path}: {exc.params.get('detail', exc.code)}") from exc
    finally:
        await engine.dispose()
    print(f"stations: {result.created} created, {result.updated} updated")
    return 0


async def list_stations(settings: Settings) -> int:
    await prepare(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            every = await stations.all_stations(session)
    finally:
        await engine.dispose()
    by_parent: dict[int | None, list[Station]] = {}
    for station in every:
        by_parent.setdefault(station.parent_id, []).append(station)

    def show(parent: int | None, depth: int) -> None:
        for station in by_parent.get(parent, []):
            approval = "  [approval]" if station.requires_approval else ""
            print(f"{'  ' * depth}{station.code}  {station.name}  ({station.level}){approval}")
            show(station.id, depth + 1)

    if not every:
        print("no stations yet: load some with `volunteer-bot stations import FILE`")
    show(None, 0)
    return 0


async def grant(settings: Settings, user_id: int, role: str, station_code: str) -> int:
    await prepare(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            _, created = await roles.grant(
                session, user_id=user_id, role=role, station_code=station_code, actor_id=None
            )
    finally:
        await engine.dispose()
    print(f"{'granted' if created else 'already held'}: {user_id} {role} {station_code}")
    return 0


@asynccontextmanager
async def station_session(
    settings: Settings, code: str
) -> AsyncIterator[tuple[AsyncSession, int, ZoneInfo]]:
    """A session on the database, the id of the station with this code and the station's
    time zone; the engine goes away with the block."""
    await prepare(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            tree = await stations.tree(session)
            station = next((s for s in tree.stations.values() if s.code == code), None)
            if station is None or station.id is None:
                raise UsageError(f"no station with code {code!r}")
            yield session, station.id, tree.zone(station.id, settings.timezone)
    finally:
        await engine.dispose()


# --- tally ----------------------------------------------------------------------------

_PERIOD_ERRORS = {
    "tally.bad_week": "no such ISO week (weeks run from 1 to 52 or 53, e.g. 2026-W47)",
    "tally.bad_period": "dates look like 2026-11-01, weeks like 2026-W47",
    "tally.period_reversed": "--to comes before --from",
    "tally.period_too_long": "a period is at most {days} days",
}


def tally_period(args: argparse.Namespace, today: date) -> tallies.Period:
    """--week, or --from and --to, or last week."""
    if args.week and (args.first or args.last):
        raise UsageError("give --week, or --from and --to, not both")
    if bool(args.first) != bool(args.last):
        raise UsageError("--from and --to go together")
    try:
        if args.week:
            return tallies.parse_period(args.week)
        if args.first:
            return tallies.parse_period(f"{args.first} {args.last}")
    except InvalidInput as exc:
        given = args.week or f"{args.first} {args.last}"
        reason = _PERIOD_ERRORS.get(exc.code, exc.code).format(**exc.params)
        raise UsageError(f"bad period {given!r}: {reason}") from exc
    return tallies.week_of(today).previous()


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


async def tally(settings: Settings, args: argparse.Namespace) -> int:
    """Print the tally (plain text) in ``--lang`` or DEFAULT_LOCALE, and write the files
    asked for in the same language."""
    # Imported here: the Telegram layer's text and files, needed by this verb only.
    from reports import tally_chart, tally_text, tally_xlsx

    if args.png and tally_chart.find_chart_font() is None:
        raise UsageError("chart not available: no Chinese font found (install fonts-noto-cjk)")
    async with station_session(settings, args.station) as (session, station_id, zone):
        now = utcnow()
        today = now.astimezone(zone).date()
        period = tally_period(args, today)
        result = await tallies.tally(
            session, station_id=station_id, period=period, zone=zone, now=now
        )
        records = (
            await tally_details.details(
                session, station_id=station_id, period=period, zone=zone, now=now
            )
            if args.xlsx
            else None
        )
    locale = args.lang or settings.default_locale
    i18n = make_i18n(settings.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        print(tally_text.tally_text(result, locale=locale, today=today, markup=False, limit=10**9))
        if records is not None:
            _write(
                Path(args.xlsx),
                tally_xlsx.render_xlsx(result, records, locale=locale, zone=zone, today=today),
            )
            print(f"spreadsheet: {args.xlsx}")
        if args.png:
            font = tally_chart.find_chart_font()
            assert font is not None  # checked above
            chart = tally_chart.render_png(tally_chart.chart_data(result, locale), font)
            _write(Path(args.png), chart)
            print(f"chart: {args.png}")
    return 0


# --- audit ----------------------------------------------------------------------------


async def audit_log(settings: Settings, args: argparse.Namespace) -> int:
    """Print every audit entry of a station and its subtree from --since on (oldest
    first), one sentence each in --lang or DEFAULT_LOCALE; --csv also writes them."""
    # Imported here: the sentences are the Telegram layer's, needed by this verb only.
    import csv
    import io

    from services import audit_log as audit_entries
    from ui import audit_text

    try:
        first = date.fromisoformat(args.since)
    except ValueError as exc:
        raise UsageError(f"bad date {args.since!r}: dates look like 2026-11-01") from exc
    async with station_session(settings, args.station) as (session, _, zone):
        since = datetime.combine(first, time(), tzinfo=zone)
        _, entries = await audit_entries.since(
            session, station_code=args.station, since=since, default_zone=settings.timezone
        )
    locale = args.lang or settings.default_locale
    i18n = make_i18n(settings.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        rows = [
            (
                entry.at.astimezone(entry.zone).isoformat(timespec="seconds"),
                entry.station.code if entry.station is not None else "",
                str(entry.actor_id or ""),
                entry.action,
                audit_text.sentence(entry, locale, markup=False),
            )
            for entry in entries
        ]
        for entry, row in zip(entries, rows, strict=True):
            print(f"{audit_text.when(entry, locale)}  {row[1]}  {row[4]}")
        if not entries:
            print(f"no audit entries for {args.station} since {first.isoformat()}")
    if args.csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["at", "station", "actor_id", "action", "what"])
        writer.writerows(rows)
        _write(Path(args.csv), out.getvalue().encode("utf-8-sig"))
        print(f"csv: {args.csv}")
    return 0


# --- export hours (for the national volunteer system) ---------------------------------


def export_mapping(path: str | None) -> hours_export.Mapping:
    """The column mapping: the file given, else the default shipped with the bot."""
    if path is None:
        return hours_export.default_mapping()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"mapping {path}: not UTF-8 text") from exc
    except OSError as exc:
        raise UsageError(f"cannot read the mapping {path}: {exc.strerror or exc}") from exc
    try:
        return hours_export.parse_mapping(text)
    except InvalidInput as exc:
        raise UsageError(f"mapping {path}: {exc.params.get('detail', exc.code)}") from exc


def export_period(first: str, last: str) -> tallies.Period:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise UsageError(f"bad date {exc}: dates look like 2026-11-01") from exc
    if end < start:
        raise UsageError("--to comes before --from")
    return tallies.Period(start, end)


async def export_hours(settings: Settings, args: argparse.Namespace) -> int:
    """Write one row per person and activity of a station's subtree over a period:
    CSV when --out ends in .csv or is missing (then to standard output), else XLSX."""
    from reports import hours_export as export_files

    mapping = export_mapping(args.mapping)
    period = export_period(args.first, args.last)
    out = Path(args.out) if args.out else None
    csv_file = out is None or out.suffix.lower() == ".csv"
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"--out {out}: the file name must end in .csv or .xlsx")
    async with station_session(settings, args.station) as (session, station_id, zone):
        rows = await hours_export.rows(
            session, station_id=station_id, period=period, zone=zone, now=utcnow()
        )
    i18n = make_i18n(settings.default_locale)
    with i18n.context(), i18n.use_locale(mapping.language):
        data = export_files.render(rows, mapping, csv_file=csv_file)
    if out is None:
        sys.stdout.write(data.decode("utf-8-sig"))
        return 0
    _write(out, data)
    print(f"{len(rows)} rows: {out}", file=sys.stderr)
    return 0


# --- report ---------------------------------------------------------------------------

_REPORT_PERIOD_HELP = "months look like 2026-11, quarters like 2026-Q3, years like 2026"


def report_period(args: argparse.Namespace) -> ReportPeriod:
    """--month, --quarter or --year (argparse makes sure there is exactly one)."""
    given = args.month or args.quarter or args.year
    try:
        chosen = report_periods.parse(given)
    except InvalidInput as exc:
        raise UsageError(f"bad period {given!r}: {_REPORT_PERIOD_HELP}") from exc
    expected = Span.MONTH if args.month else Span.QUARTER if args.quarter else Span.YEAR
    if chosen.span is not expected:
        raise UsageError(f"bad period {given!r}: {_REPORT_PERIOD_HELP}")
    return chosen


async def report(settings: Settings, args: argparse.Namespace) -> int:
    """Print (or write to --out) the report as plain text, or write it as a chart or
    a spreadsheet, in ``--lang`` or DEFAULT_LOCALE."""
    # Imported here: the report's text and files, needed by this verb only.
    from reports import report_chart, report_text, report_xlsx, tally_chart

    period = report_period(args)
    font = tally_chart.find_chart_font() if args.format == "png" else None
    if args.format == "png" and font is None:
        raise UsageError("chart not available: no Chinese font found (install fonts-noto-cjk)")
    async with station_session(settings, args.station) as (session, station_id, zone):
        now = utcnow()
        if period.period.first > now.astimezone(zone).date():
            raise UsageError(f"{period.code} has not begun yet")
        result = await coordinator_reports.report(
            session, station_id=station_id, period=period, zone=zone, now=now
        )
    locale = args.lang or settings.default_locale
    i18n = make_i18n(settings.default_locale)
    stem = f"report-{args.station}-{period.code}"
    with i18n.context(), i18n.use_locale(locale):
        if args.format == "text":
            text = report_text.report_text(result, locale=locale, markup=False, limit=10**9)
            if not args.out:
                print(text)
                return 0
            _write(Path(args.out), (text + "\n").encode())
        elif args.format == "png":
            assert font is not None  # checked above
            data = report_chart.chart_data(result, locale)
            _write(Path(args.out or stem + ".png"), report_chart.render_png(data, font))
        else:
            _write(Path(args.out or stem + ".xlsx"), report_xlsx.render_xlsx(result, locale=locale))
    print(f"report: {args.out or stem + '.' + args.format}")
    return 0


# --- backup and copy-db ---------------------------------------------------------------


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


async def backup(settings: Settings, path: Path, *, force: bool) -> int:
    """Copy the SQLite database to ``path`` while the bot may be running; print the
    file, its size and what it holds."""
    made = await copies.backup(settings.database_url, path, force=force)
    counts = ", ".join(f"{made.rows.get(name, 0)} {name}" for name in copies.MAIN_TABLES)
    print(
        f"backup: {made.path} ({_size(made.size)}), integrity ok; {counts}; "
        f"{sum(made.rows.values())} rows in all"
    )
    return 0


async def copy_db(settings: Settings, target: str) -> int:
    """Copy every row of the configured database into the empty database ``target``
    (migrated first), and print each table's rows, counted on both sides."""
    copies.refuse_itself(settings.database_url, target)  # before anything is written
    await prepare(settings)  # the source at the latest revision, as the target will be
    copied = await copies.copy_database(settings.database_url, target)
    width = max(len(name) for name in copied)
    for name, rows in copied.items():
        print(f"  {name:<{width}}  {rows}")
    print(
        f"copied {sum(copied.values())} rows in {len(copied)} tables from "
        f"{safe_url(settings)} to {copies.shown(target)}; the counts match"
    )
    return 0
