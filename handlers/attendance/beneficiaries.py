"""Beneficiaries: staff record the people served (人次) of an activity by target group,
typing each group's count."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import fail, fail_typed, load
from services.access import Actor
from services.attendance_values import BENEFICIARIES_MAX, check_group, parse_count
from services.errors import DomainError
from services.marks import set_beneficiaries
from services.roster import Roster
from storage.models import TargetGroup
from storage.types import utcnow
from ui import labels, prompt, screen
from ui.callbacks import RosterBenCb
from ui.keyboards import attendance as kb
from ui.settings import Settings
from ui.states import RosterDialog


def beneficiaries_view(found: Roster) -> tuple[str, InlineKeyboardMarkup]:
    activity = found.activity
    assert activity.id is not None
    lines = [
        _("<b>Beneficiaries of {title}</b>").format(title=html.quote(activity.title)),
        _("People served (人次) by target group. Tap a group to type its count."),
        "",
    ]
    buttons = []
    for group in TargetGroup:
        count = found.beneficiaries.get(group)
        if count is None:
            entry = _("{group}: not recorded").format(group=labels.TARGETS[group])
        else:
            entry = _("{group}: {count} served").format(group=labels.TARGETS[group], count=count)
        lines.append("• " + entry)
        buttons.append((group.value, entry))
    lines += ["", _("Total: {total}").format(total=sum(found.beneficiaries.values()))]
    return "\n".join(lines), kb.beneficiaries(activity.id, buttons)


async def open_beneficiaries(
    callback: CallbackQuery,
    callback_data: RosterBenCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    try:
        found = await load(session, settings, actor, callback_data.activity)
        group = check_group(callback_data.group) if callback_data.group else None
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    if group is None:
        text, markup = beneficiaries_view(found)
        await screen.replace(callback, bot, text, markup)
        return
    await callback.answer()
    await state.set_state(RosterDialog.beneficiaries)
    await state.set_data({"activity": callback_data.activity, "group": group.value})
    count = found.beneficiaries.get(group)
    await bot.send_message(
        actor.id,
        _(
            "How many people from {group} were served at <b>{title}</b>? Type a number from "
            "0 to {max}; it replaces the count recorded so far ({count}). Send /cancel to stop."
        ).format(
            group=labels.TARGETS[group],
            title=html.quote(found.activity.title),
            max=BENEFICIARIES_MAX,
            count=count if count is not None else "—",
        ),
    )


async def count_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    remembered = await prompt.kept(
        message, state, lambda data: (int(data["activity"]), str(data["group"]))
    )
    if remembered is None:
        return
    activity_id, group = remembered
    count = await prompt.take(message, parse_count)
    if count is None:
        return  # a bad count: the same question again
    try:
        row = await set_beneficiaries(
            session,
            actor=actor,
            activity_id=activity_id,
            group=group,
            count=count,
            now=utcnow(),
        )
        found = await load(session, settings, actor, activity_id)
    except DomainError as error:
        await fail_typed(message, state, error, session, settings, locale, again="count")
        return
    await state.clear()
    text, markup = beneficiaries_view(found)
    saved = _("Saved: {group}: {count}.").format(
        group=labels.TARGETS[row.target_group], count=row.count
    )
    await message.answer(saved + "\n\n" + text, reply_markup=markup)
