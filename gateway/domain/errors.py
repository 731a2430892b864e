"""Domain errors: what a caller did wrong, in words a client can act on."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; `code` is the stable machine-readable name."""

    code = "DOMAIN_ERROR"


class InvalidArgument(DomainError):
    """An argument is malformed or out of range (GraphQL `BAD_USER_INPUT`)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
