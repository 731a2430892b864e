"""Which representation of a GraphQL response a request gets, from its `Accept` header.

The server offers, per the GraphQL over HTTP specification:

- for one result (a query or a mutation): `application/graphql-response+json` and
  `application/json`. The client's q-values decide, then the order of its list; a wildcard
  (`*/*`, `application/*`) or no `Accept` at all gets `application/json`, the media type of
  legacy clients. With `application/graphql-response+json` a request error (the document does
  not parse or validate, a variable cannot be coerced) is a 400; with `application/json` it is
  a 200, as the specification asks for legacy clients.
- for a stream of results (a subscription): `text/event-stream` (graphql-sse, distinct
  connections mode) and `multipart/mixed;subscriptionSpec=1.0` (Apollo's multipart HTTP
  subscriptions). A stream is only given to a client that names its media type: a wildcard
  is no promise that a client can read one.

A query is answered as JSON whenever the client accepts JSON, even when it lists
`text/event-stream` first (urql lists it for every operation); a client that accepts nothing
but `text/event-stream` (the graphql-sse client) gets its one result as a stream. Nothing
acceptable at all is a 406.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
EVENT_STREAM = "text/event-stream"
MULTIPART_MIXED = "multipart/mixed"

StreamProtocol = Literal["sse", "multipart-subscription"]

# Equal preference (a shared wildcard): the first of these wins.
_SINGLE_OFFERS = (JSON, GRAPHQL_RESPONSE_JSON)
_STREAM_OFFERS: tuple[tuple[str, StreamProtocol], ...] = (
    (EVENT_STREAM, "sse"),
    (MULTIPART_MIXED, "multipart-subscription"),
)

TRANSPORTS_HINT = (
    "Subscriptions need a streaming transport: a WebSocket (graphql-transport-ws), "
    "Server-Sent Events (POST or GET with `Accept: text/event-stream`) or multipart HTTP "
    "(POST with `Accept: multipart/mixed;subscriptionSpec=1.0`)."
)
NOT_ACCEPTABLE_HINT = (
    "Accept `application/graphql-response+json` or `application/json` (subscriptions: "
    "`text/event-stream` or `multipart/mixed;subscriptionSpec=1.0`)."
)


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One entry of an `Accept` header."""

    type: str
    subtype: str
    params: dict[str, str]
    q: float
    index: int

    def specificity(self, media_type: str) -> int:
        """How closely this range names `media_type`: 2 exactly, 1 by `type/*`, 0 by `*/*`,
        -1 not at all."""
        main, _, sub = media_type.partition("/")
        if (self.type, self.subtype) == (main, sub):
            return 2
        if self.type == main and self.subtype == "*":
            return 1
        return 0 if (self.type, self.subtype) == ("*", "*") else -1


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _quality(value: str) -> float:
    try:
        q = float(value)
    except ValueError:
        return 0.0
    return q if 0.0 <= q <= 1.0 else 0.0


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an `Accept` header, in the client's order (malformed ones dropped)."""
    ranges = []
    for index, entry in enumerate(_split_outside_quotes(header, ",")):
        media_type, *raw_params = _split_outside_quotes(entry, ";")
        main, slash, sub = media_type.strip().lower().partition("/")
        if not (main and slash and sub):
            continue
        params: dict[str, str] = {}
        for raw in raw_params:
            name, _, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        q = _quality(params.pop("q", "1"))
        ranges.append(MediaRange(main, sub, params, q, index))
    return ranges


def _is_subscription_spec(media_range: MediaRange) -> bool:
    """Apollo's multipart subscriptions: `subscriptionSpec=1.0`, boundary `graphql` if any."""
    boundary = media_range.params.get("boundary", "graphql")
    return media_range.params.get("subscriptionspec", "").startswith("1.") and (
        boundary == "graphql"
    )


# (q, -index, preference): the larger, the better
Rank = tuple[float, int, int]


def _rank_single(ranges: list[MediaRange], media_type: str, preference: int) -> Rank | None:
    matching = [r for r in ranges if r.specificity(media_type) >= 0]
    if not matching:
        return None
    best = max(matching, key=lambda r: (r.specificity(media_type), -r.index))
    return (best.q, -best.index, preference) if best.q > 0 else None


def _rank_stream(ranges: list[MediaRange], media_type: str) -> Rank | None:
    """Streams are only for clients that name them (no wildcard)."""
    for media_range in ranges:
        if media_range.specificity(media_type) != 2:
            continue
        if media_type == MULTIPART_MIXED and not _is_subscription_spec(media_range):
            continue
        return (media_range.q, -media_range.index, 0) if media_range.q > 0 else None
    return None


@dataclass(frozen=True, slots=True)
class Negotiation:
    """What a request accepts: the media type of one result, the stream of a subscription."""

    single: str | None  # GRAPHQL_RESPONSE_JSON or JSON
    stream: StreamProtocol | None
    stream_first: bool  # the client ranks the stream above any single result

    @property
    def acceptable(self) -> bool:
        return self.single is not None or self.stream is not None

    @property
    def streams_queries(self) -> bool:
        """Whether a query's one result goes out as an event stream (no JSON acceptable)."""
        return self.single is None and self.stream == "sse"


def _best(ranked: list[tuple[Rank | None, str]]) -> tuple[Rank, str] | None:
    found = [(rank, name) for rank, name in ranked if rank is not None]
    return max(found) if found else None


@functools.lru_cache(maxsize=256)  # clients send the same few Accept headers again and again
def negotiate(accept: str | None) -> Negotiation:
    ranges = parse_accept(accept or "")
    if not ranges:  # no Accept (or an unreadable one): as if `Accept: application/json`
        return Negotiation(single=JSON, stream=None, stream_first=False)
    single = _best(
        [
            (_rank_single(ranges, media_type, -preference), media_type)
            for preference, media_type in enumerate(_SINGLE_OFFERS)
        ]
    )
    stream = _best(
        [(_rank_stream(ranges, media_type), name) for media_type, name in _STREAM_OFFERS]
    )
    stream_first = stream is not None and (single is None or stream[0][:2] > single[0][:2])
    return Negotiation(
        single=single[1] if single else None,
        stream=_stream_protocol(stream[1]) if stream else None,
        stream_first=stream_first,
    )


def _stream_protocol(name: str) -> StreamProtocol:
    return "sse" if name == "sse" else "multipart-subscription"
