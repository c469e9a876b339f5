"""The cache of user and volunteer rows (storage.people_cache): after every kind of
write to them, the next update sees the new value; on each backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiogram import Dispatcher
from sqlalchemy import text, update
from sqlmodel import col

from services import approvals, delivery, digest, personal_data, stations, users
from services.access import Actor
from services.delivery import Claimed
from storage import people_cache
from storage.db import SessionMaker, make_engine, make_sessionmaker, write_transaction
from storage.models import Outbox, User, Volunteer, VolunteerStatus
from tests.factories import make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import LanguageCb

ADMIN = Actor(id=1, is_admin=True, locale="en")
PERSON = 4242


def cache_of(maker: SessionMaker) -> people_cache.PeopleCache:
    engine = maker.kw["bind"]
    cache = people_cache.of(engine.sync_engine)
    assert cache is not None
    return cache


async def seen(maker: SessionMaker) -> tuple[User, Volunteer | None]:
    """What the next update from PERSON is given (UserMiddleware's call)."""
    async with maker() as session:
        return await users.visit(session, PERSON, "en")


async def warm(maker: SessionMaker) -> None:
    """Visits until one is served from the cache (the first may write: a language
    kept for someone who had none, a mark of unreachable cleared)."""
    await seen(maker)
    await seen(maker)
    hits = cache_of(maker).hits
    await seen(maker)
    assert cache_of(maker).hits == hits + 1


async def registered(maker: SessionMaker, tree: dict[str, int]) -> None:
    await make_volunteers(maker, tree["hf-ss-xy-xyxc"], [PERSON])


async def set_locale(maker: SessionMaker) -> None:
    async with maker() as session:
        user, _ = await users.visit(session, PERSON, "en")
        await users.set_locale(session, user, "zh_CN")


async def approve(maker: SessionMaker) -> None:
    async with maker() as session:
        _, found = await users.visit(session, PERSON)
        assert found is not None and found.id is not None
        volunteer_id = found.id
    async with maker() as session, write_transaction(session):
        await session.exec(
            update(Volunteer)
            .where(col(Volunteer.id) == volunteer_id)
            .values(status=VolunteerStatus.PENDING)
        )
    await warm(maker)
    _, volunteer = await seen(maker)
    assert volunteer is not None and volunteer.status is VolunteerStatus.PENDING
    async with maker() as session:
        await approvals.decide(session, actor=ADMIN, volunteer_id=volunteer_id, approve=True)


async def digest_off(maker: SessionMaker) -> None:
    async with maker() as session:
        await digest.set_weekly_digest(session, user_id=PERSON, on=False)


async def erase(maker: SessionMaker) -> None:
    async with maker() as session:
        await personal_data.erase(session, PERSON)


async def unreachable(maker: SessionMaker) -> None:
    async with maker() as session, write_transaction(session):
        row = Outbox(user_id=PERSON, kind="text", key="k", payload={"text": "x"})
        session.add(row)
    async with maker() as session:
        claimed = Claimed(
            id=row.id or 0,
            user_id=PERSON,
            kind="text",
            payload={},
            locale=None,
            attempts=1,
            claimed_at=datetime.now(UTC),
        )
        await delivery.mark_unreachable(session=session, row=claimed, error="blocked")


async def textual(maker: SessionMaker) -> None:
    async with maker() as session, write_transaction(session):
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE volunteer SET real_name = :name WHERE user_id = :id"),
            params={"name": "改名", "id": PERSON},
        )


WRITES: dict[str, tuple[Callable[[SessionMaker], Awaitable[None]], Callable[..., bool]]] = {
    "locale": (set_locale, lambda u, v: u.locale == "zh_CN"),
    "digest": (digest_off, lambda u, v: v.weekly_digest is False),
    "erasure": (erase, lambda u, v: v is None),
    "textual": (textual, lambda u, v: v.real_name == "改名"),
}


