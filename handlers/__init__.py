"""Routers, in the order the dispatcher tries them. Each call builds fresh routers,
so several dispatchers (tests, a restart in the same process) can coexist."""

from aiogram import Router

from handlers import (
    account,
    activities,
    activity_admin,
    audit,
    backfill,
    broadcast,
    errors,
    fallback,
    groups,
    hours,
    pledges,
    registration,
    reminders,
    report,
    settings_menu,
    staff,
    tally,
)
from handlers.attendance import checkin, roster, signin
from ui import outbox  # noqa: F401  (the outbox's "text" kind)


def get_routers() -> list[Router]:
    # groups first: nothing from outside private chats reaches a feature.
    # The features, under one router: each of their text handlers starts from a
    # command or a dialog state, so a text that is neither passes them all at once
    # (bot.filters.gate_routers); account first: /cancel and /help work inside any
    # dialog.
    # fallback last: it takes everything the others did not.
    features = Router(name="features")
    features.include_routers(*_features())
    return [errors.make_router(), groups.make_router(), features, fallback.make_router()]


def _features() -> list[Router]:
    return [
        account.make_router(),
        staff.make_router(),  # invites' /start inv_... before registration's /start
        checkin.make_router(),  # its /start ci_... (the check-in QR code) likewise
        hours.make_router(),  # /verify is open to anyone, registered or not
        registration.make_router(),
        activities.make_router(),
        activity_admin.make_router(),
        roster.make_router(),
        signin.make_router(),  # the sign-in sheet buttons of /roster
        backfill.make_router(),  # adding to a roster's records late, /import_hours
        audit.make_router(),
        broadcast.make_router(),
        reminders.make_router(),
        settings_menu.make_router(),
        pledges.make_router(),
        tally.make_router(),
        report.make_router(),
    ]
