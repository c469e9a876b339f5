"""An activity's record (台账), from /roster and from closing: staff attach photos (sent
as Telegram photos) and write a short summary, and get the record sheet (PDF) the
station files. Every press and every photo checks the permission again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram import Bot, F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message, PhotoSize
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance import record_photos
from handlers.attendance.common import fail, fail_typed
from reports import certificate_pdf
from services import activity_records
from services.access import Actor
from services.activity_records import MAX_PHOTO_BYTES, MAX_PHOTOS, SUMMARY_MAX, Record
from services.errors import DomainError, InvalidInput
from storage.models import ActivityStatus
from storage.types import utcnow
from ui import prompt, screen
from ui.callbacks import RosterRecCb
from ui.errors import no_longer_active
from ui.format import format_when
from ui.keyboards import attendance as kb
from ui.settings import Settings
from ui.states import RosterDialog

OPEN, PHOTOS, SUMMARY, DONE, FILE = "o", "p", "s", "d", "f"


def _can_add(found: Record) -> bool:
    activity = found.activity
    return activity.status is ActivityStatus.PUBLISHED and found.now >= activity.starts_at


def record_view(found: Record, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    activity = found.activity
    assert activity.id is not None
    waiting = sum(1 for p in found.photos if p.stored_path is None)
    photos = _("📷 Photos: {count} of {max}").format(count=len(found.photos), max=MAX_PHOTOS)
    if waiting:
        photos += " " + ngettext(
            "({n} still to be fetched from Telegram)",
            "({n} still to be fetched from Telegram)",
            waiting,
        ).format(n=waiting)
    summary = html.quote(activity.summary) if activity.summary else _("none yet")
    lines = [
        _("<b>Record of {title}</b>").format(title=html.quote(activity.title)),
        format_when(activity.starts_at, activity.ends_at, found.zone, locale),
        "",
        photos,
        _("📝 Summary:") + " " + summary,
    ]
    if not _can_add(found):
        lines += ["", _("Photos and the summary can be added once the activity has started.")]
    markup = kb.record(activity.id, can_add=_can_add(found), photos_left=found.room > 0)
    return "\n".join(lines), markup


async def _load(
    session: AsyncSession, settings: Settings, actor: Actor, activity_id: int
) -> Record:
    return await activity_records.record(
        session,
        actor=actor,
        activity_id=activity_id,
        now=utcnow(),
        default_timezone=settings.timezone,
    )


async def record_pressed(
    callback: CallbackQuery,
    callback_data: RosterRecCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    action = callback_data.action
    if action not in (OPEN, PHOTOS, SUMMARY, DONE, FILE):
        await callback.answer(no_longer_active())
        return
    if action == FILE:
        await _send_sheet(callback, callback_data.activity, bot, session, settings, locale, actor)
        return
    try:
        found = await _load(session, settings, actor, callback_data.activity)
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    title = html.quote(found.activity.title)
    if action in (PHOTOS, SUMMARY) and not _can_add(found):
        await callback.answer(
            _("Photos and the summary can be added once the activity has started."),
            show_alert=True,
        )
        return
    if action == PHOTOS and found.room == 0:
        full = InvalidInput("photos_full", max=MAX_PHOTOS, title=found.activity.title)
        await fail(callback, bot, full, session, settings, locale)
        return
    if action == PHOTOS:
        await callback.answer()
        await state.set_state(RosterDialog.photos)
        await state.set_data({"activity": callback_data.activity})
        await bot.send_message(
            actor.id,
            ngettext(
                "Send the photos of <b>{title}</b> as photos (not as files): {n} more fits. "
                "Press «Done» when you have sent them.",
                "Send the photos of <b>{title}</b> as photos (not as files): up to {n} more. "
                "Press «Done» when you have sent them.",
                found.room,
            ).format(title=title, n=found.room),
            reply_markup=kb.photos_done(callback_data.activity),
        )
        return
    if action == SUMMARY:
        await callback.answer()
        await state.set_state(RosterDialog.summary)
        await state.set_data({"activity": callback_data.activity})
        await bot.send_message(
            actor.id,
            _(
                "Type a short summary of <b>{title}</b> for its record (what was done, for "
                "whom, how it went), at most {max} characters. It replaces the summary so "
                "far. Send /cancel to stop."
            ).format(title=title, max=SUMMARY_MAX),
        )
        return
    if action == DONE and (await state.get_state()) == RosterDialog.photos.state:
        await state.clear()
    text, markup = record_view(found, locale)
    await screen.replace(callback, bot, text, markup)


def _best_size(sizes: list[PhotoSize]) -> PhotoSize | None:
    """The largest size of the photo within the limit (Telegram sends several)."""
    fitting = [s for s in sizes if s.file_size is None or s.file_size <= MAX_PHOTO_BYTES]
    if not fitting:
        return None
    return max(fitting, key=lambda s: (s.width * s.height, s.file_size or 0))


async def _activity_of(message: Message, state: FSMContext) -> int | None:
    return await prompt.kept(message, state, lambda data: int(data["activity"]))


async def photo_sent(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    activity_id = await _activity_of(message, state)
    if activity_id is None:
        return
    size = _best_size(list(message.photo or []))
    try:
        if size is None:
            raise InvalidInput("photo_too_large", max=MAX_PHOTO_BYTES // (1024 * 1024))
        added = await activity_records.add_photo(
            session,
            actor=actor,
            activity_id=activity_id,
            file_id=size.file_id,
            file_unique_id=size.file_unique_id,
            width=size.width,
            height=size.height,
            file_size=size.file_size,
            now=utcnow(),
        )
    except DomainError as error:
        await fail_typed(message, state, error, session, settings, locale, again="photo_")
        return
    photo = added.photo
    assert photo.id is not None
    if added.duplicate:
        await message.answer(
            _("That photo is already in the record ({count} of {max}).").format(
                count=added.count, max=MAX_PHOTOS
            ),
            reply_markup=kb.photos_done(activity_id),
        )
        return
    data_dir = Path(settings.data_dir)
    fetched = await record_photos.fetch(
        bot, session, data_dir, activity_id=activity_id, photo_id=photo.id, file_id=photo.file_id
    )
    text = _("Photo {count} of {max} saved.").format(count=added.count, max=MAX_PHOTOS)
    if fetched is None:
        text += " " + _(
            "Telegram did not hand over the file just now; it is kept and fetched again "
            "when the record sheet is made."
        )
    if added.count >= MAX_PHOTOS:
        await state.clear()
        text += "\n" + _("That is the most a record holds.")
    await message.answer(text, reply_markup=kb.photos_done(activity_id))


async def not_a_photo(message: Message, state: FSMContext) -> None:
    """Anything but a photo while photos are awaited: say what is wanted."""
    activity_id = await _activity_of(message, state)
    if activity_id is None:
        return
    if message.document is not None:
        text = _(
            "That came as a file. Please send it as a photo: in Telegram choose "
            "«Photo» (compressed), not «File»."
        )
    else:
        text = _("Please send a photo, or press «Done».")
    await message.answer(text, reply_markup=kb.photos_done(activity_id))


async def not_text(message: Message) -> None:
    await message.answer(_("Please type the summary as text, or send /cancel to stop."))


async def summary_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    activity_id = await _activity_of(message, state)
    if activity_id is None:
        return
    summary = await prompt.take(message, activity_records.parse_summary)
    if summary is None:
        return  # too long or empty: asked again
    try:
        await activity_records.set_summary(
            session, actor=actor, activity_id=activity_id, text=summary, now=utcnow()
        )
        found = await _load(session, settings, actor, activity_id)
    except DomainError as error:
        await fail_typed(message, state, error, session, settings, locale)
        return
    await state.clear()
    text, markup = record_view(found, locale)
    await message.answer(_("Summary saved.") + "\n\n" + text, reply_markup=markup)


async def _send_sheet(
    callback: CallbackQuery,
    activity_id: int,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    locale: str,
    actor: Actor,
) -> None:
    try:
        sheet = await activity_records.sheet(
            session,
            actor=actor,
            activity_id=activity_id,
            now=utcnow(),
            default_timezone=settings.timezone,
        )
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    font = await asyncio.to_thread(certificate_pdf.find_cjk_font)
    if font is None:
        await callback.answer(
            _(
                "The PDF needs a Chinese font, which this server lacks. Please tell the "
                "administrator."
            ),
            show_alert=True,
        )
        return
    await callback.answer()
    images = await record_photos.images(
        bot, session, Path(settings.data_dir), sheet.activity_id, sheet.photos
    )
    from reports import record_sheet_files  # fpdf2 and PIL load with the first sheet

    document = await asyncio.to_thread(
        record_sheet_files.sheet_pdf, sheet, locale=locale, font=font, images=images
    )
    missing = len(sheet.photos) - len(images)
    caption = _("Record sheet of <b>{title}</b> ({when}).").format(
        title=html.quote(sheet.title),
        when=format_when(sheet.starts_at, sheet.ends_at, sheet.zone, locale),
    )
    if missing:
        caption += " " + ngettext(
            "{n} photo could not be fetched from Telegram and is marked on the sheet.",
            "{n} photos could not be fetched from Telegram and are marked on the sheet.",
            missing,
        ).format(n=missing)
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(document, filename=f"record-{sheet.activity_id}.pdf"),
        caption=caption,
    )


def register(router: Router) -> None:
    """The record's buttons and what the dialog takes (inside the roster's router)."""
    router.callback_query.register(record_pressed, RosterRecCb.filter())
    router.message.register(photo_sent, RosterDialog.photos, F.photo)
    router.message.register(not_a_photo, RosterDialog.photos, ~F.text.startswith("/"))
    router.message.register(summary_typed, RosterDialog.summary, prompt.ANSWER)
    router.message.register(not_text, RosterDialog.summary, ~F.text.startswith("/"))
