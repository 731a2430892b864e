"""Webhook endpoint mutations: the secret is shown once, in the creation's answer."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.domain.enums import EventType
from gateway.graphql.access import platform_key_only
from gateway.graphql.context import Info
from gateway.graphql.operations import WebhookEndpoint
from gateway.graphql.rejections import NotFoundRejection, ValidationRejection
from gateway.services import webhooks


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
        extensions=platform_key_only(),
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
        extensions=platform_key_only(), description="Stop delivering to an endpoint and forget it."
    )
    async def delete_webhook_endpoint(
        self, info: Info, input: DeleteWebhookEndpointInput
    ) -> DeleteWebhookEndpointPayload:
        deleted = await webhooks.delete_endpoint(
            info.context.services.db, platform_id=info.context.platform.id, endpoint_id=input.id
        )
        return DeleteWebhookEndpointSuccess(deleted_id=strawberry.ID(str(deleted)))
