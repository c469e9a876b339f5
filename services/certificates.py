"""Service certificates: the period they cover, what they state, and their
verification codes.

A code is 10 random characters of Crockford's base32 and 2 check characters from
an HMAC of those 10 under the certificate key (services.certificate_key); people see
it as ``VS-XXXX-XXXX-XXXX``. A code is genuine only if its check characters match, a
certificate with it was issued and it has not been revoked. What a certificate
states is kept with it (``Certificate.details``) when it is issued, so /verify says
the same later, whatever happens to the records afterwards. A certificate whose
holder erased their data is revoked and states nothing more: /verify says it was
issued, then withdrawn, never that it is unknown."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, hours, stations, when
from services.errors import InvalidInput
from storage import queries
from storage.db import write_transaction
from storage.models import Certificate
from storage.queries import certificates as certificate_queries

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
BODY_LENGTH = 10
CHECK_LENGTH = 2
CODE_LENGTH = BODY_LENGTH + CHECK_LENGTH
PREFIX = "VS"  # 志愿服务 / volunteer service: shown, never stored
DEEP_LINK = "verify_"  # /start verify_<code>
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·•–—/]+")
DETAILS_VERSION = 1


# --- codes ------------------------------------------------------------------------


def _check(body: str, key: bytes) -> str:
    """Two check characters: the first 10 bits of HMAC-SHA256(key, body)."""
    digest = hmac.new(key, b"certificate:" + body.encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:2], "big") >> 6
    return ALPHABET[value >> 5] + ALPHABET[value & 31]


def new_code(key: bytes) -> str:
    """A fresh code in its stored form: 12 characters, no prefix or hyphens."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + _check(body, key)


def display_code(code: str) -> str:
    """``VS-XXXX-XXXX-XXXX``: the stored code in groups of four."""
    return "-".join([PREFIX, code[0:4], code[4:8], code[8:12]])


def normalise(text: str) -> str | None:
    """The stored form of a code as someone typed or pasted it: any case, full-width
    characters, spaces and hyphens, the VS prefix or a whole deep link, and O for 0,
    I or L for 1. None when it cannot be a code."""
    value = unicodedata.normalize("NFKC", text).strip().upper()
    if DEEP_LINK.upper() in value:
        value = value.rsplit(DEEP_LINK.upper(), 1)[1]
    value = _SEPARATORS.sub("", value)
    if len(value) == CODE_LENGTH + len(PREFIX) and value.startswith(PREFIX):
        value = value[len(PREFIX) :]
    value = value.translate(_CONFUSABLE)
    if len(value) != CODE_LENGTH or any(c not in ALPHABET for c in value):
        return None
    return value


def well_formed(code: str, key: bytes) -> bool:
    """Whether a stored-form code carries the right check characters."""
    if len(code) != CODE_LENGTH:
        return False
    return hmac.compare_digest(code[BODY_LENGTH:], _check(code[:BODY_LENGTH], key))


# --- periods ----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local days, both included. ``first`` None: from the first credited activity."""

    first: date | None
    last: date


def year_period(year: int, today: date) -> Period:
    """A calendar year, ending today at the latest (a certificate states no future)."""
    return Period(date(year, 1, 1), min(date(year, 12, 31), today))


def all_time(today: date) -> Period:
    return Period(None, today)


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_BETWEEN = re.compile(r"^(?:\s|-|–|—|~|～|至|到|TO|UNTIL)*$", re.IGNORECASE)


