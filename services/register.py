"""The volunteer register (花名册): the volunteers of a station and every station under
it, with their credited hours (in total and this calendar year), star level, last
activity and status, for staff and coordinators (VIEW_VOLUNTEERS).

Hours are counted as /hours and the certificate count them (``services.hours``:
confirmed, credited when the activity closed, minutes above zero, not absent, the
activity not cancelled); "this year" is the calendar year in the station's zone; the
last activity is the start of the latest activity credited. A volunteer is inactive
when approved, registered more than six months ago and credited for no activity
started in the last six months. Erased volunteers are not listed."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, hours, stations
from services.access import Actor, Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from services.volunteers import SKILLS
from storage.models import Station, VolunteerStatus
from storage.queries import register as queries
from storage.queries.register import Filter

IDLE = timedelta(days=183)  # six months without a credited activity: inactive
SEARCH_MAX = 60  # characters of a typed search


class Show(enum.IntEnum):
    """Which volunteers the register lists (the number rides on buttons)."""

    ALL = 0  # approved and pending
    APPROVED = 1
    PENDING = 2
    INACTIVE = 3


class Standing(enum.StrEnum):
    """A volunteer's status as the register shows it."""

    APPROVED = "approved"
    PENDING = "pending"
    INACTIVE = "inactive"
    DECLINED = "declined"


@dataclass(frozen=True)
class Search:
    """A typed search: part of the name, the phone's last digits, a skill code, a star
    level. Every part given must match."""

    name: str | None = None
    phone_tail: str | None = None
    skill: str | None = None
    stars: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.name or self.phone_tail or self.skill) and self.stars is None


NO_SEARCH = Search()


@dataclass(frozen=True)
class Entry:
    volunteer_id: int
    name: str | None
    phone: str | None
    station_id: int
    standing: Standing
    skills: list[str]
    registered_at: datetime
    total_minutes: int
    year_minutes: int
    stars: int
    last_activity: datetime | None


@dataclass(frozen=True)
class Scope:
    """The station a register is of, its zone, and the year "this year" is."""

    station: Station
    zone: ZoneInfo
    year: int
    year_start: datetime
    year_end: datetime
    idle_before: datetime


_PHONE_TAIL = re.compile(r"^\d{3,11}$")
_STARS = re.compile(r"^(?:(\d)\s*(?:星|星级|★|☆|\*|stars?)|(★+))$", re.IGNORECASE)


def parse_search(text: str, skill_words: Mapping[str, str], star_levels: int) -> Search:
    """A search as typed: words apart by spaces. Three or more digits are the phone's
    last digits; ``3星``, ``3★``, ``★★★`` or ``3 stars`` a star level (0 to
    ``star_levels``); a skill's name or code (``skill_words``: lower-case word -> code),
    or part of one skill's name, a skill; anything else part of the name. Raises
    InvalidInput when empty, too long, or with a star level or digits that cannot be."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("register.search_empty")
    if len(text) > SEARCH_MAX:
        raise InvalidInput("register.search_too_long", max=SEARCH_MAX)
    words = re.sub(r"(\d)\s+(星|★|stars?\b)", r"\1\2", text, flags=re.IGNORECASE).split(" ")
    name: list[str] = []
    phone = skill = None
    stars = None
    for word in words:
        lowered = word.lower()
        if _PHONE_TAIL.match(word):
            phone = word
        elif match := _STARS.match(word):
            stars = int(match[1]) if match[1] else len(match[2])
            if stars > star_levels:
                raise InvalidInput("register.bad_stars", max=star_levels)
        elif found := _skill(lowered, skill_words):
            skill = found
        elif any(ch.isdigit() for ch in word):
            raise InvalidInput("register.bad_digits")
        else:
            name.append(word)
    return Search(name=" ".join(name) or None, phone_tail=phone, skill=skill, stars=stars)


def _skill(word: str, skill_words: Mapping[str, str]) -> str | None:
    """The skill a word names: its name or code, or (two characters or more) part of
    exactly one skill's name (急救 for 应急救护)."""
    if word in skill_words:
        return skill_words[word]
    if len(word) < 2:
        return None
    codes = {code for name, code in skill_words.items() if word in name}
    return codes.pop() if len(codes) == 1 else None


