"""What reversals and refunds share: how much is left to give back, and bulk requests.

- `room_left`: the amount to move back is the one asked, or everything left; nothing left, or
  more than is left, is InvalidState. The caller holds the lock on the transfer or pay-in row
  while it reads what was already given back.
- `each_on_its_own`: a bulk request of 1 to BULK_ITEMS_MAX items runs each item as its own
  use case (its own transaction and idempotency key), in order, and answers each item's
  outcome or rejection; one item's rejection never touches another. Too many items, or none,
  is a ValidationFailed of the whole request, before any item runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from gateway.domain.errors import InvalidState, Rejected
from gateway.domain.inputs import Checks
from gateway.domain.money import Money

BULK_ITEMS_MAX = 500
Item = TypeVar("Item")
Result = TypeVar("Result")


def room_left(total: int, taken: int, asked: int | None, currency: str, what: str) -> int:
    """The amount to move back: `asked`, or all that is left of `total` after `taken`."""
    left = total - taken
    if left <= 0:
        raise InvalidState(f"The {what} has nothing left to give back.")
    if asked is not None and asked > left:
        left_money = Money(left, currency)
        raise InvalidState(
            f"Only {left_money.decimal} {currency} of the {what} can still be given back."
        )
    return left if asked is None else asked


async def each_on_its_own(
    items: Sequence[Item], run: Callable[[Item], Awaitable[Result]]
) -> list[Result | Rejected]:
    """`run` each item in order; its result, or its rejection (see the module docstring)."""
    checks = Checks()
    if not 1 <= len(items) <= BULK_ITEMS_MAX:
        checks.add("items", f"Must list 1 to {BULK_ITEMS_MAX} items.")
    checks.done()
    results: list[Result | Rejected] = []
    for item in items:
        try:
            results.append(await run(item))
        except Rejected as rejection:
            results.append(rejection)
    return results