def parse_period(text: str, today: date) -> Period:
    """Two dates as typed: ``2026-01-01 2026-06-30``, ``2026-01-01 至 2026-06-30``,
    ``2026/1/1 - 2026/6/30``, ``2026年1月1日到2026年6月30日``. An end after today
    becomes today. Raises InvalidInput: period_format, period_date, period_order,
    period_future."""
    value = unicodedata.normalize("NFKC", text).strip()
    found = list(_DATE.finditer(value))
    if len(found) != 2:
        raise InvalidInput("period_format")
    head = value[: found[0].start()].strip()
    between = value[found[0].end() : found[1].start()]
    tail = value[found[1].end() :].strip()
    if head or tail or not _BETWEEN.match(between):
        raise InvalidInput("period_format")
    days = []
    for match in found:
        year, month, day = (int(g) for g in match.groups())
        try:
            days.append(date(year, month, day))
        except ValueError:
            raise InvalidInput("period_date", date=match.group(0).strip()) from None
    first, last = days
    if last < first:
        raise InvalidInput("period_order")
    if first > today:
        raise InvalidInput("period_future")
    return Period(first, min(last, today))


# --- what a certificate states ----------------------------------------------------


@dataclass(frozen=True)
class StatedActivity:
    day: date
    title: str
    station_name: str
    station_name_en: str | None
    minutes: int
    by_staff: bool = False  # recorded by staff on the holder's behalf


@dataclass(frozen=True)
class StationNames:
    """A station's names as stated (``ui.labels.station_name`` reads these)."""

    name: str
    name_en: str | None


@dataclass(frozen=True)
class Statement:
    """Everything a certificate states, as it was issued."""

    code: str
    holder_name: str
    station: StationNames
    first_day: date
    last_day: date
    total_minutes: int
    period_minutes: int
    activity_count: int
    activities: list[StatedActivity]
    issued_at: datetime
    zone: ZoneInfo
    locale: str


def statement_of(certificate: Certificate) -> Statement:
    details = certificate.details or {}
    zone = when.zone(str(details.get("zone") or ""), when.DEFAULT_ZONE)
    station = details.get("station") or {}
    return Statement(
        code=certificate.code,
        holder_name=certificate.holder_name,
        station=StationNames(str(station.get("name", "")), station.get("name_en")),
        first_day=_day(details.get("first_day"), certificate.period_from, zone),
        last_day=_day(
            details.get("last_day"), certificate.period_to - timedelta(microseconds=1), zone
        ),
        total_minutes=certificate.total_minutes,
        period_minutes=certificate.period_minutes,
        activity_count=certificate.activity_count,
        activities=[
            StatedActivity(
                day=date.fromisoformat(str(item["day"])),
                title=str(item["title"]),
                station_name=str(item.get("station", "")),
                station_name_en=item.get("station_en"),
                minutes=int(item["minutes"]),
                by_staff=bool(item.get("by_staff", False)),
            )
            for item in details.get("activities", [])
        ],
        issued_at=certificate.issued_at,
        zone=zone,
        locale=certificate.locale,
    )


def issuers(statement: Statement) -> list[StationNames]:
    """The stations that ran the activities a certificate states, and so issue it: the
    one with the most service first, ties in the order they first served. A statement
    kept without its activities names the holder's home station."""
    minutes: dict[StationNames, int] = {}
    for item in statement.activities:
        names = StationNames(item.station_name, item.station_name_en)
        minutes[names] = minutes.get(names, 0) + item.minutes
    if not minutes:
        return [statement.station]
    return sorted(minutes, key=lambda names: -minutes[names])  # sorted() is stable


def _day(stored: Any, moment: datetime, zone: ZoneInfo) -> date:
    return date.fromisoformat(str(stored)) if stored else moment.astimezone(zone).date()


# --- issuing and verifying --------------------------------------------------------


