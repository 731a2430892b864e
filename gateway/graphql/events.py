"""Events: what happened to the platform's objects, read as a page (`Platform.events`) or live
through the Subscription root, resumable after any event's cursor.

Each event's `object` is read fresh, with loaders made for that event alone, so a long-lived
connection never serves an object from a stale cache.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from starlette.websockets import WebSocket

from gateway.domain.enums import ActorKind, ApiKeyRole, EventType, RefusalReason
from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import parse_id
from gateway.domain.pagination import decode_event_cursor, encode_event_cursor
from gateway.graphql.context import Context, Info
from gateway.graphql.nodes import NODES, resolve_node
from gateway.graphql.relay import Node
from gateway.graphql.runtime import metrics
from gateway.graphql.scalars import DateTime
from gateway.services.event_stream import (
    EventFilter,
    SubscriberTooSlow,
    head_sequence,
    stream_events,
)
from gateway.store import journal_tables, tables

TOO_SLOW_CLOSE_CODE = 4008

strawberry.enum(EventType)
strawberry.enum(
    ActorKind,
    description="Who made a change: an API key, a user through a user"
    " token, the sandbox settler, or the gateway itself (command line, periodic jobs).",
)
strawberry.enum(
    ApiKeyRole,
    description="What an API key may do: BACKEND (the platform's"
    " server), OPERATOR (back-office decisions), READONLY (reporting).",
)


@strawberry.type(description="An API key as listings show it: never its secret.")
class ApiKey:
    id: strawberry.ID
    prefix: str
    label: str | None
    role: ApiKeyRole
    created_at: DateTime
    revoked_at: DateTime | None

    @classmethod
    def of(cls, row: tables.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            prefix=row.prefix,
            label=row.label,
            role=row.role,
            created_at=DateTime(row.created_at),
            revoked_at=DateTime(row.revoked_at) if row.revoked_at else None,
        )


@strawberry.type(
    description="Who made a change. API keys see the key (its id, role, prefix and label) and"
    " the user; under a user token only `kind` is shown, never which key."
)
class Actor:
    kind: ActorKind
    role: ApiKeyRole | None = strawberry.field(
        description="The calling key's role (API_KEY actors)."
    )
    api_key_id: strawberry.ID | None = strawberry.field(
        description="The key that called, or, for a USER actor, the key that issued its token."
    )
    user_id: strawberry.ID | None = strawberry.field(
        description="The user acting through a user token (USER actors)."
    )

    @strawberry.field(description="The key behind `apiKeyId`, as listings show it.")
    async def api_key(self, info: Info) -> ApiKey | None:
        if self.api_key_id is None:
            return None
        row = await info.context.loaders.by_id(tables.ApiKey).load(uuid.UUID(self.api_key_id))
        return None if row is None else ApiKey.of(row)

    @classmethod
    def of(cls, row: journal_tables.Event, *, user_token: bool) -> Actor:
        if user_token:
            return cls(kind=row.actor_kind, role=None, api_key_id=None, user_id=None)
        return cls(
            kind=row.actor_kind,
            role=row.actor_role,
            api_key_id=_id(row.actor_key_id),
            user_id=_id(row.actor_user_id),
        )


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type
class Event(Node):
    cursor: str = strawberry.field(
        description="Opaque, strictly increasing within a platform; resume a subscription after it."
    )
    type: EventType
    occurred_at: DateTime
    object_id: strawberry.ID
    previous_status: str | None
    status: str | None
    row: strawberry.Private[journal_tables.Event]
    changed_fields: list[str] | None = strawberry.field(
        description="The input fields an update changed (USER_UPDATED, PERSON_UPDATED)."
    )
    reasons: list[RefusalReason] | None = strawberry.field(
        description="A compliance decision's reasons."
    )
    message: str | None = strawberry.field(
        description="A decision's free message, or why a payment failed or came back."
    )
    fresh_loaders: strawberry.Private[Any] = None

    @classmethod
    def of(cls, row: journal_tables.Event, *, fresh_loaders: Any = None) -> Event:
        return cls(
            id=strawberry.ID(str(row.id)),
            cursor=encode_event_cursor(row.platform_id, row.sequence),
            type=row.type,
            occurred_at=DateTime(row.occurred_at),
            object_id=strawberry.ID(str(row.object_id)),
            previous_status=row.previous_status,
            status=row.status,
            row=row,
            changed_fields=row.changed_fields,
            reasons=None if row.reasons is None else [RefusalReason(r) for r in row.reasons],
            message=row.message,
            fresh_loaders=fresh_loaders,
        )

    @strawberry.field(description="Who made the change.")
    def actor(self, info: Info) -> Actor:
        return Actor.of(self.row, user_token=info.context.principal.user_id is not None)

    @strawberry.field(description="The object as it is now.")
    async def object(self, info: Info) -> Node | None:
        return await resolve_node(info, str(self.object_id), loaders=self.fresh_loaders)


NODES.register(Event, table=journal_tables.Event)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every event of the caller's scope, oldest first, filtered by types and"
        " objectId. With after: first every stored event after that cursor, then live ones,"
        " with no gap and no duplicate. A subscriber that falls too far behind is closed"
        f" (WebSocket code {TOO_SLOW_CLOSE_CODE}) and resumes with after its last cursor."
        " Over Server-Sent Events each event's cursor is its id, and a Last-Event-ID header"
        " takes the place of after (a browser's EventSource resumes by itself)."
    )
    async def events(
        self,
        info: Info,
        types: list[EventType] | None = None,
        object_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[Event, None]:
        # Arguments are checked before the stream starts, so a bad cursor is an error the
        # client sees, not a stream that ends at once.
        context = info.context
        sequence = (
            decode_event_cursor(after, platform_id=context.platform.id, argument="after")
            if after is not None
            else None
        )
        if context.resume_after is not None:  # an SSE `Last-Event-ID`: the browser's position
            sequence = context.resume_after
        wanted_object = parse_id(object_id) if object_id is not None else None
        if object_id is not None and wanted_object is None:
            raise InvalidArgument("`objectId` is not a valid id.", argument="objectId")
        wanted = EventFilter(types, wanted_object, context.principal.user_id)
        if context.stream_start is not None:  # over SSE: the start is sent first, as an id
            if sequence is None:
                sequence = await head_sequence(
                    context.services.hub, platform_id=context.platform.id
                )
            context.stream_start.note(encode_event_cursor(context.platform.id, sequence))
        return _stream(context, sequence, wanted)


async def _stream(
    context: Context,
    sequence: int | None,
    wanted: EventFilter,
) -> AsyncGenerator[Event, None]:
    platform_id = context.platform.id
    last = sequence
    transport = metrics.transport_of(context.request)
    metrics.stream_started()
    try:
        with metrics.subscription_open(transport):
            async for row in stream_events(
                context.services.hub, platform_id=platform_id, after=sequence, wanted=wanted
            ):
                last = row.sequence
                metrics.event_delivered(transport)
                event = Event.of(row, fresh_loaders=context.new_loaders())
                context.event_cursor = event.cursor  # the SSE `id:` of this event's result
                yield event
    except SubscriberTooSlow as slow:
        resume = last if last is not None else slow.last_sequence
        reason = f"Too far behind; resume with after: {encode_event_cursor(platform_id, resume)}"
        if isinstance(context.request, WebSocket):
            await context.request.close(code=TOO_SLOW_CLOSE_CODE, reason=reason[:120])
            return
        raise InvalidArgument(reason, argument="after") from None
