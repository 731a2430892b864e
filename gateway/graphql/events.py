"""Events: what happened to the platform's objects, read as a page (`Platform.events`) or live
through the Subscription root, resumable after any event's cursor.

Each event's `object` is read fresh, with loaders made for that event alone, so a long-lived
connection never serves an object from a stale cache.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from starlette.websockets import WebSocket

from gateway.domain.enums import EventType, RefusalReason
from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import parse_id
from gateway.domain.pagination import decode_event_cursor, encode_event_cursor
from gateway.graphql.context import Context, Info
from gateway.graphql.nodes import NODES, resolve_node
from gateway.graphql.relay import Node
from gateway.graphql.scalars import DateTime
from gateway.services.event_stream import EventFilter, SubscriberTooSlow, stream_events
from gateway.store import journal_tables

TOO_SLOW_CLOSE_CODE = 4008

strawberry.enum(EventType)


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
            reasons=None if row.reasons is None else [RefusalReason(r) for r in row.reasons],
            message=row.message,
            fresh_loaders=fresh_loaders,
        )

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
        wanted_object = parse_id(object_id) if object_id is not None else None
        if object_id is not None and wanted_object is None:
            raise InvalidArgument("`objectId` is not a valid id.", argument="objectId")
        wanted = EventFilter(types, wanted_object, context.principal.user_id)
        return _stream(context, sequence, wanted)


async def _stream(
    context: Context,
    sequence: int | None,
    wanted: EventFilter,
) -> AsyncGenerator[Event, None]:
    platform_id = context.platform.id
    last = sequence
    try:
        async for row in stream_events(
            context.services.hub, platform_id=platform_id, after=sequence, wanted=wanted
        ):
            last = row.sequence
            yield Event.of(row, fresh_loaders=context.new_loaders())
    except SubscriberTooSlow as slow:
        resume = last if last is not None else slow.last_sequence
        reason = f"Too far behind; resume with after: {encode_event_cursor(platform_id, resume)}"
        if isinstance(context.request, WebSocket):
            await context.request.close(code=TOO_SLOW_CLOSE_CODE, reason=reason[:120])
            return
        raise InvalidArgument(reason, argument="after") from None
