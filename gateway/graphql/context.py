"""The typed request context: who is calling, for which platform, and the request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.domain.credentials import Principal
from gateway.graphql.loaders import Loaders
from gateway.store.tables import Platform


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    principal: Principal
    platform: Platform
    loaders: Loaders


Info = strawberry.Info[Context, None]
