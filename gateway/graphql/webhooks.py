"""Webhooks: the platform's endpoints, the deliveries owed to each and their attempts, and the
mutations that register and delete an endpoint. The signing secret is shown once, in the
creation's answer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import EventType
from gateway.graphql.access import BACKEND, allow
from gateway.graphql.context import Info
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import NotFoundRejection, ValidationRejection
from gateway.graphql.relay import Connection, Node, connection, page_arguments
from gateway.graphql.scalars import DateTime
from gateway.services import webhooks
from gateway.store import delivery_tables, journal_tables
from gateway.store.delivery_tables import WebhookDeliveryStatus

if TYPE_CHECKING:
    from gateway.graphql.events import Event

strawberry.enum(WebhookDeliveryStatus)


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
class WebhookDelivery:
    id: strawberry.ID
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: DateTime | None = strawberry.field(description="PENDING only.")
    last_status_code: int | None
    attempts: list[WebhookAttempt] = strawberry.field(description="Oldest first.")
    created_at: DateTime
    event_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(
        cls, row: delivery_tables.WebhookDelivery, attempts: list[delivery_tables.WebhookAttempt]
    ) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            attempt_count=row.attempt_count,
            next_attempt_at=DateTime(row.next_attempt_at) if row.next_attempt_at else None,
            last_status_code=row.last_status_code,
            attempts=[WebhookAttempt.of(attempt) for attempt in attempts],
            created_at=DateTime(row.created_at),
            event_id=row.event_id,
        )

    @strawberry.field
    def event(self, info: Info) -> Annotated[Event, strawberry.lazy("gateway.graphql.events")]:
        event: Event = NODES.edge(info.context.loaders, "Event", self.event_id)
        return event


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
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: journal_tables.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            event_types=[EventType(t) for t in row.event_types],
            description=row.description,
            enabled=row.enabled,
            created_at=DateTime(row.created_at),
            disabled_reason=row.disabled_reason,
            row_id=row.id,
        )

    @strawberry.field(description="Newest first, each with its attempts.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        reader = info.context.loaders.reader
        request = page_arguments(first, after, None, None)
        page = await reader.webhook_deliveries_page(self.row_id, request)
        attempts: dict[uuid.UUID, list[delivery_tables.WebhookAttempt]] = defaultdict(list)
        if page.items:
            for attempt in await reader.webhook_attempts([row.id for row in page.items]):
                attempts[attempt.delivery_id].append(attempt)
        return connection(page, lambda row: WebhookDelivery.of(row, attempts[row.id]))


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
