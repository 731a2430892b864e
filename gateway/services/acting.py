"""Who is acting: the actor that every change made in this task is recorded under.

The GraphQL layer sets it as each operation starts (from the caller's credential), the sandbox
settler sets it for its sweeps; anything else (the command line, periodic jobs) acts as the
system. `unit_of_work` stamps it on every event, ledger entry and idempotency record it writes,
so no service has to pass it along and none can forget it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from gateway.domain.credentials import SYSTEM, Actor

_actor: ContextVar[Actor] = ContextVar("actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


def act_as(actor: Actor) -> None:
    """From now on in this task (and the tasks it starts), changes are `actor`'s."""
    _actor.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def actor_columns(actor: Actor) -> dict[str, Any]:
    """The actor as the tables' `actor_*` columns hold it."""
    return {
        "actor_kind": actor.kind,
        "actor_key_id": actor.api_key_id,
        "actor_role": actor.role,
        "actor_user_id": actor.user_id,
    }
