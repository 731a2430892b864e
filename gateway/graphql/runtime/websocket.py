"""graphql-transport-ws as the gateway serves it: limits of a socket, messages checked before
Strawberry reads them (a malformed one closes the socket with 4400), server pings once a
connection is acknowledged, a coded error for a subscribe beyond the per-connection cap
(`TOO_MANY_SUBSCRIPTIONS`), and each new subscription admitted by the rate limits. A subscribe
may name its document by hash, and is held to the trusted documents as over HTTP
(gateway.graphql.runtime.persisted_queries): a refusal is an `error` message for the operation.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage

from gateway.graphql.context import Context
from gateway.graphql.runtime import metrics
from gateway.graphql.runtime.persisted_queries import PersistedQueries, PersistedQueryRefused
from gateway.graphql.runtime.rate_limits import RateLimits, Refusal, rate_limited_error

_REFUSED = object()  # a subscribe already answered with an `error` message


@dataclass(frozen=True, slots=True)
class SocketLimits:
    connection_init_timeout_s: float = 10.0
    keep_alive_s: float = 15.0
    subscriptions_per_connection_max: int = 20
    allowed_origins: tuple[str, ...] = ()
    any_origin_when_none_allowed: bool = True  # production: only non-browser clients then


def too_many_subscriptions(cap: int) -> GraphQLFormattedError:
    return {
        "message": f"Subscription limit reached: at most {cap} per connection.",
        "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": cap},
    }


def malformed(message: object) -> str | None:
    """Why a graphql-transport-ws message cannot be handled (closed 4400), or None."""
    if not isinstance(message, dict):
        return "WebSocket message must be a JSON object"
    if message.get("type") not in ("subscribe", "complete"):
        return None
    if not isinstance(message.get("id"), str):
        return "The operation id must be a string"
    payload = message.get("payload", {})
    if message["type"] == "subscribe" and not (
        isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables") or {}, dict)
        and isinstance(payload.get("operationName") or "", str)
    ):
        return "The subscribe payload must hold a query, variables and operationName"
    return None


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings once acknowledged, so idle proxies keep the
    connection open and dead peers are noticed."""

    ping_task: asyncio.Task[None] | None = None

    async def handle_message(self, message: Any) -> None:
        message = await self._with_persisted_document(message)
        if message is _REFUSED:
            return
        problem = malformed(message)
        if problem is not None:  # strawberry would index it, and die of a TypeError
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def _with_persisted_document(self, message: Any) -> Any:
        """A subscribe with the document its hash names, or `_REFUSED` once refused; any
        other message (malformed ones included) as it came."""
        persisted: PersistedQueries | None = getattr(self.view, "persisted", None)
        if persisted is None or not self.connection_acknowledged or not isinstance(message, dict):
            return message
        payload, operation_id = message.get("payload"), message.get("id")
        if message.get("type") != "subscribe" or not isinstance(payload, dict):
            return message
        query, extensions = payload.get("query"), payload.get("extensions")
        if not isinstance(query, str | None) or not isinstance(extensions, dict | None):
            return message
        if not isinstance(operation_id, str) or operation_id in self.operations:
            return message
        try:
            found = await persisted.document(query, extensions, payload.get("documentId"))
        except PersistedQueryRefused as refusal:
            await self.send_message(
                {"id": operation_id, "type": "error", "payload": [refusal.error]}
            )
            return _REFUSED
        return {**message, "payload": {**payload, "query": found}} if found else message

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.ping_task is None:
            self.ping_task = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        interval = getattr(self.view, "keep_alive_interval", 15.0)
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def handle_subscribe(self, message: Any) -> None:
        if self._at_capacity(message):
            cap = self.max_subscriptions_per_connection or 0
            await self._refuse(message, too_many_subscriptions(cap))
            return
        refusal = await self._subscription_refusal(message)
        if refusal is None:
            await super().handle_subscribe(message)
            return
        await self._refuse(message, rate_limited_error(refusal))

    async def _refuse(self, message: Any, error: GraphQLFormattedError) -> None:
        if self._measured:
            with metrics.measuring("websocket"):
                metrics.note_error(error.get("extensions", {}).get("code"), refused=True)
        refused: ErrorMessage = {"id": message["id"], "type": "error", "payload": [error]}
        await self.send_message(refused)

    @property
    def _measured(self) -> bool:
        return bool(getattr(self.view, "metrics", False))

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """One operation, noted for /metrics (a subscription is recorded once it streams)."""
        if not self._measured:
            await super().run_operation(operation)
            return
        with metrics.measuring("websocket"):
            await super().run_operation(operation)

    def _at_capacity(self, message: Any) -> bool:
        """Strawberry refuses these too, but without a code; this runs before rate limits."""
        cap = self.max_subscriptions_per_connection
        return (
            cap is not None
            and self.connection_acknowledged
            and message.get("id") not in self.operations
            and len(self.operations) >= cap
        )

    async def _subscription_refusal(self, message: Any) -> Refusal | None:
        # Protocol errors (not acknowledged, duplicate id) stay the protocol's to answer.
        rate_limits: RateLimits | None = getattr(self.view, "rate_limits", None)
        if rate_limits is None or not self.connection_acknowledged:
            return None
        if message.get("id") in self.operations:
            return None
        return await rate_limits.admit_subscription(self.context.principal.credential)

    async def shutdown(self) -> None:
        if self.ping_task is not None:
            self.ping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ping_task
        await super().shutdown()
