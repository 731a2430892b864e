"""The typed request context: who is calling, for which platform, and the request's loaders.

The caller is a platform (API key) or one of its users (user token, `principal.user_id` set);
the loaders are scoped accordingly, so no resolver can read outside the caller's scope.
Over HTTP the caller is known before execution (the Authorization header). Over a WebSocket
it is known only after `connection_init` carries the key: until `sign_in`, the caller's
attributes are unset, and the protocol refuses any operation before the connection is
acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from gateway.domain.credentials import Principal
from gateway.graphql.loaders import Loaders
from gateway.services.acting import act_as
from gateway.store.engine import Database, ReadConnection
from gateway.store.files import DocumentFiles
from gateway.store.platform_reader import PlatformReader
from gateway.store.tables import Platform

if TYPE_CHECKING:
    from gateway.graphql.runtime.event_source import StreamStart


@dataclass(frozen=True, slots=True)
class Services:
    """What resolvers hand to the services: the database, documents, the event hub."""

    db: Database
    files: DocumentFiles
    document_bytes_max: int
    webhook_allow_private_urls: bool = False
    hub: Any = None  # gateway.services.event_stream.EventHub, set by the app


# The loaders of the WebSocket operation running in this task (and the tasks it starts): each
# operation on a socket runs in a task of its own, and `start_operation` sets them there.
_operation_loaders: ContextVar[Loaders | None] = ContextVar("operation_loaders", default=None)


class Context:
    principal: Principal
    platform: Platform
    _loaders: Loaders

    def __init__(
        self,
        request: Request | WebSocket,
        response: Response | WebSocket | None,
        services: Services,
    ) -> None:
        self.request = request
        self.response = response
        self.services = services
        self.connection_params: dict[str, Any] | None = None
        # Server-sent events (gateway.graphql.runtime.event_source): the sequence a
        # `Last-Event-ID` resumes after, and the cursor of the event being delivered.
        self.resume_after: int | None = None
        self.event_cursor: str | None = None
        self.stream_start: StreamStart | None = None  # where an SSE subscription starts

    def sign_in(
        self, principal: Principal, platform: Platform, *, reads: ReadConnection | None = None
    ) -> None:
        """`reads`: the request's read connection (HTTP); without it (a WebSocket, whose
        context lives as long as the socket), each batch takes a pooled connection."""
        self.principal = principal
        self.platform = platform
        self._loaders = self.new_loaders(reads)

    def take_event_cursor(self) -> str | None:
        """The cursor of the event just delivered, once (its SSE `id:`)."""
        cursor, self.event_cursor = self.event_cursor, None
        return cursor

    @property
    def loaders(self) -> Loaders:
        """The running operation's loaders: the request's over HTTP; over a WebSocket, whose
        context lives as long as the socket, the operation's own, so that a query never gets
        what an earlier operation on the socket read (a balance since moved)."""
        return _operation_loaders.get() or self._loaders

    def start_operation(self) -> None:
        """Called as each operation starts: a WebSocket operation gets fresh loaders."""
        if isinstance(self.request, WebSocket) and hasattr(self, "_loaders"):
            _operation_loaders.set(self.new_loaders())

    def close(self) -> None:
        """The request is answered: free what its loaders hold now (see `Loaders.clear`)."""
        if hasattr(self, "_loaders"):
            self._loaders.clear()

    def new_loaders(self, reads: ReadConnection | None = None) -> Loaders:
        """Fresh loaders (empty caches) for the caller's scope: its platform, or one user."""
        reader = PlatformReader(
            self.services.db,
            platform_id=self.platform.id,
            user_id=self.principal.user_id,
            connection=reads,
        )
        return Loaders(reader)


class OperationScope(SchemaExtension):
    """Starts each operation's scope in its context (`Context.start_operation`), and records
    the caller as the actor of every change the operation makes (gateway.services.acting)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.start_operation()
            if hasattr(context, "principal"):
                act_as(context.principal.actor)
        yield


Info = strawberry.Info[Context, None]
