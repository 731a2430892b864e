"""What one user may see: the user's own subtree, as one SQL condition per table.

A platform API key sees its whole platform; a user token sees only the rows below its user.
Every batch reader adds `visible_to(model, user_id)` to its WHERE clause next to the platform
id, so a row outside the user's subtree reads exactly like a row that does not exist:

- the user itself; its persons, accounts, bank accounts, mandates and KYC documents;
- the ledger entries, pay-ins and pay-outs of its accounts;
- transfers that debit or credit one of its accounts (both parties see a transfer), and the
  reversals of those transfers; the refunds of its pay-ins;
- events about its subtree (`user_id`), or naming it as a transfer's other party
  (`counterpart_user_id`);
- nothing of the platform's webhooks, API keys and fee accounts, which belong to the platform
  alone.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from gateway.store.delivery_tables import WebhookAttempt, WebhookDelivery
from gateway.store.journal_tables import Event, WebhookEndpoint
from gateway.store.ledger_tables import (
    FeeAccount,
    LedgerEntry,
    PayIn,
    PayOut,
    Refund,
    Transfer,
    TransferReversal,
)
from gateway.store.tables import Account, ApiKey, User

_PLATFORM_ONLY = (WebhookEndpoint, WebhookDelivery, WebhookAttempt, FeeAccount, ApiKey)


def own_account_ids(user_id: uuid.UUID | Any) -> Any:
    return sa.select(col(Account.id)).where(col(Account.user_id) == user_id).scalar_subquery()


def visible_to(model: Any, user_id: uuid.UUID | Any | None) -> Any:
    """Rows of `model` that the user's token may see; every row when `user_id` is None. The
    user is an id, or a bound parameter for a statement built once for every user."""
    if user_id is None:
        return sa.true()
    if model is User:
        return col(User.id) == user_id
    if model is Event:
        return sa.or_(col(Event.user_id) == user_id, col(Event.counterpart_user_id) == user_id)
    if model is Transfer:
        accounts = own_account_ids(user_id)
        return sa.or_(
            col(Transfer.debited_account_id).in_(accounts),
            col(Transfer.credited_account_id).in_(accounts),
        )
    if model is TransferReversal:
        visible = sa.select(col(Transfer.id)).where(visible_to(Transfer, user_id))
        return col(TransferReversal.transfer_id).in_(visible.scalar_subquery())
    if model is Refund:
        return col(Refund.debited_account_id).in_(own_account_ids(user_id))
    if model is PayIn:
        return col(PayIn.credited_account_id).in_(own_account_ids(user_id))
    if model is PayOut:
        return col(PayOut.debited_account_id).in_(own_account_ids(user_id))
    if model is LedgerEntry:
        return col(LedgerEntry.account_id).in_(own_account_ids(user_id))
    if model in _PLATFORM_ONLY:
        return sa.false()
    if hasattr(model, "user_id"):
        return model.user_id == user_id
    raise TypeError(f"no user scope defined for {model.__name__}")
