"""Webhooks: the platform's endpoints, the deliveries owed to each (Nodes, a page per endpoint
through one loader for a whole list) and their attempts, and the mutations that register,
delete and enable an endpoint, rotate its secret and replay its deliveries. A signing secret is
shown once, in the answer of the creation or the rotation that made it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import EventType
from gateway.graphql.access import BACKEND, allow
from gateway.graphql.context import Info
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.relay import Connection, Node, connection, page_arguments
from gateway.graphql.scalars import DateTime
from gateway.services import webhooks
from gateway.store import delivery_tables, journal_tables
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookDeliveryStatus

if TYPE_CHECKING:
    from gateway.graphql.events import Event

strawberry.enum(WebhookDeliveryStatus)
DEFAULT_OVERLAP_S = 86_400


@strawberry.type(description="One try to POST an event to an endpoint.")
class WebhookAttempt:
    attempt: int = strawberry.field(description="1 for the first try, then 2, 3...")
    attempted_at: DateTime
    status_code: int | None = strawberry.field(description="The HTTP status answered, if any.")
    error: str | None = strawberry.field(description="Why no answer came (or was refused).")
    duration_ms: int

    @classmethod
    def of(cls, row: delivery_tables.WebhookAttempt) -> WebhookAttempt:
        return cls(
            attempt=row.attempt,
            attempted_at=DateTime(row.attempted_at),
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )


@strawberry.type(description="An event owed to an endpoint: retried until a 2xx or given up.")
class WebhookDelivery(Node):
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: DateTime | None = strawberry.field(description="PENDING only.")
    last_status_code: int | None
    created_at: DateTime
    delivered_at: DateTime | None = strawberry.field(
        description="When a 2xx answered (SUCCEEDED only)."
    )
    event_id: strawberry.Private[uuid.UUID]
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: delivery_tables.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            attempt_count=row.attempt_count,
            next_attempt_at=DateTime(row.next_attempt_at) if row.next_attempt_at else None,
            last_status_code=row.last_status_code,
            created_at=DateTime(row.created_at),
            delivered_at=DateTime(row.delivered_at) if row.delivered_at else None,
            event_id=row.event_id,
            row_id=row.id,
        )

    @strawberry.field
    def event(self, info: Info) -> Annotated[Event, strawberry.lazy("gateway.graphql.events")]:
        event: Event = NODES.edge(info.context.loaders, "Event", self.event_id)
        return event

    @strawberry.field(description="The type of the event delivered.")
    async def event_type(self, info: Info) -> EventType:
        row = await info.context.loaders.by_id(journal_tables.Event).load(self.event_id)
        return EventType(row.type)

    @strawberry.field(description="Oldest first.")
    async def attempts(self, info: Info) -> list[WebhookAttempt]:
        loader = info.context.loaders.children(delivery_tables.WebhookAttempt, "delivery_id")
        rows = await loader.load(self.row_id)
        return [WebhookAttempt.of(row) for row in sorted(rows, key=lambda row: row.attempt)]


NODES.register(WebhookDelivery, table=delivery_tables.WebhookDelivery)


@strawberry.type
class WebhookEndpoint(Node):
    url: str
    event_types: list[EventType] = strawberry.field(description="Empty: every type.")
    description: str | None
    enabled: bool
    created_at: DateTime
    disabled_reason: str | None = strawberry.field(
        description="Why deliveries stopped, when they failed for too long."
    )
    previous_secret_expires_at: DateTime | None = strawberry.field(
        description="Until when the secret replaced by the last rotation still signs, next to"
        " the current one (null: one secret signs)."
    )
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: journal_tables.WebhookEndpoint) -> WebhookEndpoint:
        overlap_ends = row.previous_secret_expires_at
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            event_types=[EventType(t) for t in row.event_types],
            description=row.description,
            enabled=row.enabled,
            created_at=DateTime(row.created_at),
            disabled_reason=row.disabled_reason,
            previous_secret_expires_at=(
                DateTime(overlap_ends) if overlap_ends and overlap_ends > utcnow() else None
            ),
            row_id=row.id,
        )

    @strawberry.field(description="Newest first, each with its attempts; of one status if given.")
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: WebhookDeliveryStatus | None = None,
    ) -> Connection[WebhookDelivery]:
        request = page_arguments(first, after, None, None)
        loader = info.context.loaders.deliveries_of_endpoint
        page = await loader.load((self.row_id, request, status))
        return connection(page, WebhookDelivery.of)


NODES.register(WebhookEndpoint, table=journal_tables.WebhookEndpoint)


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    event_types: list[EventType] | None = None
    description: str | None = None


@strawberry.type
class CreateWebhookEndpointSuccess:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="The signing secret, shown once, here.")


@strawberry.input
class DeleteWebhookEndpointInput:
    id: strawberry.ID


@strawberry.type
class DeleteWebhookEndpointSuccess:
    deleted_id: strawberry.ID


@strawberry.input
class EnableWebhookEndpointInput:
    id: strawberry.ID


@strawberry.type
class EnableWebhookEndpointSuccess:
    endpoint: WebhookEndpoint


@strawberry.input
class RotateWebhookSecretInput:
    endpoint_id: strawberry.ID
    overlap_seconds: int = strawberry.field(
        default=DEFAULT_OVERLAP_S,
        description="How long the replaced secret still signs, next to the new one: 0 to"
        f" {webhooks.ROTATION_OVERLAP_S_MAX} (7 days).",
    )


@strawberry.type
class RotateWebhookSecretSuccess:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="The new signing secret, shown once, here.")


@strawberry.input
class ReplayWebhookDeliveryInput:
    id: strawberry.ID


@strawberry.type
class ReplayWebhookDeliverySuccess:
    delivery: WebhookDelivery


@strawberry.input
class ReplayWebhookDeliveriesInput:
    endpoint_id: strawberry.ID
    from_: DateTime = strawberry.field(name="from", description="Created at or after.")
    to: DateTime = strawberry.field(description="Created before.")


@strawberry.type
class ReplayWebhookDeliveriesSuccess:
    endpoint: WebhookEndpoint
    replayed_count: int


EnableWebhookEndpointPayload = Annotated[
    EnableWebhookEndpointSuccess | NotFoundRejection,
    strawberry.union("EnableWebhookEndpointPayload"),
]
RotateWebhookSecretPayload = Annotated[
    RotateWebhookSecretSuccess | ValidationRejection | NotFoundRejection,
    strawberry.union("RotateWebhookSecretPayload"),
]
ReplayWebhookDeliveryPayload = Annotated[
    ReplayWebhookDeliverySuccess | NotFoundRejection | InvalidStateRejection,
    strawberry.union("ReplayWebhookDeliveryPayload"),
]
ReplayWebhookDeliveriesPayload = Annotated[
    ReplayWebhookDeliveriesSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection,
    strawberry.union("ReplayWebhookDeliveriesPayload"),
]
CreateWebhookEndpointPayload = Annotated[
    CreateWebhookEndpointSuccess | ValidationRejection,
    strawberry.union("CreateWebhookEndpointPayload"),
]
DeleteWebhookEndpointPayload = Annotated[
    DeleteWebhookEndpointSuccess | NotFoundRejection,
    strawberry.union("DeleteWebhookEndpointPayload"),
]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="Register an https endpoint for the platform's events.",
    )
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> CreateWebhookEndpointPayload:
        services = info.context.services
        new = webhooks.NewEndpoint(
            url=input.url, event_types=input.event_types or (), description=input.description
        )
        created = await webhooks.create_endpoint(
            services.db,
            platform_id=info.context.platform.id,
            new=new,
            allow_private=services.webhook_allow_private_urls,
        )
        return CreateWebhookEndpointSuccess(
            endpoint=WebhookEndpoint.of(created.endpoint), secret=created.secret
        )

    @strawberry.mutation(
        extensions=allow(BACKEND), description="Stop delivering to an endpoint and forget it."
    )
    async def delete_webhook_endpoint(
        self, info: Info, input: DeleteWebhookEndpointInput
    ) -> DeleteWebhookEndpointPayload:
        deleted = await webhooks.delete_endpoint(
            info.context.services.db, platform_id=info.context.platform.id, endpoint_id=input.id
        )
        return DeleteWebhookEndpointSuccess(deleted_id=strawberry.ID(str(deleted)))

    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="Deliver to an endpoint the dispatcher disabled again; it gets the events"
        " appended meanwhile (replay what was given up when it was disabled).",
    )
    async def enable_webhook_endpoint(
        self, info: Info, input: EnableWebhookEndpointInput
    ) -> EnableWebhookEndpointPayload:
        endpoint = await webhooks.enable_endpoint(
            info.context.services.db, platform_id=info.context.platform.id, endpoint_id=input.id
        )
        return EnableWebhookEndpointSuccess(endpoint=WebhookEndpoint.of(endpoint))

    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="A new signing secret, shown once; the replaced one signs too (a second"
        " signature in `webhook-signature`) for `overlapSeconds`.",
    )
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> RotateWebhookSecretPayload:
        rotated = await webhooks.rotate_secret(
            info.context.services.db,
            platform_id=info.context.platform.id,
            endpoint_id=input.endpoint_id,
            overlap_s=input.overlap_seconds,
        )
        return RotateWebhookSecretSuccess(
            endpoint=WebhookEndpoint.of(rotated.endpoint), secret=rotated.secret
        )

    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="Send a finished delivery again, from now, with a fresh retry schedule.",
    )
    async def replay_webhook_delivery(
        self, info: Info, input: ReplayWebhookDeliveryInput
    ) -> ReplayWebhookDeliveryPayload:
        delivery = await webhooks.replay_delivery(
            info.context.services.db, platform_id=info.context.platform.id, delivery_id=input.id
        )
        return ReplayWebhookDeliverySuccess(delivery=WebhookDelivery.of(delivery))

    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="Send again every finished delivery of an endpoint created in [from, to),"
        f" at most {webhooks.REPLAY_DELIVERIES_MAX}.",
    )
    async def replay_webhook_deliveries(
        self, info: Info, input: ReplayWebhookDeliveriesInput
    ) -> ReplayWebhookDeliveriesPayload:
        replayed = await webhooks.replay_deliveries(
            info.context.services.db,
            platform_id=info.context.platform.id,
            endpoint_id=input.endpoint_id,
            start=input.from_,
            end=input.to,
        )
        return ReplayWebhookDeliveriesSuccess(
            endpoint=WebhookEndpoint.of(replayed.endpoint), replayed_count=replayed.count
        )
