"""Staff open check-in: the code as text and as a QR image that opens the bot with it
(``/start ci_<code>``)."""

from __future__ import annotations

import io

from aiogram import Bot, html
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import clock, fail, load
from handlers.attendance.roster_screen import roster_view
from services.access import Actor
from services.attendance_codes import DEEP_LINK_PREFIX, open_checkin
from services.attendance_values import window
from services.errors import DomainError
from storage.types import utcnow
from ui import screen
from ui.callbacks import RosterCodeCb
from ui.format import format_moment
from ui.settings import Settings


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as a PNG image."""
    import segno  # loaded with the first code shown, not at startup

    buffer = io.BytesIO()
    segno.make_qr(link, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()


async def open_code(
    callback: CallbackQuery,
    callback_data: RosterCodeCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    try:
        activity = await open_checkin(
            session, actor=actor, activity_id=callback_data.activity, now=utcnow()
        )
        found = await load(session, settings, actor, callback_data.activity)
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    code = activity.checkin_code
    assert code is not None
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={DEEP_LINK_PREFIX}{code}"
    opens, closes, last = window(activity)
    zone = found.zone
    caption = "\n".join(
        [
            _("<b>Check-in: {title}</b>").format(title=html.quote(activity.title)),
            _("Code: <code>{code}</code>").format(code=code),
            _("Check-in from {start} to {end}; check-out until {last}.").format(
                start=format_moment(opens, zone, locale),
                end=clock(closes, zone, locale),
                last=clock(last, zone, locale),
            ),
            _(
                "Volunteers scan this QR code with their phone, or send /checkin {code} to @{bot}."
            ).format(code=code, bot=me.username),
        ]
    )
    text, markup = roster_view(found, callback_data.page, locale)
    await screen.replace(callback, bot, text, markup)
    await bot.send_photo(
        actor.id, BufferedInputFile(qr_png(link), filename=f"checkin-{code}.png"), caption=caption
    )
