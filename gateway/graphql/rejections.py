"""Rejections: the expected failures of mutations, as members of each mutation's union.

Each domain rejection maps to the GraphQL type of the same name through a Strawberry exception
handler, which applies only to fields whose union lists that type. A rejection raised where
its type is not in the union is a bug, and surfaces as a masked internal error.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from gateway.domain import errors
from gateway.graphql.context import Info
from gateway.graphql.money import Money
from gateway.graphql.runtime import metrics


@strawberry.interface
class Rejection:
    code: str
    message: str


@strawberry.type
class FieldError:
    field: str = strawberry.field(description="Dotted input path, e.g. person.natural.birthDate")
    message: str


@strawberry.type
class ValidationRejection(Rejection):
    fields: list[FieldError]


@strawberry.type
class NotFoundRejection(Rejection):
    pass


@strawberry.type
class ForbiddenRejection(Rejection):
    pass


@strawberry.type
class DuplicateRejection(Rejection):
    field: str


@strawberry.type
class InsufficientFundsRejection(Rejection):
    available: Money


@strawberry.type
class CurrencyMismatchRejection(Rejection):
    pass


@strawberry.type
class InvalidStateRejection(Rejection):
    current_state: str | None = strawberry.field(
        default=None,
        description="The status the object is in, when its state is what refused the change.",
    )


@strawberry.type
class IdempotencyConflictRejection(Rejection):
    pass


def _simple(error: errors.Rejected, kind: Any) -> Any:
    return kind(code=error.code, message=error.message)


def _validation(error: errors.ValidationFailed) -> ValidationRejection:
    return ValidationRejection(
        code=error.code,
        message=error.message,
        fields=[FieldError(field=p.field, message=p.message) for p in error.problems],
    )


def _duplicate(error: errors.Duplicate) -> DuplicateRejection:
    return DuplicateRejection(code=error.code, message=error.message, field=error.field)


def _invalid_state(error: errors.InvalidState) -> InvalidStateRejection:
    return InvalidStateRejection(code=error.code, message=error.message, current_state=error.state)


def _insufficient(error: errors.InsufficientFunds) -> InsufficientFundsRejection:
    available = Money.of(error.available.amount, error.available.currency)
    return InsufficientFundsRejection(code=error.code, message=error.message, available=available)


def _handler(exception: type[errors.Rejected], error_type: type, convert: Any) -> Any:
    class Handler:
        exception_type = exception

        def handle(self, exc: Any, *, field: StrawberryField, info: Info) -> Any:
            metrics.note_rejection(error_type.__name__)
            return convert(exc)

    Handler.error_type = error_type  # type: ignore[attr-defined]
    Handler.__name__ = f"{error_type.__name__}Handler"
    return Handler()


EXCEPTION_HANDLERS = [
    _handler(errors.ValidationFailed, ValidationRejection, _validation),
    _handler(errors.NotFound, NotFoundRejection, lambda e: _simple(e, NotFoundRejection)),
    _handler(errors.Forbidden, ForbiddenRejection, lambda e: _simple(e, ForbiddenRejection)),
    _handler(errors.Duplicate, DuplicateRejection, _duplicate),
    _handler(errors.InsufficientFunds, InsufficientFundsRejection, _insufficient),
    _handler(
        errors.CurrencyMismatch,
        CurrencyMismatchRejection,
        lambda e: _simple(e, CurrencyMismatchRejection),
    ),
    _handler(errors.InvalidState, InvalidStateRejection, _invalid_state),
    _handler(
        errors.IdempotencyConflict,
        IdempotencyConflictRejection,
        lambda e: _simple(e, IdempotencyConflictRejection),
    ),
]


def as_rejection(error: errors.Rejected) -> Any:
    """The rejection type of `error`, for a result that is not a field of its own (one item
    of a bulk mutation's list)."""
    for handler in EXCEPTION_HANDLERS:
        if isinstance(error, handler.exception_type):
            return handler.handle(error, field=None, info=None)
    raise error
