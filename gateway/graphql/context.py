"""The typed request context: who is calling, for which platform, and the request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.domain.credentials import Principal
from gateway.graphql.loaders import Loaders
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from gateway.store.tables import Platform


@dataclass(frozen=True, slots=True)
class Services:
    """What mutations hand to the services: the database and the document store."""

    db: Database
    files: DocumentFiles
    document_bytes_max: int
    webhook_allow_private_urls: bool = False


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    principal: Principal
    platform: Platform
    loaders: Loaders
    services: Services


Info = strawberry.Info[Context, None]
