"""Deciding a pledge: staff of its station mark it received or cancelled (the
volunteer is told through the outbox, in the same transaction), or the volunteer
withdraws their own. Each looks the pledge up for its question first (``for_staff``,
``own``); each decision happens once, under the pledge's row lock."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox, when
from services.access import Actor, Permission
from services.errors import InvalidInput, NotFound
from services.outbox import Message
from services.pledges import DECIDED, PledgeView, decided_key, reminder_key, view_of
from storage.db import write_transaction
from storage.models import Pledge, PledgeStatus, Volunteer
from storage.queries import pledges as pledge_queries


async def _require_staff_somewhere(session: AsyncSession, actor: Actor) -> None:
    """Before any pledge is looked up: see ``access.require_somewhere``."""
    await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_ACTIVITIES)


async def _require_staff(session: AsyncSession, actor: Actor, pledge: Pledge) -> None:
    await access.require(
        session,
        actor=actor,
        permission=Permission.MANAGE_ACTIVITIES,
        station_id=pledge.station_id,
    )


def still_open(pledge: Pledge) -> None:
    """InvalidInput('pledge_decided', status=..., receipt=...) unless it is still open."""
    if pledge.status is not PledgeStatus.OPEN:
        raise InvalidInput("pledge_decided", status=pledge.status.value, receipt=pledge.receipt)


async def for_staff(session: AsyncSession, *, actor: Actor, pledge_id: int) -> PledgeView:
    """One pledge, for staff of its station (or above). NotFound('pledge_not_found')."""
    await _require_staff_somewhere(session, actor)
    view = await view_of(session, pledge_id)
    if view is None:
        raise NotFound("pledge_not_found")
    await _require_staff(session, actor, view.pledge)
    return view


async def own(session: AsyncSession, *, user_id: int, pledge_id: int) -> PledgeView:
    """One of the user's own pledges. Anyone else's is NotFound('pledge_not_found'),
    as if it did not exist: nobody learns which receipts others hold."""
    view = await view_of(session, pledge_id)
    if view is None or view.user_id is None or view.user_id != user_id:
        raise NotFound("pledge_not_found")
    return view


async def _locked(session: AsyncSession, pledge_id: int) -> Pledge:
    pledge = await pledge_queries.locked(session, pledge_id)
    if pledge is None:
        raise NotFound("pledge_not_found")
    return pledge


async def decide(
    session: AsyncSession,
    *,
    actor: Actor,
    pledge_id: int,
    status: PledgeStatus,
    now: datetime,
    default_tz: str = when.DEFAULT_ZONE,
) -> PledgeView:
    """Staff mark an open pledge received or cancelled; the volunteer's note is queued
    in the same transaction. Raises NotFound('pledge_not_found'), NotAllowed, or
    InvalidInput('pledge_decided', status=...) when it was decided already."""
    if status is PledgeStatus.OPEN:
        raise InvalidInput("bad_status")
    async with write_transaction(session):
        await _require_staff_somewhere(session, actor)
        pledge = await _locked(session, pledge_id)
        await _require_staff(session, actor, pledge)
        still_open(pledge)
        pledge.status = status
        pledge.decided_at = now
        pledge.decided_by = actor.id
        session.add(pledge)
        await session.flush()
        view = await view_of(session, pledge_id)
        assert view is not None
        if view.user_id is not None:
            await outbox.enqueue(
                session,
                [
                    Message(
                        user_id=view.user_id,
                        kind=DECIDED,
                        key=decided_key(pledge_id, status),
                        payload={"pledge_id": pledge_id, "tz": default_tz},
                        priority=outbox.NOTICE,
                        station_id=pledge.station_id,
                    )
                ],
            )
        audit.record(
            session,
            actor_id=actor.id,
            action="pledge." + status.value,
            station_id=pledge.station_id,
            subject_type="pledge",
            subject_id=pledge_id,
            receipt=pledge.receipt,
            amount_fen=pledge.amount_fen,
        )
    return view


async def withdraw(
    session: AsyncSession, *, user_id: int, pledge_id: int, now: datetime
) -> PledgeView:
    """The volunteer takes back their own open pledge (it is cancelled; staff are not
    messaged, it leaves their list). Raises NotFound (also when it is not theirs, see
    ``own``) or InvalidInput('pledge_decided', status=...)."""
    async with write_transaction(session):
        pledge = await _locked(session, pledge_id)
        volunteer = await session.get(Volunteer, pledge.volunteer_id)
        if volunteer is None or volunteer.user_id is None or volunteer.user_id != user_id:
            raise NotFound("pledge_not_found")
        still_open(pledge)
        pledge.status = PledgeStatus.CANCELLED
        pledge.decided_at = now
        pledge.decided_by = user_id
        session.add(pledge)
        await session.flush()
        await outbox.withdraw(session, [reminder_key(pledge_id)])
        audit.record(
            session,
            actor_id=user_id,
            action="pledge.withdrawn",
            station_id=pledge.station_id,
            subject_type="pledge",
            subject_id=pledge_id,
            receipt=pledge.receipt,
            amount_fen=pledge.amount_fen,
        )
        view = await view_of(session, pledge_id)
        assert view is not None
    return view
