"""The sign-in sheet (签到表) buttons of /roster: the activity's sheet as a PDF to print
or as a spreadsheet, for staff who may run its roster (checked again on each press)."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Router, html
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import explain
from reports import certificate_pdf
from services import signin_sheet
from services.access import Actor
from services.errors import DomainError, NotAllowed
from storage.types import utcnow
from ui.callbacks import RosterSheetCb
from ui.errors import no_longer_active, refuse
from ui.format import format_when
from ui.settings import Settings

PDF, XLSX = "p", "x"


async def sheet_pressed(
    callback: CallbackQuery,
    callback_data: RosterSheetCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    if callback_data.fmt not in (PDF, XLSX):
        await callback.answer(no_longer_active())
        return
    try:
        sheet = await signin_sheet.sheet(
            session,
            actor=actor,
            activity_id=callback_data.activity,
            now=utcnow(),
            default_timezone=settings.timezone,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except DomainError as error:
        text = await explain(error, session, settings, locale, plain=True)
        await callback.answer(text, show_alert=True)
        return
    from reports import signin_sheet_files  # fpdf2 and openpyxl load with the first sheet

    if callback_data.fmt == PDF:
        font = await asyncio.to_thread(certificate_pdf.find_cjk_font)
        if font is None:
            await callback.answer(
                _(
                    "The PDF needs a Chinese font, which this server lacks. The Excel "
                    "sheet works: please use it, and tell the administrator."
                ),
                show_alert=True,
            )
            return
        document = await asyncio.to_thread(
            signin_sheet_files.sheet_pdf, sheet, locale=locale, font=font
        )
        name = f"signin-sheet-{sheet.activity_id}.pdf"
    else:
        document = await asyncio.to_thread(signin_sheet_files.sheet_xlsx, sheet, locale=locale)
        name = f"signin-sheet-{sheet.activity_id}.xlsx"
    await callback.answer()
    count = len(sheet.lines)
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(document, filename=name),
        caption=ngettext(
            "Sign-in sheet of <b>{title}</b> ({when}): {count} person on the roster, "
            "with empty rows for walk-ins.",
            "Sign-in sheet of <b>{title}</b> ({when}): {count} people on the roster, "
            "with empty rows for walk-ins.",
            count,
        ).format(
            title=html.quote(sheet.title),
            when=format_when(sheet.starts_at, sheet.ends_at, sheet.zone, locale),
            count=count,
        ),
    )


def make_router() -> Router:
    router = Router(name="signin")
    router.callback_query.register(sheet_pressed, RosterSheetCb.filter())
    return router
