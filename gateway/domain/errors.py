"""Domain errors: what a caller did wrong, in words a client can act on.

`Rejected` and its subclasses are the expected business failures of mutations; the GraphQL
layer turns each into the rejection type of the same name (`InsufficientFunds` ->
`InsufficientFundsRejection`). They carry only what the client may see, and each can be
written to and read back from an idempotency record, so a replay returns the same rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.domain.money import Money


class DomainError(Exception):
    """Base of every expected failure; `code` is the stable machine-readable name."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """A query argument is malformed or out of range (GraphQL `BAD_USER_INPUT`)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # dotted input path, e.g. person.natural.birthDate
    message: str


class Rejected(DomainError):
    """An expected business failure of a mutation."""

    kinds: ClassVar[dict[str, type[Rejected]]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        Rejected.kinds[cls.__name__] = cls

    def to_record(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, "message": self.message}

    @staticmethod
    def from_record(record: dict[str, Any]) -> Rejected:
        kind = Rejected.kinds[record["kind"]]
        return kind._restore(record)

    @classmethod
    def _restore(cls, record: dict[str, Any]) -> Rejected:
        return cls(record["message"])


class ValidationFailed(Rejected):
    code = "VALIDATION_FAILED"

    def __init__(self, problems: list[FieldProblem], message: str | None = None) -> None:
        fields = ", ".join(problem.field for problem in problems)
        super().__init__(message or f"Invalid input: {fields}.")
        self.problems = problems

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldProblem(field, message)])

    def to_record(self) -> dict[str, Any]:
        problems = [[p.field, p.message] for p in self.problems]
        return {**super().to_record(), "problems": problems}

    @classmethod
    def _restore(cls, record: dict[str, Any]) -> Rejected:
        problems = [FieldProblem(field, message) for field, message in record["problems"]]
        return cls(problems, record["message"])


class NotFound(Rejected):
    code = "NOT_FOUND"


class Forbidden(Rejected):
    code = "FORBIDDEN"


class Duplicate(Rejected):
    code = "DUPLICATE"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field

    def to_record(self) -> dict[str, Any]:
        return {**super().to_record(), "field": self.field}

    @classmethod
    def _restore(cls, record: dict[str, Any]) -> Rejected:
        return cls(record["message"], field=record["field"])


class InsufficientFunds(Rejected):
    code = "INSUFFICIENT_FUNDS"

    def __init__(self, message: str, *, available: Money) -> None:
        super().__init__(message)
        self.available = available

    def to_record(self) -> dict[str, Any]:
        available = [self.available.amount, self.available.currency]
        return {**super().to_record(), "available": available}

    @classmethod
    def _restore(cls, record: dict[str, Any]) -> Rejected:
        amount, currency = record["available"]
        return cls(record["message"], available=Money(amount, currency))


class CurrencyMismatch(Rejected):
    code = "CURRENCY_MISMATCH"


class InvalidState(Rejected):
    """The object is not in a state that allows the change; `state` names the state it is in
    (its status, as text), when one state is to blame."""

    code = "INVALID_STATE"

    def __init__(self, message: str, *, state: str | None = None) -> None:
        super().__init__(message)
        self.state = state

    def to_record(self) -> dict[str, Any]:
        return {**super().to_record(), "state": self.state}

    @classmethod
    def _restore(cls, record: dict[str, Any]) -> Rejected:
        return cls(record["message"], state=record.get("state"))


class IdempotencyConflict(Rejected):
    code = "IDEMPOTENCY_CONFLICT"
