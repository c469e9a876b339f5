"""/certificate: a service certificate as a PDF, for this year, last year, all time or
a typed period."""

from __future__ import annotations

import asyncio
from datetime import date

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.hours.common import certificate_key, leave, no_font, not_registered
from reports import certificate_pdf
from reports.certificate_pdf import hours_text
from services import certificates, hours, stations
from services.certificates import Period
from services.errors import InvalidInput, NotFound
from storage.types import utcnow
from ui import prompt, screen
from ui.callbacks import CertPeriodCb
from ui.date_range import date_range
from ui.errors import no_longer_active
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings
from ui.states import CertificateDialog

FIRST_YEAR = 2000  # no certificate covers a year before this


async def _today(session: AsyncSession, user_id: int, settings: Settings) -> date:
    """Today in the volunteer's home station's zone. Raises NotFound if not registered."""
    _volunteer, station = await hours.home_station(session, user_id)
    zone = await stations.zone(session, station.id, settings.timezone)
    return utcnow().astimezone(zone).date()


def period_keyboard(today: date) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("This year ({year})").format(year=today.year),
        callback_data=CertPeriodCb(kind="y", year=today.year),
    )
    kb.button(
        text=_("Last year ({year})").format(year=today.year - 1),
        callback_data=CertPeriodCb(kind="y", year=today.year - 1),
    )
    kb.button(text=_("All time"), callback_data=CertPeriodCb(kind="a"))
    kb.adjust(2, 1)
    return kb.as_markup()


async def ask_period(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    assert message.from_user is not None
    try:
        today = await _today(session, message.from_user.id, settings)
    except NotFound:
        await message.answer(not_registered())
        return
    if await asyncio.to_thread(certificate_pdf.find_cjk_font) is None:
        await message.answer(no_font())
        return
    await state.set_state(CertificateDialog.period)
    await message.answer(
        _(
            "<b>Service certificate</b>\n\nWhich period should it cover? Tap a button, "
            "or type the first and the last day, such as 2026-01-01 2026-06-30."
        ),
        reply_markup=period_keyboard(today),
    )


async def period_chosen(
    callback: CallbackQuery,
    callback_data: CertPeriodCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    try:
        today = await _today(session, user_id, settings)
    except NotFound:
        await callback.answer(not_registered(), show_alert=True)
        return
    if callback_data.kind == "a":
        period = certificates.all_time(today)
    elif callback_data.kind == "y" and FIRST_YEAR <= callback_data.year <= today.year:
        period = certificates.year_period(callback_data.year, today)
    else:
        await callback.answer(no_longer_active())
        return
    await callback.answer()
    await screen.strip(bot, callback)  # one press, one certificate
    await leave(state, CertificateDialog.period)
    await issue(bot, user_id, period, session, settings, i18n.current_locale)


async def period_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.from_user is not None and message.text is not None
    user_id = message.from_user.id
    try:
        today = await _today(session, user_id, settings)
    except NotFound:
        await state.clear()
        await message.answer(not_registered())
        return
    period = await prompt.take(message, lambda text: certificates.parse_period(text, today))
    if period is None:
        return  # the same question again
    await state.clear()
    await issue(bot, user_id, period, session, settings, i18n.current_locale)


async def issue(
    bot: Bot,
    user_id: int,
    period: Period,
    session: AsyncSession,
    settings: Settings,
    locale: str,
) -> None:
    """Prepare the certificate, render it, record it, send it."""
    font = await asyncio.to_thread(certificate_pdf.find_cjk_font)
    if font is None:
        await bot.send_message(user_id, no_font())
        return
    try:
        certificate = await certificates.prepare(
            session=session,
            user_id=user_id,
            period=period,
            key=await certificate_key(session, settings),
            default_zone=settings.zone,
            locale=locale,
            now=utcnow(),
        )
    except NotFound:
        await bot.send_message(user_id, not_registered())
        return
    except InvalidInput:
        await bot.send_message(user_id, no_hours_text(period, locale))
        return
    statement = certificates.statement_of(certificate)
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={certificates.DEEP_LINK}{statement.code}"
    from reports import certificate_drawing  # fpdf2 loads with the first certificate

    document = await asyncio.to_thread(
        certificate_drawing.render,
        statement,
        locale=locale,
        font=font,
        verify_url=link,
        bot_username=me.username,
    )
    await certificates.record(session=session, certificate=certificate, actor_id=user_id)
    code = certificates.display_code(statement.code)
    await bot.send_document(
        user_id,
        BufferedInputFile(document, filename=f"certificate-{code}.pdf"),
        caption=ngettext(
            "Your service certificate: {hours} in {count} activity, {period}.\n"
            "Verification code: <code>{code}</code>. Anyone can check it with /verify.",
            "Your service certificate: {hours} in {count} activities, {period}.\n"
            "Verification code: <code>{code}</code>. Anyone can check it with /verify.",
            statement.activity_count,
        ).format(
            hours=hours_text(statement.period_minutes, locale),
            count=statement.activity_count,
            period=date_range(statement.first_day, statement.last_day, locale),
            code=code,
        ),
    )


def no_hours_text(period: Period, locale: str) -> str:
    if period.first is None:
        return _(
            "You have no confirmed service hours yet, so there is nothing to certify. "
            "No certificate was issued."
        )
    return _(
        "You have no confirmed service hours in {period}, so there is nothing to "
        "certify. No certificate was issued."
    ).format(period=date_range(period.first, period.last, locale))