@pytest.mark.parametrize("write", sorted(WRITES))
async def test_next_update_sees_every_write(
    write: str, sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await registered(sessionmaker, tree)
    await warm(sessionmaker)
    change, check = WRITES[write]
    before = await seen(sessionmaker)
    assert not check(*before)
    await change(sessionmaker)
    user, volunteer = await seen(sessionmaker)
    assert check(user, volunteer)
    # ...and it is cached again, with the new value.
    await warm(sessionmaker)
    assert check(*await seen(sessionmaker))


async def test_approval(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    await registered(sessionmaker, tree)
    await approve(sessionmaker)  # made pending, seen as such from the cache, approved
    _, volunteer = await seen(sessionmaker)
    assert volunteer is not None and volunteer.status is VolunteerStatus.ACTIVE


async def test_unreachable_then_writing_again(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """The outbox marks someone unreachable (a bulk update in another session); their
    next update must not be served the cached reachable row: it clears the mark."""
    await registered(sessionmaker, tree)
    await warm(sessionmaker)
    await unreachable(sessionmaker)
    async with sessionmaker() as session:
        assert (await session.get(User, PERSON)).unreachable_at is not None  # type: ignore[union-attr]
    user, _ = await seen(sessionmaker)
    assert user.unreachable_at is None
    async with sessionmaker() as session:
        assert (await session.get(User, PERSON)).unreachable_at is None  # type: ignore[union-attr]


async def test_rollback_and_reads_inside_a_write(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """A value read inside a transaction that wrote, then rolled back, is not kept."""
    await registered(sessionmaker, tree)
    await warm(sessionmaker)
    async with sessionmaker() as session:
        with pytest.raises(RuntimeError):
            async with write_transaction(session):
                await session.exec(
                    update(User).where(col(User.id) == PERSON).values(locale="zh_CN")
                )
                async with sessionmaker() as other:  # another update meanwhile
                    await users.visit(other, PERSON, "en")
                raise RuntimeError
    user, _ = await seen(sessionmaker)
    assert user.locale == "en"


async def test_a_second_engine_on_the_same_database(
    db_url: str, sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await registered(sessionmaker, tree)
    await warm(sessionmaker)
    engine = make_engine(db_url, user_cache_size=0)
    try:
        await digest_off(make_sessionmaker(engine))
        _, volunteer = await seen(sessionmaker)
        assert volunteer is not None and volunteer.weekly_digest is False
    finally:
        await engine.dispose()


async def test_copies_are_the_sessions_own(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """A handler changing its copy without saving changes nothing for the next one;
    saving it is a write like any other."""
    await registered(sessionmaker, tree)
    await warm(sessionmaker)
    async with sessionmaker() as session:
        user, volunteer = await users.visit(session, PERSON, "en")
        assert volunteer is not None
        assert user in session and volunteer in session
        volunteer.skills.append("changed in place")
        volunteer.real_name = "not saved"
    _, volunteer = await seen(sessionmaker)
    assert volunteer is not None
    assert volunteer.real_name != "not saved" and "changed in place" not in volunteer.skills
    async with sessionmaker() as session, write_transaction(session):
        _, volunteer = await users.visit(session, PERSON, "en")
        assert volunteer is not None
        volunteer.real_name = "saved"
        session.add(volunteer)
    _, volunteer = await seen(sessionmaker)
    assert volunteer is not None and volunteer.real_name == "saved"


async def test_size_zero_keeps_nothing(db_url: str, tree: dict[str, int]) -> None:
    del tree
    engine = make_engine(db_url, user_cache_size=0)
    try:
        assert people_cache.of(engine.sync_engine) is None
        maker = make_sessionmaker(engine)
        async with maker() as session:
            await users.visit(session, PERSON, "en")
        await seen(maker)
    finally:
        await engine.dispose()


async def test_bounded(db_url: str, tree: dict[str, int]) -> None:
    del tree
    engine = make_engine(db_url, user_cache_size=3)
    try:
        maker = make_sessionmaker(engine)
        for user_id in range(10, 20):
            async with maker() as session:
                await users.visit(session, user_id, "en")
            async with maker() as session:
                await users.visit(session, user_id, "en")  # after the first visit's write
        cache = people_cache.of(engine.sync_engine)
        assert cache is not None and len(cache) == 3
    finally:
        await engine.dispose()


async def test_language_change_through_the_bot(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """/settings, then /language: the very next update is in the new language."""
    async with sqlite_sessionmaker() as session:
        ids = {s.code: s.id for s in await stations.all_stations(session) if s.id}
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [PERSON])
    chat = Conversation(dp, bot, user_id=PERSON, language_code="en")
    await chat.send("/settings")  # keeps their client's language: a write
    await chat.send("/settings")
    out = await chat.send("/settings")
    assert "Language: English" in out[-1].text
    assert cache_of(sqlite_sessionmaker).hits > 0
    menu = await chat.send("/language")
    await chat.press_data(LanguageCb(code="zh_CN").pack(), message=menu[-1])
    out = await chat.send("/settings")
    assert "中文" in out[-1].text and "Language: English" not in out[-1].text


async def test_the_volunteer_loaded_with_the_update_is_not_asked_for_again(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """queries.get_volunteer_by_user returns the profile the session already holds
    (loaded with the person behind the update) without a query; once expired, or
    for someone without a profile, it asks the database."""
    from sqlalchemy import event

    from storage import queries

    await registered(sessionmaker, tree)
    engine = sessionmaker.kw["bind"].sync_engine
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        async with sessionmaker() as session:
            _, volunteer = await users.visit(session, PERSON, "en")
            assert volunteer is not None
            before = len(statements)
            assert await queries.get_volunteer_by_user(session, PERSON) is volunteer
            assert len(statements) == before
            session.expire(volunteer)  # as a rollback leaves it
            again = await queries.get_volunteer_by_user(session, PERSON)
            assert again is not None and again.id == volunteer.id
            assert len(statements) == before + 1
            await users.visit(session, PERSON + 1, "en")  # no profile
            before = len(statements)
            assert await queries.get_volunteer_by_user(session, PERSON + 1) is None
            assert len(statements) == before + 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
