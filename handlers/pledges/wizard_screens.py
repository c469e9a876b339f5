"""The screens of the volunteer's pledge dialog: what it is for, how much, whether
staff see the name, the check before confirming, and the receipt."""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.pledges.words import (
    anonymity_line,
    button_money,
    ceiling_fen,
    no_money_note,
    purpose_text,
    station_text,
)
from services import pledges, stations
from services.access import Actor
from services.pledges import PledgeView, Purpose
from storage.types import utcnow
from ui import confirm, labels, paged
from ui.callbacks import (
    PledgeAmountCb,
    PledgeAnonymousCb,
    PledgeConfirmCb,
    PledgePurposeCb,
    PledgePurposePageCb,
)
from ui.format import babel_locale, money_text
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings

PURPOSE_PAGE = 5
TITLE_ON_BUTTON = 28
CANCEL = PledgeConfirmCb(action="cancel")


async def purpose_screen(
    session: AsyncSession, actor: Actor, page: int, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    locale = actor.locale
    found = await pledges.choices(
        session,
        user_id=actor.id,
        now=utcnow(),
        offset=max(page, 0) * PURPOSE_PAGE,
        limit=PURPOSE_PAGE,
    )
    home = labels.station_name(found.home, locale)
    lines = [
        _("<b>Make a pledge</b>"),
        _(
            "A pledge is a promise of a small donation. The bot takes no money: after you "
            "pledge, the station tells you how to give."
        ),
        "",
    ]
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🏠 Community fund of {station}").format(station=home),
        callback_data=PledgePurposeCb(activity=0),
    )
    if found.total:
        lines.append(
            _(
                "What is your pledge for? The community fund of your station, or one of "
                "these upcoming activities:"
            )
        )
        for number, activity in enumerate(found.activities, start=found.offset + 1):
            assert activity.id is not None
            zone = await stations.zone(session, activity.station_id, settings.timezone)
            date = format_skeleton(
                "MMMd", activity.starts_at, tzinfo=zone, locale=babel_locale(locale)
            )
            station = found.stations.get(activity.station_id)
            lines.append(
                f"{number}. <b>{html.quote(activity.title)}</b> · {date} · "
                + html.quote(labels.station_name(station, locale) if station else "—")
            )
            kb.button(
                text=f"{number}. {activity.title[:TITLE_ON_BUTTON]} · {date}",
                callback_data=PledgePurposeCb(activity=activity.id),
            )
    else:
        lines.append(
            _(
                "What is your pledge for? There are no upcoming activities right now, so "
                "it can go to the community fund of your station."
            )
        )
    shown = paged.window(found.offset // PURPOSE_PAGE, found.total, PURPOSE_PAGE)
    nav = paged.nav_row(kb, shown, lambda n: PledgePurposePageCb(page=n))
    kb.button(text=_("✖️ Cancel"), callback_data=CANCEL)
    kb.adjust(1, *([1] * len(found.activities)), *([nav] if nav else []), 1)
    return "\n".join(lines), kb.as_markup()


def amount_screen(
    purpose: Purpose, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    ceiling = ceiling_fen(settings)
    text = "\n".join(
        [
            _("Your pledge for {purpose}.").format(purpose=purpose_text(purpose, locale)),
            "",
            _(
                "How much would you like to pledge? Choose an amount, or type one in yuan, "
                "for example 50 or 50.5 (at most {ceiling})."
            ).format(ceiling=money_text(ceiling, locale)),
        ]
    )
    kb = InlineKeyboardBuilder()
    quick = [fen for fen in pledges.QUICK_AMOUNTS_FEN if fen <= ceiling]
    for fen in quick:
        kb.button(text=button_money(fen, locale), callback_data=PledgeAmountCb(fen=fen))
    kb.button(text=_("Another amount"), callback_data=PledgeAmountCb(fen=0))
    kb.button(text=_("✖️ Cancel"), callback_data=CANCEL)
    kb.adjust(*([len(quick)] if quick else []), 1, 1)
    return text, kb.as_markup()


def anonymous_screen(amount_fen: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("Amount: {amount}").format(amount=money_text(amount_fen, locale)),
            "",
            _("Should the station staff see your name with this pledge?"),
            _(
                "If you choose anonymous, staff lists show “anonymous” instead of your name. "
                "The pledge stays linked to you, so that you can see it in /mypledges and "
                "get its reminder."
            ),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("👤 Show my name"), callback_data=PledgeAnonymousCb(anonymous=False))
    kb.button(text=_("🙈 Anonymous"), callback_data=PledgeAnonymousCb(anonymous=True))
    kb.button(text=_("✖️ Cancel"), callback_data=CANCEL)
    kb.adjust(2, 1)
    return text, kb.as_markup()


def confirm_screen(
    purpose: Purpose, amount_fen: int, anonymous: bool, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("<b>Please check your pledge</b>"),
            "",
            _("For: {purpose}").format(purpose=purpose_text(purpose, locale)),
            _("Amount: {amount}").format(amount=money_text(amount_fen, locale)),
            anonymity_line(anonymous),
            "",
            _(
                "The bot takes no money: this is a promise. After you confirm, the station "
                "tells you how to give."
            ),
        ]
    )
    markup = confirm.keyboard(
        yes=PledgeConfirmCb(action="ok"), yes_text=_("✅ Confirm the pledge"), no=CANCEL
    )
    return text, markup


def receipt_text(view: PledgeView, locale: str) -> str:
    pledge = view.pledge
    return "\n".join(
        [
            _("✅ <b>Thank you! Your pledge is recorded.</b>"),
            "",
            _("Receipt number: <code>{receipt}</code>").format(receipt=pledge.receipt),
            _("For: {purpose}").format(purpose=purpose_text(view.purpose, locale)),
            _("Amount: {amount}").format(amount=money_text(pledge.amount_fen, locale)),
            anonymity_line(pledge.anonymous),
            "",
            no_money_note(station_text(view.purpose, locale)),
            "",
            _("Your pledges: /mypledges"),
        ]
    )
