"""Routers, in the order the dispatcher tries them."""

from aiogram import Router

from handlers import account, errors, fallback, registration


def get_routers() -> list[Router]:
    # account first: /cancel and /help must work inside any dialog.
    # fallback last: it takes everything the others did not.
    return [errors.router, account.router, registration.router, fallback.router]