def skill_codes() -> dict[str, str]:
    """Each skill code as a word of a search (the Telegram side adds the names)."""
    return {code: code for code in SKILLS}


def _minutes_of(stars: int, thresholds: Sequence[int]) -> tuple[int, int | None]:
    """[low, high) total minutes of a star level."""
    low = thresholds[stars - 1] * 60 if stars > 0 else 0
    high = thresholds[stars] * 60 if stars < len(thresholds) else None
    return low, high


def _filter(show: Show, search: Search, scope: Scope, thresholds: Sequence[int]) -> Filter:
    statuses = {
        Show.ALL: (VolunteerStatus.ACTIVE, VolunteerStatus.PENDING),
        Show.APPROVED: (VolunteerStatus.ACTIVE,),
        Show.PENDING: (VolunteerStatus.PENDING,),
        Show.INACTIVE: (VolunteerStatus.ACTIVE,),
    }[show]
    return Filter(
        statuses=statuses,
        idle_before=scope.idle_before if show is Show.INACTIVE else None,
        name=search.name,
        phone_tail=search.phone_tail,
        skill=search.skill,
        minutes=None if search.stars is None else _minutes_of(search.stars, thresholds),
    )


async def scope(
    session: AsyncSession, *, actor: Actor, station_id: int, default_zone: str, now: datetime
) -> Scope:
    """The station, checked: NotAllowed unless the actor may see its volunteers;
    NotFound when it is gone (told only to those who may see volunteers somewhere)."""
    await access.require_somewhere(session, actor=actor, permission=Permission.VIEW_VOLUNTEERS)
    tree = await stations.tree(session)
    station = tree.stations.get(station_id)
    if station is None:
        raise NotFound("station_not_found")
    if not await access.allowed(
        session, actor=actor, permission=Permission.VIEW_VOLUNTEERS, station_id=station_id
    ):
        raise NotAllowed("not_allowed", permission=Permission.VIEW_VOLUNTEERS.value)
    zone = tree.zone(station_id, default_zone)
    year = now.astimezone(zone).year
    start, end = hours.year_bounds(year, zone)
    return Scope(station, zone, year, start, end, now - IDLE)


async def count(
    session: AsyncSession, *, where: Scope, show: Show, search: Search, thresholds: Sequence[int]
) -> int:
    """How many volunteers the register lists (``where`` comes from ``scope``)."""
    assert where.station.id is not None
    return await queries.count_volunteers(
        session,
        where.station.id,
        _filter(show, search, where, thresholds),
        where.year_start,
        where.year_end,
    )


async def entries(
    session: AsyncSession,
    *,
    where: Scope,
    show: Show,
    search: Search,
    thresholds: Sequence[int],
    offset: int = 0,
    limit: int | None = None,
) -> list[Entry]:
    """The volunteers listed, in order of registration, from ``offset`` on."""
    assert where.station.id is not None
    rows = await queries.volunteers(
        session,
        where.station.id,
        _filter(show, search, where, thresholds),
        where.year_start,
        where.year_end,
        offset=offset,
        limit=limit,
    )
    found = []
    for vid, name, phone, station_id, status, skills, created, total, year, last in rows:
        total_minutes = int(total or 0)
        found.append(
            Entry(
                volunteer_id=int(vid),
                name=name,
                phone=phone,
                station_id=int(station_id),
                standing=_standing(VolunteerStatus(status), created, last, where.idle_before),
                skills=list(skills or []),
                registered_at=created,
                total_minutes=total_minutes,
                year_minutes=int(year or 0),
                stars=hours.star_level(total_minutes, thresholds).stars,
                last_activity=last,
            )
        )
    return found


def _standing(
    status: VolunteerStatus, created: datetime, last: datetime | None, idle_before: datetime
) -> Standing:
    if status is VolunteerStatus.PENDING:
        return Standing.PENDING
    if status is VolunteerStatus.DECLINED:
        return Standing.DECLINED
    if created < idle_before and (last is None or last < idle_before):
        return Standing.INACTIVE
    return Standing.APPROVED
