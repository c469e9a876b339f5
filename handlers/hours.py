"""/hours: a volunteer's service hours and star level. /certificate: a service
certificate as a PDF. /verify CODE (and the QR code's /start verify_<code>): is a
certificate genuine, and what does it state; open to anyone."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from reports import certificate_pdf
from reports.certificate_pdf import (
    format_day,
    hours_text,
    station_label,
)
from services import certificate_key as certificate_keys
from services import certificates, hours, stations, when
from services.certificates import Period, Statement, Withdrawn
from services.errors import DomainError, InvalidInput, NotFound
from services.hours import HoursSummary
from storage.types import utcnow
from ui.callbacks import CertPeriodCb
from ui.date_range import date_range
from ui.durations import duration
from ui.format import join
from ui.settings import Settings
from ui.states import CertificateDialog, VerifyDialog

STAR, NO_STAR = "★", "☆"
FIRST_YEAR = 2000  # no certificate covers a year before this


def not_registered() -> str:
    return _("You are not registered yet. Send /start to register.")


def no_font() -> str:
    return _(
        "Service certificates are not available on this server yet: no Chinese font "
        "is installed. Please tell your station staff."
    )


def period_error(error: DomainError) -> str:
    texts = {
        "period_format": _(
            "Please type two dates, the first and the last day, such as "
            "2026-01-01 2026-06-30 (or 2026-01-01 to 2026-06-30). Send /cancel to stop."
        ),
        "period_date": _("{date} is not a date in the calendar. Please check it."),
        "period_order": _("The last day comes before the first. Please type them in order."),
        "period_future": _("That period has not begun yet. Please choose a past period."),
    }
    text = texts.get(error.code, _("That did not work. Please try again."))
    return text.format(**{k: html.quote(str(v)) for k, v in error.params.items()})


async def leave(state: FSMContext, own: State) -> None:
    """End our own dialog step; another feature's dialog is left as it is."""
    if await state.get_state() == own.state:
        await state.clear()


# --- /hours -----------------------------------------------------------------------


def stars_line(summary: HoursSummary) -> str:
    level = summary.level
    stars = STAR * level.stars + NO_STAR * (level.of - level.stars)
    return ngettext(
        "Star level: {stars} ({count} star)", "Star level: {stars} ({count} stars)", level.stars
    ).format(stars=stars, count=level.stars)


def next_star_line(summary: HoursSummary, locale: str) -> str:
    """The way to the next star, exact to the minute: with the total above it, it
    makes the threshold. Before any hours, the threshold alone (said once)."""
    level = summary.level
    if level.minutes_to_next is None or level.next_hours is None:
        return _("You have reached the highest star level. Thank you!")
    threshold = duration(level.next_hours * 60, locale)
    if not summary.total_minutes:
        return _("Your first star comes at {threshold} of service.").format(threshold=threshold)
    return _("{time} more to the next star (at {threshold}).").format(
        time=duration(level.minutes_to_next, locale), threshold=threshold
    )


def hours_view(summary: HoursSummary, locale: str) -> str:
    lines = [
        _("<b>Your service hours</b>"),
        "",
        _("Total: {hours}").format(hours=duration(summary.total_minutes, locale)),
        _("This year ({year}): {hours}").format(
            year=summary.year, hours=duration(summary.year_minutes, locale)
        ),
        stars_line(summary),
        next_star_line(summary, locale),
    ]
    if summary.no_shows_this_year:
        lines.append(
            ngettext(
                "No-shows this year: {count} activity you signed up for without coming",
                "No-shows this year: {count} activities you signed up for without coming",
                summary.no_shows_this_year,
            ).format(count=summary.no_shows_this_year)
        )
    lines.append("")
    if not summary.latest:
        lines.append(
            _(
                "No confirmed hours yet. Hours count once the station staff confirm your "
                "attendance and close the activity."
            )
        )
        return "\n".join(lines)
    lines.append(_("<b>Latest activities</b>"))
    for item in summary.latest:
        zone = when.zone(item.station_zone, summary.zone.key)
        day = format_day(item.starts_at.astimezone(zone).date(), locale, "medium")
        lines.append(
            _("• {date} · {title} · {hours}").format(
                date=day, title=html.quote(item.title), hours=duration(item.minutes, locale)
            )
        )
    lines += ["", _("/certificate — get a service certificate as a PDF")]
    return "\n".join(lines)


