"""What the pledge screens share: amounts on buttons, what a pledge is for, who made
it, its status, the note that the bot takes no money, and how a refusal is told."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_currency

from services import money
from services.errors import DomainError
from services.pledges import PledgeView, Purpose
from storage.models import PledgeStatus
from ui import labels, screen
from ui.errors import error_text
from ui.format import babel_locale
from ui.settings import Settings


def button_money(fen: int, locale: str) -> str:
    """A whole amount on a button: ¥50 / CN¥50."""
    return format_currency(
        Decimal(fen) / money.FEN_PER_YUAN,
        "CNY",
        format="¤#,##0",
        currency_digits=False,
        locale=babel_locale(locale),
    )


def ceiling_fen(settings: Settings) -> int:
    return money.yuan_to_fen(settings.pledge_ceiling_yuan)


def purpose_text(purpose: Purpose, locale: str) -> str:
    """What a pledge is for, as HTML."""
    station = html.quote(labels.station_name(purpose.station, locale))
    if purpose.activity is None:
        return _("the community fund of {station}").format(station=station)
    return _("the activity <b>{title}</b> ({station})").format(
        title=html.quote(purpose.activity.title), station=station
    )


def station_text(purpose: Purpose, locale: str) -> str:
    return html.quote(labels.station_name(purpose.station, locale))


def name_text(view: PledgeView) -> str:
    """The volunteer as staff see them: their name, or "anonymous"."""
    if view.pledge.anonymous:
        return _("anonymous")
    return html.quote(view.name) if view.name else "—"


def status_text(status: PledgeStatus) -> str:
    return {
        PledgeStatus.OPEN: _("⏳ open"),
        PledgeStatus.RECEIVED: _("✅ received"),
        PledgeStatus.CANCELLED: _("✖️ cancelled"),
    }[status]


def anonymity_line(anonymous: bool) -> str:
    if anonymous:
        return _("Your name: anonymous (staff do not see it)")
    return _("Your name: shown to the station staff")


def no_money_note(station: str) -> str:
    return _(
        "⚠️ <b>The bot takes no money</b> and will never ask you to pay. {station} will "
        "tell you how to give: in person at the station, or through the station's "
        "official channel. Never send money to anyone who claims to be this bot."
    ).format(station=station)


async def alert(callback: CallbackQuery, error: DomainError) -> None:
    """The error's text as an alert on the pressed button."""
    await callback.answer(error_text(error, plain=True), show_alert=True)


async def fail(callback: CallbackQuery, bot: Bot, state: FSMContext, error: DomainError) -> None:
    """The volunteer may no longer pledge: say why, end the dialog, take the buttons off."""
    await state.clear()
    await alert(callback, error)
    await screen.strip(bot, callback)


async def show_list(
    callback: CallbackQuery,
    bot: Bot,
    build: Awaitable[tuple[str, InlineKeyboardMarkup | None]],
    *,
    note: str | None = None,
    alert: bool = False,
) -> None:
    """A list built again (``build``) in place of the pressed message, the press
    answered with ``note``; when the list cannot be shown, with the note or why not."""
    try:
        text, markup = await build
    except DomainError as error:
        if note is None:
            await callback.answer(error_text(error, plain=True), show_alert=True)
        else:
            await callback.answer(note, show_alert=alert or None)
        return
    await screen.replace(callback, bot, text, markup, note=note, alert=alert)
