"""/cancel leaves the current dialog; /help lists what one can do, the staff
commands for those who hold their permission somewhere."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import roles as roles_service
from services import volunteers
from services.access import Actor, Permission, stations_where
from ui import labels
from ui.format import join


async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("There is nothing to cancel."), reply_markup=ReplyKeyboardRemove())
        return
    await state.clear()
    await message.answer(
        _("Cancelled. Nothing from this dialog was saved."), reply_markup=ReplyKeyboardRemove()
    )


async def show_help(message: Message, session: AsyncSession, actor: Actor) -> None:
    registered = await volunteers.get(session, actor.id) is not None
    lines = [_("<b>What you can do</b>")]
    if not registered:
        lines.append(_("/start — register as a volunteer"))
    lines += [
        _("/activities — upcoming activities to join"),
        _("/my — your activities, to check or cancel"),
        _("/checkin CODE — check in at an activity; /checkout CODE — check out"),
        _("/hours — your service hours and star level"),
        _("/certificate — a service certificate (PDF)"),
        _("/verify CODE — check whether a certificate is genuine"),
        _("/pledge — pledge a small donation (the bot takes no money)"),
        _("/mypledges — your pledges and their receipts"),
        _("/settings — the weekly digest and other settings"),
        _("/profile — see and edit your profile"),
        _("/language — 中文 / English"),
        _("/mydata — get a copy of the data kept about you"),
        _("/delete_me — erase your data"),
        _("/cancel — leave the current dialog"),
        _("/help — show this list"),
    ]
    roles = await roles_service.held_by(session, actor.id)
    if roles:
        lines.append("")
        lines.append(
            _("You also hold these roles: {roles}.").format(
                roles=join(sorted({str(labels.ROLES[r.role]) for r in roles}))
            )
        )
    lines += await _staff_help(session, actor)
    await message.answer("\n".join(lines))


async def _staff_help(session: AsyncSession, actor: Actor) -> list[str]:
    """The staff commands, for those who hold their permission on some station."""

    async def somewhere(permission: Permission) -> bool:
        return actor.is_admin or bool(
            await stations_where(session, actor=actor, permission=permission)
        )

    staff: list[str] = []
    if await somewhere(Permission.MANAGE_ACTIVITIES):
        staff += [
            _("/new_activity — publish an activity"),
            _("/manage — edit or cancel your station's activities"),
            _("/roster — attendance, check-in code, hours, beneficiaries, closing"),
            _("/pledges — open pledges: mark received or cancelled"),
            _("/import_hours — import past service hours from a spreadsheet"),
        ]
    if await somewhere(Permission.VIEW_TALLIES):
        staff.append(_("/tally — figures of your stations: text, chart and spreadsheet"))
        staff.append(_("/report — the monthly, quarterly or yearly report, with 同比 and 环比"))
    if await somewhere(Permission.BROADCAST):
        staff.append(_("/broadcast — send a message to your station's volunteers"))
    if await somewhere(Permission.MANAGE_TEAM):
        staff += [
            _("/invite — make an invitation link for staff or a coordinator"),
            _("/team — see a station's staff and coordinators, revoke a role"),
        ]
    if await somewhere(Permission.APPROVE_VOLUNTEERS):
        staff.append(_("/pending — approve or decline new volunteers"))
    if await somewhere(Permission.VIEW_AUDIT):
        staff.append(_("/audit — the latest changes in your stations, who made them and when"))
    if await somewhere(Permission.VIEW_VOLUNTEERS):
        staff.append(_("/volunteers — the register: search, hours, status, as a spreadsheet"))
    return ["", _("<b>For station staff</b>"), *staff] if staff else []
