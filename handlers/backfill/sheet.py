"""/import_hours: staff pick a station, get the spreadsheet template, fill it in with
historical hours and send it back. The whole file is imported, or none of it with a
report row by row; a file sent twice adds nothing the second time."""

from __future__ import annotations

import asyncio
import io

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from reports import hours_template
from services import backfill, scopes
from services.access import Actor, Permission
from services.backfill import SheetRefused
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from storage.types import utcnow
from ui import prompt, screen, station_picker
from ui.callbacks import ImportStationCb
from ui.durations import duration
from ui.errors import error_text, refuse
from ui.format import station_path
from ui.settings import Settings
from ui.states import BackfillDialog

REPORT_LINES = 30  # rows a refusal lists; more are counted

QUESTION = station_picker.Question(
    top=lambda: _("Import hours into which station's records? Tap a name to open it."),
    at=lambda: _("Import hours into which station's records? {path}"),
)


async def _walk(
    session: AsyncSession, actor: Actor, station_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    return await station_picker.walk(
        session,
        actor=actor,
        permission=Permission.MANAGE_ACTIVITIES,
        station_id=station_id,
        page=page,
        factory=ImportStationCb,
        question=QUESTION,
    )


async def start(message: Message, session: AsyncSession, actor: Actor) -> None:
    try:
        text, markup = await _walk(session, actor, scopes.TOP, 0)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: ImportStationCb,
    bot: Bot,
    session: AsyncSession,
    state: FSMContext,
    actor: Actor,
) -> None:
    try:
        if callback_data.action != "p":
            text, markup = await _walk(session, actor, callback_data.id, callback_data.page)
            await screen.replace(callback, bot, text, markup)
            return
        view = await scopes.view(
            session,
            actor=actor,
            permission=Permission.MANAGE_ACTIVITIES,
            station_id=callback_data.id,
        )
        assert view.current is not None
        path = await station_path(session, callback_data.id, actor.locale)
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await callback.answer()
    await screen.strip(bot, callback)
    await state.set_state(BackfillDialog.sheet)
    await state.set_data({"station": callback_data.id})
    template = await asyncio.to_thread(hours_template.render_template)
    await bot.send_document(
        actor.id,
        BufferedInputFile(template, filename="hours-template.xlsx"),
        caption=_(
            "Hours for {path}: fill in this template (one row per person and activity) and "
            "send it back here as a file. At most {rows} rows and {kb} KB. If any row is "
            "wrong, nothing is imported and I say which rows to fix. Send /cancel to stop."
        ).format(path=path, rows=backfill.MAX_ROWS, kb=backfill.MAX_FILE_BYTES // 1024),
    )


def refusal(error: SheetRefused, locale: str) -> str:
    lines = [error_text(error, locale=locale)]
    for problem in error.problems[:REPORT_LINES]:
        reason = error_text(InvalidInput(problem.code, **problem.params), locale=locale)
        lines.append(_("• Row {row}: {reason}").format(row=problem.number, reason=reason))
    hidden = len(error.problems) - REPORT_LINES
    if hidden > 0:
        lines.append(ngettext("…and {n} more row.", "…and {n} more rows.", hidden).format(n=hidden))
    lines.append(_("Please fix them and send the whole file again, or send /cancel."))
    return "\n".join(lines)


def done_text(result: backfill.ImportResult, path: str) -> str:
    lines = [
        _("<b>Hours imported into {path}</b>").format(path=path),
        _("Rows: {rows}").format(rows=result.rows),
        _("Added: {n}").format(n=result.added),
        _("Changed: {n}").format(n=result.changed),
        _("Already there (not counted again): {n}").format(n=result.already),
        _("New people: {n}").format(n=result.new_people),
        _("Activities added to the records: {n}").format(n=result.new_activities),
        _("Time added: {time}").format(time=duration(result.minutes)),
        "",
        _("Volunteers see these hours marked as recorded by staff."),
    ]
    return "\n".join(lines)


async def sheet_sent(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    document = message.document
    assert document is not None
    station_id = await prompt.kept(message, state, lambda data: int(data["station"]))
    if station_id is None:
        return
    try:
        await backfill.require_importer(session, actor=actor, station_id=station_id)
    except NotAllowed:
        await state.clear()
        await refuse(message)
        return
    if document.file_size is not None and document.file_size > backfill.MAX_FILE_BYTES:
        error = InvalidInput("import_too_big", max_kb=backfill.MAX_FILE_BYTES // 1024)
        await message.answer(error_text(error, locale=locale))
        return
    content = io.BytesIO()
    await bot.download(document, destination=content)
    try:
        result = await backfill.import_hours(
            session,
            actor=actor,
            station_id=station_id,
            content=content.getvalue(),
            default_zone=settings.zone,
            now=utcnow(),
        )
        path = await station_path(session, station_id, locale)
    except NotAllowed:
        await state.clear()
        await refuse(message)
        return
    except SheetRefused as error:
        await message.answer(refusal(error, locale))
        return  # the same question: send the fixed file
    except NotFound as error:
        await state.clear()
        await message.answer(error_text(error, locale=locale))
        return
    except DomainError as error:
        await message.answer(error_text(error, locale=locale))
        return
    await state.clear()
    await message.answer(done_text(result, path))


async def not_a_file(message: Message) -> None:
    await message.answer(
        _(
            "Please send the filled-in template as a file (.xlsx), or send /cancel to stop. "
            "Send /import_hours to get the template again."
        )
    )