async def prepare(
    *,
    session: AsyncSession,
    user_id: int,
    period: Period,
    key: bytes,
    default_zone: ZoneInfo | str,
    locale: str,
    now: datetime,
) -> Certificate:
    """A certificate for the volunteer behind ``user_id`` over ``period`` (local days
    in the home station's zone), with a fresh code, not yet stored: render it, then
    ``record`` it. Raises NotFound("not_registered"), and InvalidInput("no_hours")
    when nothing was credited in the period."""
    volunteer, station = await hours.home_station(session, user_id)
    assert volunteer.id is not None and station.id is not None
    zone = await stations.zone(session, station.id, default_zone)
    since = hours.day_start(period.first, zone) if period.first else None
    until = hours.day_start(period.last + timedelta(days=1), zone)
    credited = await hours.credited_activities(
        session=session, volunteer_id=volunteer.id, since=since, until=until
    )
    if not credited:
        raise InvalidInput("no_hours")
    total = await hours.credited_minutes(session=session, volunteer_id=volunteer.id)

    def local_day(item: hours.CreditedActivity) -> date:
        return item.starts_at.astimezone(when.zone(item.station_zone, zone.key)).date()

    first_day = period.first or local_day(credited[0])
    code = new_code(key)
    while await certificate_queries.code_taken(session, code):  # never in practice: 32**10 codes
        code = new_code(key)
    return Certificate(
        code=code,
        volunteer_id=volunteer.id,
        station_id=station.id,
        holder_name=volunteer.real_name or "",
        period_from=hours.day_start(first_day, zone),
        period_to=until,
        total_minutes=total,
        period_minutes=sum(item.minutes for item in credited),
        activity_count=len(credited),
        locale=locale,
        issued_at=now,
        details={
            "version": DETAILS_VERSION,
            "zone": zone.key,
            "first_day": first_day.isoformat(),
            "last_day": period.last.isoformat(),
            "station": {"name": station.name, "name_en": station.name_en},
            "activities": [
                {
                    "day": local_day(item).isoformat(),
                    "title": item.title,
                    "station": item.station_name,
                    "station_en": item.station_name_en,
                    "minutes": item.minutes,
                    "by_staff": item.by_staff,
                }
                for item in credited
            ],
        },
    )


async def record(
    *, session: AsyncSession, certificate: Certificate, actor_id: int | None
) -> Certificate:
    """Store a prepared certificate: from now on its code verifies."""
    async with write_transaction(session):
        session.add(certificate)
        await session.flush()
        audit.record(
            session,
            actor_id=actor_id,
            action="certificate_issued",
            station_id=certificate.station_id,
            subject_type="certificate",
            subject_id=certificate.id,
            code=certificate.code,
            volunteer_id=certificate.volunteer_id,
        )
    return certificate


async def issue(
    *,
    session: AsyncSession,
    user_id: int,
    period: Period,
    key: bytes,
    default_zone: ZoneInfo | str,
    locale: str,
    now: datetime,
) -> Certificate:
    """Prepare and record in one go (when nothing has to be rendered in between)."""
    certificate = await prepare(
        session=session,
        user_id=user_id,
        period=period,
        key=key,
        default_zone=default_zone,
        locale=locale,
        now=now,
    )
    return await record(session=session, certificate=certificate, actor_id=user_id)


@dataclass(frozen=True)
class Withdrawn:
    """A certificate that was issued here and withdrawn since: what it stated is no
    longer kept (its holder erased their data), only that it existed."""

    code: str
    station: StationNames  # the issuing station, as it is named now
    issued_at: datetime
    withdrawn_at: datetime
    zone: ZoneInfo
    erased: bool  # withdrawn because its holder erased their data


async def verify(
    *, session: AsyncSession, text: str, key: bytes, default_zone: str = when.DEFAULT_ZONE
) -> Statement | Withdrawn | None:
    """What a genuine certificate states; that it was withdrawn, for one issued and
    withdrawn since; None for anything else: not a code, wrong check characters (an
    altered code), or no such certificate."""
    code = normalise(text)
    if code is None or not well_formed(code, key):
        return None
    certificate = await certificate_queries.by_code(session, code)
    if certificate is None:
        return None
    if certificate.revoked_at is None:
        return statement_of(certificate)
    station = await queries.get_station(session, certificate.station_id)
    holder = await certificate_queries.holder(session, certificate)
    return Withdrawn(
        code=certificate.code,
        station=StationNames(station.name, station.name_en) if station else StationNames("", None),
        issued_at=certificate.issued_at,
        withdrawn_at=certificate.revoked_at,
        zone=await stations.zone(session, certificate.station_id, default_zone),
        erased=holder is not None and holder.erased_at is not None,
    )
