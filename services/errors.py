"""Domain errors. Each carries a stable code the Telegram layer turns into a message."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors a person can fix or must be told about."""

    code = "domain_error"

    def __init__(self, code: str | None = None, **params: object) -> None:
        super().__init__(code or self.code)
        if code:
            self.code = code
        self.params = params


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    code = "not_allowed"
