"""Closing the records: what closing would credit (or what stands in its way), then
closing, which credits the confirmed hours."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import fail
from services.access import Actor
from services.closing import close, close_preview
from services.errors import DomainError, InvalidInput, NotAllowed
from storage.types import utcnow
from ui import screen
from ui.callbacks import RosterCloseCb
from ui.durations import duration
from ui.errors import error_text, names, refuse
from ui.keyboards import attendance as kb
from ui.settings import Settings


async def close_pressed(
    callback: CallbackQuery,
    callback_data: RosterCloseCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    activity_id = callback_data.activity
    if not callback_data.confirm:
        await _close_preview(callback, bot, session, settings, actor, activity_id, locale)
        return
    try:
        result = await close(session, actor=actor, activity_id=activity_id, now=utcnow())
    except NotAllowed:
        await refuse(callback)
        return
    except InvalidInput as error:
        if error.code == "checkout_missing":
            await screen.replace(
                callback, bot, error_text(error, locale=locale), kb.back_to_roster(activity_id)
            )
            return
        await fail(callback, bot, error, session, settings, locale)
        return
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    title = html.quote(result.activity.title)
    offer = _(
        "Add photos and a short summary for the activity's record (台账), and get its record sheet:"
    )
    if result.already:
        text = _("The records of <b>{title}</b> were already closed.").format(title=title)
    else:
        text = (
            _("🔒 The records of <b>{title}</b> are closed.").format(title=title)
            + "\n"
            + ngettext(
                "{time} credited to {n} volunteer.",
                "{time} credited to {n} volunteers.",
                result.volunteers,
            ).format(time=duration(result.minutes), n=result.volunteers)
        )
    await screen.replace(callback, bot, text + "\n\n" + offer, kb.after_closing(activity_id))


async def _close_preview(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    activity_id: int,
    locale: str,
) -> None:
    try:
        preview = await close_preview(
            session,
            actor=actor,
            activity_id=activity_id,
            now=utcnow(),
            default_timezone=settings.timezone,
        )
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    activity = preview.activity
    title = html.quote(activity.title)
    if activity.closed_at is not None:
        text = _("The records of <b>{title}</b> were already closed.").format(title=title)
        await screen.replace(callback, bot, text, kb.back_to_roster(activity_id))
        return
    if preview.unresolved:
        missing = InvalidInput("checkout_missing", names=preview.unresolved)
        await screen.replace(
            callback, bot, error_text(missing, locale=locale), kb.back_to_roster(activity_id)
        )
        return
    lines = [
        _("Close the records of <b>{title}</b>?").format(title=title),
        "",
        ngettext(
            "{time} will be credited to {n} volunteer.",
            "{time} will be credited to {n} volunteers.",
            preview.volunteers,
        ).format(time=duration(preview.minutes), n=preview.volunteers),
    ]
    if preview.unmarked:
        lines.append(
            _("Not recorded, so no hours and no no-show: {names}.").format(
                names=names(preview.unmarked)
            )
        )
    lines += [
        "",
        _(
            "After closing, check-in stops. You can still correct attendance and "
            "beneficiaries; every correction is logged."
        ),
    ]
    await screen.replace(callback, bot, "\n".join(lines), kb.close_confirm(activity_id))
