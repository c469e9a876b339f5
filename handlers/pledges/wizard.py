"""/pledge: the volunteer's dialog. What it is for (their station's community fund or
an upcoming activity), how much (a quick amount or a typed one), whether staff see
their name, then the check and the receipt. Every step checks again that they may
still pledge, and that the activity is still open for pledges."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.pledges.wizard_screens import (
    amount_screen,
    anonymous_screen,
    confirm_screen,
    purpose_screen,
    receipt_text,
)
from handlers.pledges.words import alert, ceiling_fen, fail
from services import money, pledges
from services.access import Actor
from services.errors import DomainError, InvalidInput
from services.pledges import Purpose
from storage.types import utcnow
from ui import prompt, screen
from ui.callbacks import (
    PledgeAmountCb,
    PledgeAnonymousCb,
    PledgeConfirmCb,
    PledgePurposeCb,
    PledgePurposePageCb,
)
from ui.errors import error_text, no_longer_active
from ui.settings import Settings
from ui.states import PledgeDialog


async def start_pledge(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, actor: Actor
) -> None:
    try:
        text, markup = await purpose_screen(session, actor, 0, settings)
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await state.set_state(PledgeDialog.purpose)
    await state.set_data({})
    await message.answer(text, reply_markup=markup)


async def purpose_page(
    callback: CallbackQuery,
    callback_data: PledgePurposePageCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        text, markup = await purpose_screen(session, actor, callback_data.page, settings)
    except DomainError as error:
        await fail(callback, bot, state, error)
        return
    await screen.replace(callback, bot, text, markup)


async def purpose_chosen(
    callback: CallbackQuery,
    callback_data: PledgePurposeCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        chosen = await pledges.purpose(
            session, user_id=actor.id, activity_id=callback_data.activity or None, now=utcnow()
        )
    except InvalidInput as error:
        await _back_to_purpose(callback, bot, state, session, settings, actor, error)
        return
    except DomainError as error:
        await fail(callback, bot, state, error)
        return
    await state.set_data({"activity": callback_data.activity})
    await state.set_state(PledgeDialog.amount)
    text, markup = amount_screen(chosen, settings, actor.locale)
    await screen.replace(callback, bot, text, markup)


async def _back_to_purpose(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    error: DomainError,
) -> None:
    """The first step again, with an alert saying why the chosen purpose is gone."""
    try:
        text, markup = await purpose_screen(session, actor, 0, settings)
    except DomainError as again:
        await fail(callback, bot, state, again)
        return
    await state.set_data({})
    await state.set_state(PledgeDialog.purpose)
    await screen.replace(
        callback, bot, text, markup, note=error_text(error, plain=True), alert=True
    )


async def _dialog_purpose(
    state: FSMContext, session: AsyncSession, actor: Actor
) -> tuple[dict[str, Any], Purpose]:
    """The dialog's data and its purpose, checked again now."""
    data = await state.get_data()
    activity = data.get("activity")
    chosen = await pledges.purpose(
        session,
        user_id=actor.id,
        activity_id=activity if isinstance(activity, int) and activity else None,
        now=utcnow(),
    )
    return data, chosen


async def amount_chosen(
    callback: CallbackQuery,
    callback_data: PledgeAmountCb,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    actor: Actor,
) -> None:
    if callback_data.fen == 0:
        await callback.answer()
        await bot.send_message(
            callback.from_user.id,
            _("Type the amount in yuan, for example 50, 50.5 or ¥50."),
        )
        return
    try:
        fen = money.check_fen(callback_data.fen, ceiling_fen=ceiling_fen(settings))
    except InvalidInput as error:
        await alert(callback, error)
        return
    await _store_amount(state, fen)
    text, markup = anonymous_screen(fen, actor.locale)
    await screen.replace(callback, bot, text, markup)


async def _store_amount(state: FSMContext, fen: int) -> None:
    await state.update_data(amount_fen=fen)
    await state.set_state(PledgeDialog.anonymous)


def _ask_again(error: DomainError) -> str:
    return error_text(error) + "\n" + _("Please type the amount again, or send /cancel to stop.")


async def amount_typed(
    message: Message, state: FSMContext, settings: Settings, actor: Actor
) -> None:
    ceiling = ceiling_fen(settings)
    fen = await prompt.take(
        message, lambda text: money.parse_fen(text, ceiling_fen=ceiling), explain=_ask_again
    )
    if fen is None:
        return
    await _store_amount(state, fen)
    text, markup = anonymous_screen(fen, actor.locale)
    await message.answer(text, reply_markup=markup)


async def anonymity_chosen(
    callback: CallbackQuery,
    callback_data: PledgeAnonymousCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        data, chosen = await _dialog_purpose(state, session, actor)
    except InvalidInput as error:
        await _back_to_purpose(callback, bot, state, session, settings, actor, error)
        return
    except DomainError as error:
        await fail(callback, bot, state, error)
        return
    amount = data.get("amount_fen")
    if not isinstance(amount, int):
        await callback.answer(no_longer_active())
        return
    # The receipt's random part, drawn now: confirming twice finds the same pledge.
    await state.update_data(anonymous=callback_data.anonymous, token=pledges.new_token())
    await state.set_state(PledgeDialog.confirm)
    text, markup = confirm_screen(chosen, amount, callback_data.anonymous, actor.locale)
    await screen.replace(callback, bot, text, markup)


async def confirmed(
    callback: CallbackQuery,
    callback_data: PledgeConfirmCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    if callback_data.action == "cancel":
        await cancelled(callback, bot, state)
        return
    if callback_data.action != "ok":
        await callback.answer(no_longer_active())
        return
    data = await state.get_data()
    activity, amount = data.get("activity"), data.get("amount_fen")
    token, anonymous = data.get("token"), data.get("anonymous")
    if not (isinstance(amount, int) and isinstance(anonymous, bool) and pledges.is_token(token)):
        await state.clear()
        await callback.answer(no_longer_active(), show_alert=True)
        await screen.strip(bot, callback)
        return
    assert isinstance(token, str)
    try:
        made = await pledges.create(
            session,
            user_id=actor.id,
            activity_id=activity if isinstance(activity, int) and activity else None,
            amount_fen=amount,
            anonymous=anonymous,
            token=token,
            ceiling_fen=ceiling_fen(settings),
            now=utcnow(),
            default_tz=settings.timezone,
        )
    except InvalidInput as error:
        if error.code == "activity_gone":
            await _back_to_purpose(callback, bot, state, session, settings, actor, error)
        elif error.code.startswith("amount_"):  # the ceiling was lowered meanwhile
            try:
                _data, chosen = await _dialog_purpose(state, session, actor)
            except DomainError as again:
                await fail(callback, bot, state, again)
                return
            await state.set_state(PledgeDialog.amount)
            text, markup = amount_screen(chosen, settings, actor.locale)
            note = error_text(error, plain=True)
            await screen.replace(callback, bot, text, markup, note=note, alert=True)
        else:
            await alert(callback, error)
        return
    except DomainError as error:
        await fail(callback, bot, state, error)
        return
    await state.clear()
    await screen.replace(
        callback, bot, receipt_text(made.view, actor.locale), note=_("Pledge recorded.")
    )


async def cancelled(callback: CallbackQuery, bot: Bot, state: FSMContext) -> None:
    await state.clear()
    await screen.replace(callback, bot, _("Cancelled. No pledge was made."))
