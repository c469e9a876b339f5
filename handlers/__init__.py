"""Routers, in the order the dispatcher tries them. Each call builds fresh routers,
so several dispatchers (tests, a restart in the same process) can coexist."""

from aiogram import Router

from handlers import (
    account,
    activities,
    activity_admin,
    errors,
    fallback,
    invites,
    pending,
    registration,
    team,
)


def get_routers() -> list[Router]:
    # account first: /cancel and /help must work inside any dialog.
    # fallback last: it takes everything the others did not.
    return [
        errors.make_router(),
        account.make_router(),
        invites.make_router(),  # its /start inv_... before registration's /start
        team.make_router(),
        pending.make_router(),
        registration.make_router(),
        activities.make_router(),
        activity_admin.make_router(),
        fallback.make_router(),
    ]