async def show_hours(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        summary = await hours.summary(
            session=session,
            user_id=message.from_user.id,
            thresholds=settings.star_thresholds,
            default_zone=settings.zone,
            now=utcnow(),
        )
    except NotFound:
        await message.answer(not_registered())
        return
    await message.answer(hours_view(summary, i18n.current_locale))


# --- /certificate -----------------------------------------------------------------


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
        await callback.answer(_("This button is no longer active."))
        return
    await callback.answer()
    if callback.message is not None:  # one press, one certificate
        with contextlib.suppress(TelegramBadRequest):  # gone, or too old to edit
            await bot.edit_message_reply_markup(
                chat_id=user_id, message_id=callback.message.message_id
            )
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
        period = certificates.parse_period(message.text, await _today(session, user_id, settings))
    except NotFound:
        await state.clear()
        await message.answer(not_registered())
        return
    except InvalidInput as error:
        await message.answer(period_error(error))
        return
    await state.clear()
    await issue(bot, user_id, period, session, settings, i18n.current_locale)


async def certificate_key(session: AsyncSession, settings: Settings) -> bytes:
    """The key codes are issued and checked with (kept in the database)."""
    return await certificate_keys.key(
        session,
        configured=settings.configured_certificate_key(),
        legacy=settings.legacy_certificate_key(),
    )


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
    document = await asyncio.to_thread(
        certificate_pdf.render,
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


# --- /verify ----------------------------------------------------------------------


def statement_view(statement: Statement, locale: str) -> str:
    issued = statement.issued_at.astimezone(statement.zone).date()
    return "\n".join(
        [
            _("✅ <b>This is a genuine certificate.</b> It states:"),
            "",
            _("Code: {code}").format(code=certificates.display_code(statement.code)),
            _("Holder: {name}").format(name=html.quote(statement.holder_name)),
            _("Issued by: {station}").format(
                station=html.quote(
                    join(station_label(s, locale) for s in certificates.issuers(statement))
                )
            ),
            _("Period: {period}").format(
                period=date_range(statement.first_day, statement.last_day, locale)
            ),
            ngettext(
                "Service in the period: {hours} in {count} activity",
                "Service in the period: {hours} in {count} activities",
                statement.activity_count,
            ).format(
                hours=hours_text(statement.period_minutes, locale),
                count=statement.activity_count,
            ),
            _("Total service when issued: {hours}").format(
                hours=hours_text(statement.total_minutes, locale)
            ),
            _("Issued on: {date}").format(date=format_day(issued, locale)),
        ]
    )


def not_genuine() -> str:
    return _(
        "❌ <b>This is not a genuine certificate.</b> No certificate with this code was "
        "issued here. Check that the code was typed exactly as printed, for example "
        "/verify VS-ABCD-1234-EFGH."
    )


def withdrawn_view(withdrawn: Withdrawn, locale: str) -> str:
    """A certificate issued here and withdrawn since: genuine once, not forged."""
    issued = withdrawn.issued_at.astimezone(withdrawn.zone).date()
    gone = withdrawn.withdrawn_at.astimezone(withdrawn.zone).date()
    if withdrawn.erased:
        why = _(
            "Withdrawn on: {date}, when its holder erased their data from the bot. What "
            "it stated is no longer kept, so it can no longer be confirmed."
        )
    else:
        why = _("Withdrawn on: {date}. What it stated can no longer be confirmed.")
    return "\n".join(
        [
            _("⚠️ <b>This certificate was issued here, and has been withdrawn.</b>"),
            "",
            _("Code: {code}").format(code=certificates.display_code(withdrawn.code)),
            _("Issued by: {station}").format(
                station=html.quote(station_label(withdrawn.station, locale))
            ),
            _("Issued on: {date}").format(date=format_day(issued, locale)),
            why.format(date=format_day(gone, locale)),
        ]
    )


def not_a_code(text: str) -> str:
    return _(
        "“{text}” is not a verification code. A certificate's code looks like "
        "VS-ABCD-1234-EFGH: VS and twelve letters and digits, printed under the QR code "
        "and at the foot of every page. Please send /verify and the code."
    ).format(text=html.quote(text.strip()[:40]))


async def answer_code(
    message: Message, text: str, session: AsyncSession, settings: Settings, locale: str
) -> None:
    if certificates.normalise(text) is None:
        await message.answer(not_a_code(text))
        return
    found = await certificates.verify(
        session=session,
        text=text,
        key=await certificate_key(session, settings),
        default_zone=settings.timezone,
    )
    if isinstance(found, Withdrawn):
        await message.answer(withdrawn_view(found, locale))
    elif found is not None:
        await message.answer(statement_view(found, locale))
    else:
        await message.answer(not_genuine())


async def verify(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    if not command.args or not command.args.strip():
        await state.set_state(VerifyDialog.code)
        await message.answer(
            _(
                "Which certificate should I check? Type its verification code, such as "
                "VS-ABCD-1234-EFGH."
            )
        )
        return
    await leave(state, VerifyDialog.code)
    await answer_code(message, command.args, session, settings, i18n.current_locale)


async def code_typed(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.text is not None
    await state.clear()
    await answer_code(message, message.text, session, settings, i18n.current_locale)


async def verify_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/start verify_<code>: the QR code on a certificate, opened by anyone."""
    await leave(state, VerifyDialog.code)
    code = (command.args or "").removeprefix(certificates.DEEP_LINK)
    await answer_code(message, code, session, settings, i18n.current_locale)


# Typed answers; a command is never taken as an answer.
ANSWER = F.text & ~F.text.startswith("/")


def make_router() -> Router:
    router = Router(name="hours")
    router.message.filter(F.chat.type == "private")
    router.message.register(
        verify_link,
        CommandStart(deep_link=True, magic=F.args.startswith(certificates.DEEP_LINK)),
    )
    router.message.register(verify, Command("verify"))
    router.message.register(code_typed, VerifyDialog.code, ANSWER)
    router.message.register(show_hours, Command("hours"))
    router.message.register(ask_period, Command("certificate"))
    router.message.register(period_typed, CertificateDialog.period, ANSWER)
    router.callback_query.register(period_chosen, CertPeriodCb.filter())
    return router
