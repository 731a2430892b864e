"""The two HTTP streams of a subscription, framed as their clients read them.

- `EventStream` (graphql-sse, distinct connections mode): Strawberry's, with lines ended by
  `\\n`. Strawberry ends them with `\\r\\n`, which the SSE format allows but some readers do
  not: urql cuts events at `\\n\\n`, so a CRLF stream never yields an event to it. A `next`
  event of a subscription event carries its cursor as `id:` (gateway.graphql.runtime.event_source).
- `MultipartSubscriptions` (Apollo's multipart HTTP subscriptions, `subscriptionSpec=1.0`):
  the body opens with `--graphql`; each part (`{}` as a heartbeat, every 5 s and at once,
  then `{"payload": <result>}` per event) is followed by the `\\r\\n--graphql` delimiter, so a
  reader can hand it over without waiting for the next one; the stream closes with
  `\\r\\n--graphql--\\r\\n`. `opened` adds the opening delimiter to a stream's text (Strawberry
  sends a first heartbeat instead, before any delimiter, where it is preamble) and the final
  boundary replaces Strawberry's extra empty part.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import ClassVar

from strawberry.http import GraphQLHTTPResponse
from strawberry.http.streaming import JSONEncoder, MultipartSubscriptionTransport, SSETransport

from gateway.graphql.runtime.event_source import take_event_id

BOUNDARY = "graphql"
MULTIPART_SUBSCRIPTION_CONTENT_TYPE = (
    f'multipart/mixed;boundary="{BOUNDARY}";subscriptionSpec="1.0"'
)


class EventStream(SSETransport):
    def encode_next(self, response: GraphQLHTTPResponse, encode_json: JSONEncoder) -> str:
        event_id = take_event_id(response)
        encoded = self.encode_event("next", encode_json(response))
        return encoded if event_id is None else f"id: {event_id}\n{encoded}"

    def encode_event(self, event: str, data: str | None = None) -> str:
        if data and ("\r" in data or "\n" in data):
            raise ValueError("SSE event data must not contain newlines")
        # A data field, even empty: browsers drop an event without one.
        return f"event: {event}\ndata: {data or ''}\n\n"

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"


class MultipartSubscriptions(MultipartSubscriptionTransport):
    content_type: ClassVar[str] = MULTIPART_SUBSCRIPTION_CONTENT_TYPE

    def __init__(self) -> None:
        super().__init__(BOUNDARY)

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Content-Type": self.content_type, "Cache-Control": "no-cache, no-transform"}

    def encode_complete(self) -> str:
        return "--\r\n"  # after the last part's delimiter: the close delimiter


def is_multipart_subscription(headers: Mapping[str, str]) -> bool:
    return headers.get("Content-Type") == MULTIPART_SUBSCRIPTION_CONTENT_TYPE


TextStream = Callable[[], AsyncIterator[str]]


def opened(stream: TextStream) -> TextStream:
    """A multipart subscription's text, after its opening delimiter."""

    async def with_opening() -> AsyncGenerator[str, None]:
        yield f"--{BOUNDARY}"
        async for chunk in stream():
            yield chunk

    return with_opening
