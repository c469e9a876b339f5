"""Publishing, editing and cancelling activities against a real database (SQLite
always; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from services import (
    activities,
    activity_admin,
    activity_draft,
    personal_data,
    roles,
    stations,
    when,
)
from services.access import Actor
from services.activities import OfferRules, Promotion
from services.activity_draft import ActivityDraft
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AuditLog,
    Signup,
    SignupStatus,
    Station,
    TargetGroup,
)
from tests.factories import make_activity, make_volunteers

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = 501  # staff of Xiyuan Xincun community
COORDINATOR = 502  # coordinator of Shushan district
OTHER_STAFF = 503  # staff of Wanghu street, in another district
NOBODY = 504  # a volunteer without a role


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def draft(**changes: object) -> ActivityDraft:
    start = when.local_at(now(), SHANGHAI, days=3, hour=9)
    base = ActivityDraft(
        kind=ActivityKind.GARBAGE_SORTING,
        title="垃圾分类督导",
        description="在小区东门指导居民分类投放。",
        place="西园新村东门",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=10,
        target_group=TargetGroup.GENERAL_PUBLIC,
        repeat_weeks=0,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


@pytest.fixture
async def staffed(sessionmaker: SessionMaker, tree: dict[str, int]) -> dict[str, int]:
    async with sessionmaker() as session:
        await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-ss-xy-xyxc", actor_id=None
        )
        await roles.grant(
            session, user_id=COORDINATOR, role="coordinator", station_code="hf-ss", actor_id=None
        )
        await roles.grant(
            session, user_id=OTHER_STAFF, role="staff", station_code="hf-bh-wh", actor_id=None
        )
    return tree


async def publish(
    maker: SessionMaker, station_id: int, the_draft: ActivityDraft, actor: int = STAFF
) -> list[Activity]:
    async with maker() as session:
        return await activity_admin.publish(
            session,
            actor=Actor(actor),
            station_id=station_id,
            draft=the_draft,
            now=now(),
        )


async def all_activities(maker: SessionMaker) -> list[Activity]:
    async with maker() as session:
        return list((await session.exec(select(Activity).order_by(col(Activity.id)))).all())


async def test_twelve_weekly_occurrences_at_the_same_local_time(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    station = staffed["hf-ss-xy-xyxc"]
    created = await publish(sessionmaker, station, draft(repeat_weeks=11))
    rows = await all_activities(sessionmaker)
    assert len(created) == len(rows) == 12
    first = rows[0]
    assert first.id is not None
    for index, row in enumerate(rows):
        assert row.starts_at - first.starts_at == timedelta(weeks=index)
        assert row.ends_at - row.starts_at == timedelta(hours=2)
        start = row.starts_at.astimezone(SHANGHAI)
        assert (start.hour, start.minute) == (9, 0)
        assert row.series_id == first.id
        assert row.station_id == station and row.status is ActivityStatus.PUBLISHED
        assert row.created_by == STAFF and row.title == "垃圾分类督导"
    async with sessionmaker() as session:
        entry = (
            await session.exec(select(AuditLog).where(AuditLog.action == "activity.published"))
        ).one()
    assert entry.actor_id == STAFF and entry.subject_id == first.id
    assert entry.details["occurrences"] == 12
    assert entry.details["activity_ids"] == [r.id for r in rows]


async def test_a_single_activity_has_no_series(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    (created,) = await publish(sessionmaker, staffed["hf-ss-xy-xyxc"], draft())
    assert created.series_id is None and created.id is not None


async def test_repeats_keep_the_wall_clock_of_the_station_zone(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    """A station with its own zone (inherited by the station below it), daylight saving
    included: the same local time every week, even across the change of clocks."""
    berlin = ZoneInfo("Europe/Berlin")
    async with sessionmaker() as session, write_transaction(session):
        street = await session.get(Station, staffed["hf-ss-xy"])
        assert street is not None
        street.timezone = "Europe/Berlin"
        session.add(street)
    stations.forget_tree()  # written behind the services' back: drop the cached tree
    async with sessionmaker() as session:
        zone = await activity_admin.station_zone(session, staffed["hf-ss-xy-xyxc"])
    assert zone.key == "Europe/Berlin"
    # Weeks around the end of March, whichever year the test runs in.
    year = now().year + 1
    start = datetime(year, 3, 14, 9, 0, tzinfo=berlin).astimezone(UTC)
    the_draft = draft(starts_at=start, ends_at=start + timedelta(hours=2), repeat_weeks=5)
    created = await publish(sessionmaker, staffed["hf-ss-xy-xyxc"], the_draft)
    hours = {
        (a.starts_at.astimezone(berlin).hour, a.ends_at.astimezone(berlin).hour) for a in created
    }
    assert hours == {(9, 11)}
    utc_hours = {a.starts_at.hour for a in created}
    assert utc_hours == {7, 8}  # UTC+1 before the change, UTC+2 after


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": "x" * 81}, "title_too_long"),
        ({"title": "   "}, "title_empty"),
        ({"place": ""}, "place_empty"),
        ({"place": "p" * 121}, "place_too_long"),
        ({"description": "d" * 1001}, "description_too_long"),
        ({"capacity": 0}, "capacity_out_of_range"),
        ({"capacity": 1001}, "capacity_out_of_range"),
        ({"repeat_weeks": 12}, "repeat_out_of_range"),
        ({"repeat_weeks": -1}, "repeat_out_of_range"),
        ({"kind": None}, "draft_incomplete"),
        ({"starts_at": datetime(2020, 1, 1, tzinfo=UTC)}, "in_the_past"),
        ({"ends_at": datetime(2020, 1, 1, tzinfo=UTC)}, "end_before_start"),
        ({"ends_at": when.local_at(now(), SHANGHAI, days=4, hour=10)}, "too_long"),
    ],
)
async def test_publish_validates_and_writes_nothing(
    sessionmaker: SessionMaker, staffed: dict[str, int], changes: dict[str, object], code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await publish(sessionmaker, staffed["hf-ss-xy-xyxc"], draft(**changes))
    assert caught.value.code == code
    assert await all_activities(sessionmaker) == []


async def test_publish_needs_the_permission_on_that_station(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, staffed["hf-ss-xy-xyxc"], [NOBODY])
    for actor, code in [
        (NOBODY, "hf-ss-xy-xyxc"),
        (OTHER_STAFF, "hf-ss-xy-xyxc"),
        (STAFF, "hf-ss-xy"),
    ]:
        with pytest.raises(NotAllowed):
            await publish(sessionmaker, staffed[code], draft(), actor=actor)
    assert await all_activities(sessionmaker) == []
    # A coordinator of the district may publish on any station under it.
    await publish(sessionmaker, staffed["hf-ss-xy-hyd"], draft(), actor=COORDINATOR)
    with pytest.raises(NotFound):
        await publish(sessionmaker, 99_999, draft(), actor=COORDINATOR)
    # An admin (ADMIN_IDS) may publish anywhere.
    async with sessionmaker() as session:
        await activity_admin.publish(
            session,
            actor=Actor(NOBODY, is_admin=True),
            station_id=staffed["hf-bh-wh"],
            draft=draft(),
            now=now(),
        )
    assert len(await all_activities(sessionmaker)) == 2


def test_draft_survives_the_dialog_storage() -> None:
    the_draft = draft(repeat_weeks=3, description="")
    data = the_draft.to_dict()
    assert data["kind"] == "garbage_sorting" and isinstance(data["starts_at"], str)
    assert ActivityDraft.from_dict(data) == the_draft
    assert ActivityDraft.from_dict(None).missing()[0] == "kind"
    assert ActivityDraft(description="").missing() == [
        "kind",
        "title",
        "place",
        "starts_at",
        "ends_at",
        "capacity",
        "target_group",
        "repeat_weeks",
    ]


@pytest.mark.parametrize(
    ("text", "weeks"),
    [("1", 0), ("8", 7), ("８周", 7), ("十二周", 11), ("12 weeks", 11), ("不重复", 0), ("no", 0)],
)
def test_repeat_as_typed(text: str, weeks: int) -> None:
    assert activity_draft.parse_repeat(text) == weeks


@pytest.mark.parametrize(
    ("text", "places"), [("20", 20), ("２０人", 20), ("二十", 20), ("1000", 1000)]
)
def test_capacity_as_typed(text: str, places: int) -> None:
    assert activity_draft.parse_capacity(text) == places


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("many", "capacity_not_a_number"),
        ("0", "capacity_out_of_range"),
        ("2000", "capacity_out_of_range"),
    ],
)
def test_bad_capacity(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        activity_draft.parse_capacity(text)
    assert caught.value.code == code


async def signed_up_activity(
    maker: SessionMaker, tree: dict[str, int], *, capacity: int = 2
) -> tuple[int, list[int]]:
    """An activity with two seats taken, the waitlist, one cancelled and one volunteer
    since erased (whose seat went to the first in line); returns its id and the ids
    still signed up."""
    station = tree["hf-ss-xy-xyxc"]
    people = [601, 602, 603, 604, 605]
    await make_volunteers(maker, station, people)
    activity_id = await make_activity(maker, station, now=now(), capacity=capacity)
    async with maker() as session:
        for user_id in (601, 605, 602, 603, 604):
            await activities.join(session, user_id=user_id, activity_id=activity_id, now=now())
        await activities.cancel(
            session, user_id=604, activity_id=activity_id, now=now(), rules=OfferRules()
        )
        await personal_data.erase(session, 605)
    return activity_id, [601, 602, 603]


async def statuses(maker: SessionMaker, activity_id: int) -> list[SignupStatus]:
    async with maker() as session:
        query = select(Signup.status).where(Signup.activity_id == activity_id)
        return sorted((await session.exec(query.order_by(col(Signup.id)))).all())


async def edit(
    maker: SessionMaker,
    activity_id: int,
    changes: dict[str, object],
    actor: int = STAFF,
    promoted: list[Promotion] | None = None,
) -> tuple[Activity, list[int]]:
    async with maker() as session:
        return await activity_admin.edit(
            session,
            actor=Actor(actor),
            activity_id=activity_id,
            changes=changes,
            now=now(),
            promoted=promoted,
        )


async def test_edit_tells_the_volunteers_signed_up(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    activity_id, signed_up = await signed_up_activity(sessionmaker, staffed, capacity=3)
    activity, told = await edit(sessionmaker, activity_id, {"place": "  西园新村 北门 "})
    assert activity.place == "西园新村 北门"
    assert sorted(told) == signed_up
    activity, told = await edit(sessionmaker, activity_id, {"place": "西园新村 北门"})
    assert told == []  # nothing changed, nobody to tell
    new_start = activity.starts_at + timedelta(days=1)
    activity, told = await edit(
        sessionmaker,
        activity_id,
        {"starts_at": new_start, "ends_at": new_start + timedelta(hours=3), "title": "新标题"},
    )
    assert activity.starts_at == new_start and activity.title == "新标题"
    assert sorted(told) == signed_up
    async with sessionmaker() as session:
        entries = (
            await session.exec(
                select(AuditLog)
                .where(AuditLog.action == "activity.edited")
                .order_by(col(AuditLog.id))
            )
        ).all()
    assert [e.details["fields"] for e in entries] == [
        ["place"],
        ["ends_at", "starts_at", "title"],
    ]
    assert entries[0].details["before"] == {"place": "西园新村东门"}
    assert entries[0].actor_id == STAFF


async def test_edit_refuses_capacity_below_the_seats_held(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    activity_id, _ = await signed_up_activity(sessionmaker, staffed, capacity=3)
    # 601, 602 and 603 (offered the seat 605 gave up on erasure): three seats.
    with pytest.raises(InvalidInput) as caught:
        await edit(sessionmaker, activity_id, {"capacity": 2})
    assert caught.value.code == "capacity_below_seats" and caught.value.params == {"seats": 3}
    activity, _told = await edit(sessionmaker, activity_id, {"capacity": 3, "title": "同样"})
    assert activity.capacity == 3


async def test_more_places_go_to_the_waitlist(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    activity_id, _ = await signed_up_activity(sessionmaker, staffed, capacity=2)
    # 601 and 602 (offered the seat 605 gave up on erasure) hold seats; 603 waits.
    assert SignupStatus.WAITLISTED in await statuses(sessionmaker, activity_id)
    promoted: list[Promotion] = []
    await edit(sessionmaker, activity_id, {"capacity": 4}, promoted=promoted)
    assert [p.user_id for p in promoted] == [603]
    assert SignupStatus.WAITLISTED not in await statuses(sessionmaker, activity_id)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": "other"}, "field_not_editable"),
        ({"capacity": 0}, "capacity_out_of_range"),
        ({"title": ""}, "title_empty"),
        ({"target_group": "aliens"}, "target_unknown"),
        ({"starts_at": datetime(2020, 1, 1, tzinfo=UTC)}, "in_the_past"),
        ({"ends_at": datetime(2020, 1, 1, tzinfo=UTC)}, "end_before_start"),
        ({"starts_at": "tomorrow"}, "when_unreadable"),
    ],
)
async def test_edit_validates(
    sessionmaker: SessionMaker, staffed: dict[str, int], changes: dict[str, object], code: str
) -> None:
    activity_id = await make_activity(sessionmaker, staffed["hf-ss-xy-xyxc"], now=now(), capacity=5)
    with pytest.raises(InvalidInput) as caught:
        await edit(sessionmaker, activity_id, changes)
    assert caught.value.code == code


async def test_edit_and_cancel_need_the_permission(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    activity_id = await make_activity(sessionmaker, staffed["hf-ss-xy-xyxc"], now=now(), capacity=5)
    for actor in (NOBODY, OTHER_STAFF):
        with pytest.raises(NotAllowed):
            await edit(sessionmaker, activity_id, {"title": "改"}, actor=actor)
        async with sessionmaker() as session:
            with pytest.raises(NotAllowed):
                await activity_admin.cancel(
                    session,
                    actor=Actor(actor),
                    activity_id=activity_id,
                    now=now(),
                )
    activity, _ = await edit(sessionmaker, activity_id, {"title": "改"}, actor=COORDINATOR)
    assert activity.title == "改"
    with pytest.raises(NotFound):
        await edit(sessionmaker, 99_999, {"title": "改"})


async def test_cancel_withdraws_the_signups(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    activity_id, signed_up = await signed_up_activity(sessionmaker, staffed)
    async with sessionmaker() as session:
        told = await activity_admin.cancel(
            session, actor=Actor(STAFF), activity_id=activity_id, now=now()
        )
    assert sorted(told) == signed_up
    # 604 cancelled, 605 gave up their seat on erasure; the other three are withdrawn.
    assert await statuses(sessionmaker, activity_id) == sorted(
        [SignupStatus.CANCELLED] * 2 + [SignupStatus.WITHDRAWN] * 3
    )
    async with sessionmaker() as session:
        activity = await session.get(Activity, activity_id)
        entry = (
            await session.exec(select(AuditLog).where(AuditLog.action == "activity.cancelled"))
        ).one()
    assert activity is not None and activity.status is ActivityStatus.CANCELLED
    assert entry.details == {"withdrawn": 3} and entry.subject_id == activity_id
    # Cancelling again, or editing a cancelled activity, is refused.
    async with sessionmaker() as session:
        with pytest.raises(InvalidInput) as caught:
            await activity_admin.cancel(
                session, actor=Actor(STAFF), activity_id=activity_id, now=now()
            )
    assert caught.value.code == "activity_cancelled"
    with pytest.raises(InvalidInput) as caught:
        await edit(sessionmaker, activity_id, {"title": "改"})
    assert caught.value.code == "activity_cancelled"


async def test_an_activity_over_cannot_change(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    activity_id = await make_activity(
        sessionmaker,
        staffed["hf-ss-xy-xyxc"],
        now=now(),
        capacity=5,
        starts_in=timedelta(hours=-5),
    )
    with pytest.raises(InvalidInput) as caught:
        await edit(sessionmaker, activity_id, {"title": "改"})
    assert caught.value.code == "activity_over"


async def test_managed_list_shows_only_what_one_may_manage(
    sessionmaker: SessionMaker, staffed: dict[str, int]
) -> None:
    here = await publish(sessionmaker, staffed["hf-ss-xy-xyxc"], draft(repeat_weeks=6))
    await publish(sessionmaker, staffed["hf-bh-wh"], draft(title="望湖"), actor=OTHER_STAFF)
    async with sessionmaker() as session:
        first = await activity_admin.upcoming_managed(
            session, actor=Actor(STAFF), now=now(), page=0, per_page=5
        )
        second = await activity_admin.upcoming_managed(
            session, actor=Actor(STAFF), now=now(), page=1, per_page=5
        )
        beyond = await activity_admin.upcoming_managed(
            session, actor=Actor(STAFF), now=now(), page=9, per_page=5
        )
        nothing = await activity_admin.upcoming_managed(session, actor=Actor(NOBODY), now=now())
        admin = await activity_admin.upcoming_managed(
            session, actor=Actor(NOBODY, is_admin=True), now=now(), per_page=50
        )
    assert (first.total, first.pages, second.page, beyond.page) == (7, 2, 1, 1)
    listed = [i.activity.id for i in first.items + second.items]
    assert listed == [a.id for a in here]  # soonest first
    assert {i.station.code for i in first.items} == {"hf-ss-xy-xyxc"}
    assert nothing.items == [] and admin.total == 8
