"""Batch readers: each takes many keys and costs one statement, always scoped to a platform.

The graph's readers return records (gateway/store/records.py), not ORM objects; the few
readers of credentials and of the event hub keep the models.

The platform id is part of every WHERE clause, so an id of another platform reads exactly like
an id that does not exist; under a user token, `user_id` narrows every read to that user's
subtree in the same way (see store/scope.py).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import EventType, UserKind, ValidationStatus
from gateway.domain.lru import Lru
from gateway.domain.pagination import Listing, Page, PageRequest
from gateway.store.delivery_tables import WebhookDelivery, WebhookDeliveryStatus
from gateway.store.filters import listing_conditions, listing_order
from gateway.store.journal_tables import Event, WebhookEndpoint
from gateway.store.ledger_tables import FeeAccount, LedgerEntry
from gateway.store.pagination import Order, dialect_name, grouped_pages, keyset_page, one_of
from gateway.store.records import Reads, columns, record_type, records
from gateway.store.scope import visible_to
from gateway.store.tables import Account, ApiKey, Person, Platform, User


def _node_condition(model: Any) -> Any:
    """Rows that are nodes of the graph: settlement legs of the ledger are not."""
    if model is LedgerEntry:
        return col(LedgerEntry.account_id).is_not(None)
    if model is WebhookEndpoint:
        return col(WebhookEndpoint.deleted_at).is_(None)
    return sa.true()


# The graph's hottest reads are built once per shape, with the tenant and the keys as bound
# parameters (building a statement costs more CPU than running it); see `_tenant`.
_PLATFORM, _USER, _KEYS = "r_platform_id", "r_user_id", "r_keys"
_built: Lru[Hashable, Any] = Lru(512)


def _tenant(model: Any, platform_id: uuid.UUID, user_id: uuid.UUID | None) -> tuple[Any, ...]:
    """(conditions, values, scoped): the platform and, under a user token, the user's scope,
    as bound parameters; the same conditions serve every tenant of one shape."""
    values: dict[str, Any] = {_PLATFORM: platform_id}
    scope: Any = None
    if user_id is not None:
        values[_USER] = user_id
        scope = sa.bindparam(_USER)
    where = [model.platform_id == sa.bindparam(_PLATFORM), visible_to(model, scope)]
    return where, values, user_id is not None


def _once(key: Hashable, build: Callable[[], Any]) -> Any:
    statement = _built.get(key)
    if statement is None:
        statement = build()
        _built.put(key, statement)
    return statement


@dataclass(frozen=True, slots=True)
class UserCriteria:
    email: str | None = None
    validation_status: ValidationStatus | None = None
    kind: UserKind | None = None


@functools.cache
def _credential_by_prefix() -> Any:
    """Built once: it runs on every request (the prefix is a bound parameter)."""
    return (
        sa.select(*columns(ApiKey), *columns(Platform))
        .join(Platform, col(Platform.id) == col(ApiKey.platform_id))
        .where(col(ApiKey.prefix) == sa.bindparam("prefix"))
    )


async def credential_by_prefix(connection: Reads, *, prefix: str) -> tuple[Any, Any] | None:
    """Records of the API key with `prefix` and of its platform (a request's first read; the
    key CLI's too)."""
    row = (await connection.execute(_credential_by_prefix(), {"prefix": prefix})).first()
    if row is None:
        return None
    width = len(columns(ApiKey))
    return record_type(ApiKey)._make(row[:width]), record_type(Platform)._make(row[width:])


async def platform_by_id(session: AsyncSession, *, platform_id: uuid.UUID) -> Platform | None:
    return await session.get(Platform, platform_id)


async def rows_by_ids(
    connection: Reads,
    *,
    model: Any,
    platform_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    user_id: uuid.UUID | None = None,
) -> list[Any]:
    where, values, scoped = _tenant(model, platform_id, user_id)

    def build() -> Any:
        keys: Any = sa.bindparam(_KEYS, expanding=True)
        return sa.select(*columns(model)).where(*where, model.id.in_(keys), _node_condition(model))

    statement = _once(("by_ids", model, scoped), build)
    values[_KEYS] = list(ids)
    return records(model, (await connection.execute(statement, values)).all())


async def node_types(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    tables: Mapping[str, Any],
    user_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, str]:
    """Which of `tables` each id lives in, by the name given to the table (ids are unique
    across tables), in one UNION statement. The GraphQL layer's node registry names the
    tables whose rows are nodes; rows of them that are not (settlement legs, deleted
    endpoints) are left out here."""
    parts = [
        sa.select(sa.literal(name).label("table"), model.id.label("id")).where(
            model.platform_id == platform_id,
            model.id.in_(ids),
            _node_condition(model),
            visible_to(model, user_id),
        )
        for name, model in tables.items()
    ]
    rows = (await connection.execute(sa.union_all(*parts))).all()
    return {row.id: row.table for row in rows}


async def persons_of_users(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    user_ids: Sequence[uuid.UUID],
    user_id: uuid.UUID | None = None,
) -> list[Any]:
    """Every person of the given users, holder first, then in creation order."""
    where, values, scoped = _tenant(Person, platform_id, user_id)

    def build() -> Any:
        return (
            sa.select(*columns(Person))
            .where(*where, one_of(col(Person.user_id), _KEYS, dialect))
            .order_by(col(Person.user_id), col(Person.is_holder).desc(), col(Person.id))
        )

    dialect = dialect_name(connection)
    statement = _once(("persons_of_users", scoped, dialect), build)
    values[_KEYS] = list(user_ids)
    return records(Person, (await connection.execute(statement, values)).all())


_EMAIL, _VALIDATION, _KIND = "r_email_key", "r_validation_status", "r_kind"


def _user_conditions(
    platform_id: uuid.UUID, criteria: UserCriteria, user_id: uuid.UUID | None
) -> tuple[list[Any], dict[str, Any], tuple[Any, ...]]:
    """The users' conditions with bound parameters, their values, and their shape."""
    where, values, scoped = _tenant(User, platform_id, user_id)
    conditions: list[Any] = list(where)
    if criteria.email is not None:
        conditions.append(col(User.email_key) == sa.bindparam(_EMAIL))
        values[_EMAIL] = criteria.email.lower()
    if criteria.validation_status is not None:
        conditions.append(col(User.validation_status) == sa.bindparam(_VALIDATION))
        values[_VALIDATION] = criteria.validation_status
    if criteria.kind is not None:
        conditions.append(col(User.kind) == sa.bindparam(_KIND))
        values[_KIND] = criteria.kind
    shape = (
        "users",
        scoped,
        criteria.email is not None,
        criteria.validation_status is not None,
        criteria.kind is not None,
    )
    return conditions, values, shape


async def users_page(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    criteria: UserCriteria,
    page: PageRequest,
    user_id: uuid.UUID | None = None,
) -> Page[Any]:
    where, values, shape = _user_conditions(platform_id, criteria, user_id)
    return await keyset_page(
        connection, model=User, where=where, page=page, shape=shape, params=values
    )


async def accounts_pages_of_users(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    user_ids: Sequence[uuid.UUID],
    page: PageRequest,
    user_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, Page[Any]]:
    where, values, scoped = _tenant(Account, platform_id, user_id)
    return await grouped_pages(
        connection,
        model=Account,
        group=col(Account.user_id),
        group_ids=user_ids,
        where=where,
        page=page,
        shape=("accounts_of_users", scoped),
        params=values,
    )


async def rows_of_users(
    connection: Reads,
    *,
    model: Any,
    platform_id: uuid.UUID,
    user_ids: Sequence[uuid.UUID],
    user_id: uuid.UUID | None = None,
) -> list[Any]:
    """Every row of `model` belonging to the given users, oldest first."""
    where, values, scoped = _tenant(model, platform_id, user_id)

    def build() -> Any:
        keys = one_of(model.user_id, _KEYS, dialect)
        return sa.select(*columns(model)).where(*where, keys).order_by(model.id)

    dialect = dialect_name(connection)
    statement = _once(("of_users", model, scoped, dialect), build)
    values[_KEYS] = list(user_ids)
    return records(model, (await connection.execute(statement, values)).all())


async def rows_of_parents(
    connection: Reads,
    *,
    model: Any,
    parent: str,
    platform_id: uuid.UUID,
    parent_ids: Sequence[uuid.UUID],
    user_id: uuid.UUID | None = None,
) -> list[Any]:
    """Every row of `model` whose `parent` column names one of `parent_ids`, oldest first
    (a transfer's reversals, a pay-in's refunds)."""
    statement = (
        sa.select(*columns(model))
        .where(
            model.platform_id == platform_id,
            getattr(model, parent).in_(parent_ids),
            visible_to(model, user_id),
        )
        .order_by(model.id)
    )
    return records(model, (await connection.execute(statement)).all())


async def fee_accounts(
    connection: Reads, *, platform_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> list[Any]:
    """The platform's fee accounts, by currency (none under a user token)."""
    statement = (
        sa.select(*columns(FeeAccount))
        .where(col(FeeAccount.platform_id) == platform_id, visible_to(FeeAccount, user_id))
        .order_by(col(FeeAccount.currency))
    )
    return records(FeeAccount, (await connection.execute(statement)).all())


async def platform_page(
    connection: Reads,
    *,
    model: Any,
    platform_id: uuid.UUID,
    page: PageRequest,
    user_id: uuid.UUID | None = None,
    listing: Listing | None = None,
) -> Page[Any]:
    """A page of the platform's rows of `model`: by id, or as `listing` filters and orders."""
    where, values, scoped = _tenant(model, platform_id, user_id)
    if listing is None:
        shape: Hashable = ("platform_page", model, scoped)
        order = None
    else:
        conditions, criteria_values, criteria_shape = listing_conditions(model, listing.criteria)
        where, order = [*where, *conditions], listing_order(model, listing)
        values.update(criteria_values)
        shape = ("platform_listing", model, scoped, criteria_shape, listing.descending)
    return await keyset_page(
        connection,
        model=model,
        where=where,
        page=page,
        order=order,
        shape=shape,
        params=values,
    )


async def entries_pages_of_accounts(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    account_ids: Sequence[uuid.UUID],
    page: PageRequest,
    user_id: uuid.UUID | None = None,
    listing: Listing | None = None,
) -> dict[uuid.UUID, Page[Any]]:
    """Each account's ledger entries, newest first (or as `listing` filters and orders), one
    page per account, one statement."""
    where, values, scoped = _tenant(LedgerEntry, platform_id, user_id)
    if listing is None:
        order = Order(col(LedgerEntry.id), descending=True)
        shape: Hashable = ("entries_of_accounts", scoped)
    else:
        conditions, criteria_values, criteria_shape = listing_conditions(
            LedgerEntry, listing.criteria
        )
        where, order = [*where, *conditions], listing_order(LedgerEntry, listing)
        values.update(criteria_values)
        shape = ("entries_listing", scoped, criteria_shape, listing.descending)
    return await grouped_pages(
        connection,
        model=LedgerEntry,
        group=col(LedgerEntry.account_id),
        group_ids=account_ids,
        where=where,
        page=page,
        order=order,
        shape=shape,
        params=values,
    )


async def events_page(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    page: PageRequest,
    types: Sequence[EventType] | None,
    user_id: uuid.UUID | None = None,
    object_id: uuid.UUID | None = None,
    listing: Listing | None = None,
) -> Page[Any]:
    """The platform's events in sequence order (oldest first), optionally of some types, or
    about one object (`ix_events_object_id`); or as `listing` filters and orders them."""
    where: list[Any] = [col(Event.platform_id) == platform_id, visible_to(Event, user_id)]
    if types:
        where.append(col(Event.type).in_(types))
    if object_id is not None:
        where.append(col(Event.object_id) == object_id)
    if listing is None:
        order = Order(col(Event.sequence))
        values: dict[str, Any] = {}
    else:
        conditions, values, _ = listing_conditions(Event, listing.criteria)
        where, order = [*where, *conditions], listing_order(Event, listing)
    return await keyset_page(
        connection, model=Event, where=where, page=page, order=order, params=values
    )


async def webhook_endpoints(
    connection: Reads, *, platform_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> list[Any]:
    statement = (
        sa.select(*columns(WebhookEndpoint))
        .where(
            col(WebhookEndpoint.platform_id) == platform_id,
            _node_condition(WebhookEndpoint),
            visible_to(WebhookEndpoint, user_id),
        )
        .order_by(col(WebhookEndpoint.id))
    )
    return records(WebhookEndpoint, (await connection.execute(statement)).all())


async def events_after(
    session: AsyncSession, *, platform_id: uuid.UUID, after: int, limit: int
) -> list[Event]:
    """The platform's events with a sequence above `after`, in order, at most `limit`."""
    statement = (
        sa.select(Event)
        .where(col(Event.platform_id) == platform_id, col(Event.sequence) > after)
        .order_by(col(Event.sequence))
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def last_event_sequence(session: AsyncSession, *, platform_id: uuid.UUID) -> int:
    statement = sa.select(col(Platform.event_sequence)).where(col(Platform.id) == platform_id)
    return int((await session.scalar(statement)) or 0)


async def webhook_deliveries_pages(
    connection: Reads,
    *,
    platform_id: uuid.UUID,
    endpoint_ids: Sequence[uuid.UUID],
    page: PageRequest,
    status: WebhookDeliveryStatus | None = None,
    user_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, Page[Any]]:
    """Each endpoint's deliveries (of one status, if given), newest first, one page per
    endpoint, one statement."""
    where, values, scoped = _tenant(WebhookDelivery, platform_id, user_id)
    if status is not None:
        where.append(col(WebhookDelivery.status) == status)
    return await grouped_pages(
        connection,
        model=WebhookDelivery,
        group=col(WebhookDelivery.endpoint_id),
        group_ids=endpoint_ids,
        where=where,
        page=page,
        order=Order(col(WebhookDelivery.id), descending=True),
        shape=("deliveries_of_endpoints", scoped, status),
        params=values,
    )


async def api_key_by_id(session: AsyncSession, *, api_key_id: uuid.UUID) -> ApiKey | None:
    return await session.get(ApiKey, api_key_id)


async def api_keys_of_platform(session: AsyncSession, *, platform_id: uuid.UUID) -> list[ApiKey]:
    """Every API key of the platform, revoked ones included, oldest first."""
    statement = (
        sa.select(ApiKey)
        .where(col(ApiKey.platform_id) == platform_id)
        .order_by(col(ApiKey.created_at), col(ApiKey.id))
    )
    return list((await session.scalars(statement)).all())


async def active_api_key_count(session: AsyncSession, *, platform_id: uuid.UUID) -> int:
    statement = sa.select(sa.func.count()).where(
        col(ApiKey.platform_id) == platform_id, col(ApiKey.revoked_at).is_(None)
    )
    return int((await session.scalar(statement)) or 0)
