"""The life of a user after onboarding: blocked and unblocked by an operator, closed for good,
and its direct-debit mandates canceled.

- Block (`ACTIVE -> BLOCKED`, an operator on a compliance issue; an optional reason is kept
  and shown until unblocked): the user's accounts neither send nor receive from the next
  request (every movement checks its users' status, gateway.services.ledger
  `check_can_move_money`: transfers both ways, pay-in creation and settlement, pay-out
  creation, direct debits). The accounts keep their own status. A pay-in or pay-out already
  in flight stays in flight: a pay-in cannot succeed meanwhile (the credit is refused, so the
  settler leaves it PENDING), a failed pay-out still gives its funds back (they were the
  user's). Blocking also revokes every user token issued so far.
- Unblock (`BLOCKED -> ACTIVE`): money moves again. Tokens issued before the block stay
  refused: the platform issues a new one.
- Close (`ACTIVE | BLOCKED -> CLOSED`, the platform's backend or an operator): only when every
  account of the user is at zero and nothing is in flight (pay-ins and pay-outs CREATED or
  PENDING, mandates still CREATED); the refusal lists each reason. In one transaction its
  accounts close (ACCOUNT_CLOSED), its ACTIVE mandates are canceled (MANDATE_CANCELED), its
  tokens are revoked and the user is CLOSED (USER_CLOSED). Nothing is deleted; every later
  mutation naming the user is an InvalidState naming CLOSED.
- Cancel a mandate (`ACTIVE -> CANCELED`): later direct debits on it are refused.

A block, an unblock or a close drops what every instance's credential cache holds about the
user's tokens as it commits (gateway/services/revocations.py): the next request refuses them.

Concurrency: a close locks the user, then its accounts in id order (the order every movement
takes them in); pay-in and pay-out creation lock their account and mandate creation its user,
so a payment racing a close either commits first (and the close lists it as in flight) or sees
the closed account (and is refused).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.domain.enums import AccountStatus, EventType, MandateStatus, UserStatus
from gateway.domain.errors import InvalidState
from gateway.domain.inputs import Checks
from gateway.domain.states import ACCOUNT, MANDATE, USER, check_transition
from gateway.services import revocations
from gateway.services.lookups import find
from gateway.services.unit_of_work import Tx, input_payload, perform
from gateway.store import lifecycle as lifecycle_rows
from gateway.store.engine import Database
from gateway.store.ledger_tables import DirectDebitMandate
from gateway.store.notify import Invalidation
from gateway.store.tables import User

REASON_LENGTH_MAX = 500


@dataclass(frozen=True, slots=True)
class UserChange:
    user_id: str
    reason: str | None = None
    idempotency_key: str | None = None


def check_user_open(user: User) -> None:
    """Refuse any change to a CLOSED user."""
    if user.status is UserStatus.CLOSED:
        raise InvalidState("The user is CLOSED.")


async def _locked_user(tx: Tx, user_id: str) -> User:
    return await find(
        tx.session, User, platform_id=tx.platform_id, id_text=user_id, what="user", lock=True
    )


def _move_user(tx: Tx, user: User, target: UserStatus, event: EventType) -> None:
    check_transition(USER, user.status, target, "The user")
    tx.move(user, target, event, user_id=user.id)


async def _perform_user_change(
    db: Database,
    platform_id: uuid.UUID,
    operation: str,
    change: UserChange,
    work: Callable[[Tx], Awaitable[User]],
) -> User:
    async def work_and_invalidate(tx: Tx) -> User:
        user = await work(tx)
        await revocations.in_transaction(tx.session, Invalidation.user(user.id))
        return user

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation=operation,
        key=change.idempotency_key,
        payload=input_payload(change),
        model=User,
        work=work_and_invalidate,
    )
    await revocations.announce(db, Invalidation.user(outcome.value.id))
    return outcome.value


async def block_user(db: Database, *, platform_id: uuid.UUID, change: UserChange) -> User:
    """Block an ACTIVE user: its accounts move no money and its tokens stop working."""
    checks = Checks()
    checks.text("reason", change.reason, required=False, length_max=REASON_LENGTH_MAX)
    checks.done()

    async def work(tx: Tx) -> User:
        user = await _locked_user(tx, change.user_id)
        _move_user(tx, user, UserStatus.BLOCKED, EventType.USER_BLOCKED)
        user.blocked_reason = (change.reason or "").strip() or None
        user.tokens_valid_after = user.updated_at
        await tx.session.flush()
        return user

    return await _perform_user_change(db, platform_id, "blockUser", change, work)


async def unblock_user(db: Database, *, platform_id: uuid.UUID, change: UserChange) -> User:
    """Unblock a BLOCKED user; tokens issued before the block stay refused."""

    async def work(tx: Tx) -> User:
        user = await _locked_user(tx, change.user_id)
        _move_user(tx, user, UserStatus.ACTIVE, EventType.USER_UNBLOCKED)
        user.blocked_reason = None
        await tx.session.flush()
        return user

    return await _perform_user_change(db, platform_id, "unblockUser", change, work)


async def _reasons_not_to_close(tx: Tx, user: User) -> list[str]:
    accounts = await lifecycle_rows.locked_accounts_of_user(tx.session, user_id=user.id)
    reasons = [
        f"Account {a.id} holds {a.balance} minor units of {a.currency}."
        for a in accounts
        if a.balance != 0
    ]
    in_flight = await lifecycle_rows.payments_in_flight(
        tx.session, account_ids=[a.id for a in accounts]
    )
    reasons += [f"The {kind} {key} is {status}." for kind, key, status in in_flight]
    waiting = await lifecycle_rows.mandates_of_user(
        tx.session, user_id=user.id, statuses=[MandateStatus.CREATED]
    )
    reasons += [f"The mandate {m.id} is CREATED (waiting for the bank)." for m in waiting]
    return reasons


async def _close_accounts(tx: Tx, user: User) -> None:
    for account in await lifecycle_rows.locked_accounts_of_user(tx.session, user_id=user.id):
        if account.status is AccountStatus.CLOSED:
            continue
        check_transition(ACCOUNT, account.status, AccountStatus.CLOSED, "The account")
        tx.move(account, AccountStatus.CLOSED, EventType.ACCOUNT_CLOSED, user_id=user.id)


def _cancel(tx: Tx, mandate: DirectDebitMandate) -> None:
    check_transition(MANDATE, mandate.status, MandateStatus.CANCELED, "The mandate")
    tx.move(mandate, MandateStatus.CANCELED, EventType.MANDATE_CANCELED, user_id=mandate.user_id)


async def close_user(db: Database, *, platform_id: uuid.UUID, change: UserChange) -> User:
    """Close a user for good: only with every account at zero and nothing in flight."""

    async def work(tx: Tx) -> User:
        user = await _locked_user(tx, change.user_id)
        check_transition(USER, user.status, UserStatus.CLOSED, "The user")
        reasons = await _reasons_not_to_close(tx, user)
        if reasons:
            raise InvalidState("The user cannot be closed yet: " + " ".join(reasons))
        await _close_accounts(tx, user)
        active = await lifecycle_rows.mandates_of_user(
            tx.session, user_id=user.id, statuses=[MandateStatus.ACTIVE]
        )
        for mandate in active:
            _cancel(tx, mandate)
        _move_user(tx, user, UserStatus.CLOSED, EventType.USER_CLOSED)
        user.tokens_valid_after = user.updated_at
        await tx.session.flush()
        return user

    return await _perform_user_change(db, platform_id, "closeUser", change, work)


@dataclass(frozen=True, slots=True)
class MandateCancellation:
    mandate_id: str
    idempotency_key: str | None = None


async def cancel_mandate(
    db: Database, *, platform_id: uuid.UUID, cancellation: MandateCancellation
) -> DirectDebitMandate:
    """Cancel an ACTIVE mandate: no direct debit may use it any more."""

    async def work(tx: Tx) -> DirectDebitMandate:
        mandate = await find(
            tx.session,
            DirectDebitMandate,
            platform_id=tx.platform_id,
            id_text=cancellation.mandate_id,
            what="mandate",
            lock=True,
        )
        _cancel(tx, mandate)
        await tx.session.flush()
        return mandate

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="cancelMandate",
        key=cancellation.idempotency_key,
        payload=input_payload(cancellation),
        model=DirectDebitMandate,
        work=work,
    )
    return outcome.value
