"""/verify CODE (and the QR code's /start verify_<code>): is a certificate genuine, and
what does it state; open to anyone, registered or not."""

from __future__ import annotations

from aiogram import html
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.hours.common import certificate_key, leave
from reports.certificate_pdf import format_day, hours_text, station_label
from services import certificates
from services.certificates import Statement, Withdrawn
from ui.date_range import date_range
from ui.format import join
from ui.settings import Settings
from ui.states import VerifyDialog


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
