"""The staff features: /invite and its links, /team and revoking a role, /pending and
the approval notices, /volunteers (the register). One router holding them; it comes
before registration's, as invitation links arrive as /start inv_..."""

from __future__ import annotations

from aiogram import Router

from handlers.staff import approvals, invites, register, team


def make_router() -> Router:
    router = Router(name="staff")
    router.include_routers(
        invites.make_router(),
        team.make_router(),
        approvals.make_router(),
        register.make_router(),
    )
    return router
