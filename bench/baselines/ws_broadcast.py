"""The fan-out's baseline: a raw Starlette WebSocket endpoint broadcasting one frame to all.

It speaks just enough graphql-transport-ws for the bench's subscriber client (ack the
`connection_init`, remember the `subscribe` id, answer pings) and, on each POST /publish,
numbers an event and sends every subscribed client the frame the gateway would send for it
(`next` with `cursor`, `type` and `objectId`, the cursor in the gateway's format), one client
after the other. GET /clients tells how many clients are subscribed and the last sequence.
"""

from __future__ import annotations

import json
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.domain.pagination import encode_event_cursor

PROTOCOL = "graphql-transport-ws"
PLATFORM_ID = uuid.UUID("00000000-0000-7000-8000-00000000b0b0")


class Broadcaster:
    def __init__(self) -> None:
        self.subscribed: dict[WebSocket, str] = {}  # socket -> its subscription id
        self.sequence = 0

    def frame(self, operation_id: str, sequence: int, object_id: str) -> str:
        event = {
            "cursor": encode_event_cursor(PLATFORM_ID, sequence),
            "type": "TRANSFER_SUCCESSFUL",
            "objectId": object_id,
        }
        return json.dumps(
            {"id": operation_id, "type": "next", "payload": {"data": {"events": event}}}
        )

    async def publish(self) -> int:
        self.sequence += 1
        object_id = str(uuid.uuid4())
        frames: dict[str, str] = {}
        for socket, operation_id in list(self.subscribed.items()):
            text = frames.get(operation_id) or frames.setdefault(
                operation_id, self.frame(operation_id, self.sequence, object_id)
            )
            try:
                await socket.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                self.subscribed.pop(socket, None)
        return self.sequence


broadcaster = Broadcaster()


async def subscriptions(socket: WebSocket) -> None:
    await socket.accept(subprotocol=PROTOCOL)
    try:
        while True:
            message = json.loads(await socket.receive_text())
            kind = message.get("type")
            if kind == "connection_init":
                await socket.send_text(json.dumps({"type": "connection_ack"}))
            elif kind == "subscribe":
                broadcaster.subscribed[socket] = str(message["id"])
            elif kind == "ping":
                await socket.send_text(json.dumps({"type": "pong"}))
            elif kind == "complete":
                broadcaster.subscribed.pop(socket, None)
    except WebSocketDisconnect:
        pass
    finally:
        broadcaster.subscribed.pop(socket, None)


async def publish(_request: Request) -> JSONResponse:
    return JSONResponse({"sequence": await broadcaster.publish()})


async def clients(_request: Request) -> JSONResponse:
    return JSONResponse(
        {"subscribed": len(broadcaster.subscribed), "sequence": broadcaster.sequence}
    )


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        WebSocketRoute("/graphql", subscriptions),
        Route("/publish", publish, methods=["POST"]),
        Route("/clients", clients),
        Route("/healthz", healthz),
    ]
)
