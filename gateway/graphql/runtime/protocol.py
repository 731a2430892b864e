"""GraphQL over HTTP as the specification and the common clients expect it, on Strawberry's
ASGI view: content negotiation (gateway.graphql.runtime.negotiation), the subscription
streams (gateway.graphql.runtime.transports) and documents named by their hash
(gateway.graphql.runtime.persisted_queries: automatic persisted queries, trusted documents).

How an operation is run:

1. Nothing in `Accept` that the server offers: 406 `NOT_ACCEPTABLE`, nothing executed.
2. The operation is prepared (parsed through the query limits and the document cache) with
   subscriptions excluded: a query or a mutation runs and is answered with one result.
3. A subscription stops there, unexecuted, and is prepared again as a stream: over POST, in
   the stream the client named (SSE or multipart); over GET, as SSE only (the browser's
   `EventSource`: gateway.graphql.runtime.event_source). Over GET for another stream, or to a
   client that named no stream, it is refused with a coded 4xx
   (`SUBSCRIPTION_TRANSPORT_REQUIRED`, 405 or 406) whose message names the transports to use.

A request error (the document does not parse or validate, a variable cannot be coerced: no
path, no data) has no `data` entry, and is a 400 when the answer is
`application/graphql-response+json`. Errors met while executing keep their 200.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import Any, cast, overload

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, GraphQLFormattedError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from gateway.graphql.context import Context
from gateway.graphql.runtime.errors import UNAVAILABLE_RETRY_AFTER_S, is_unavailable
from gateway.graphql.runtime.event_source import is_event_stream, stamp_event_id, with_retry
from gateway.graphql.runtime.negotiation import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    NOT_ACCEPTABLE_HINT,
    TRANSPORTS_HINT,
    Negotiation,
    negotiate,
)
from gateway.graphql.runtime.persisted_queries import (
    PersistedQueries,
    PersistedQueryRefused,
)
from gateway.graphql.runtime.transports import (
    EventStream,
    MultipartSubscriptions,
    is_multipart_subscription,
    opened,
)

MEDIA_TYPES = {GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8", JSON: JSON}


class NotServed(Exception):
    """A request the protocol cannot serve, answered with a coded GraphQL error."""

    def __init__(self, status: int, message: str, code: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.error: GraphQLFormattedError = {"message": message, "extensions": {"code": code}}
        self.headers = headers


def errors_response(
    status: int, errors: list[GraphQLFormattedError], media_type: str = JSON, **headers: str
) -> Response:
    return JSONResponse(
        {"errors": errors}, status_code=status, media_type=MEDIA_TYPES[media_type], headers=headers
    )


def not_acceptable() -> NotServed:
    return NotServed(406, f"Not acceptable: {NOT_ACCEPTABLE_HINT}", "NOT_ACCEPTABLE")


def subscription_refusal(method: str) -> NotServed:
    code = "SUBSCRIPTION_TRANSPORT_REQUIRED"
    if method == "GET":
        return NotServed(
            405,
            f"Over GET, subscriptions are Server-Sent Events only. {TRANSPORTS_HINT}",
            code,
            allow="POST",
        )
    return NotServed(406, TRANSPORTS_HINT, code)


def is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution: errors without a path, and no data."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


async def _one(result: ExecutionResult) -> AsyncGenerator[ExecutionResult, None]:
    yield result


def _negotiation(request: Request) -> Negotiation:
    found = getattr(request.state, "negotiation", None)
    return found if isinstance(found, Negotiation) else negotiate(request.headers.get("accept"))


async def _document_id(view: GraphQL[Context, None], request: AsyncHTTPRequestAdapter) -> object:
    """A top-level `documentId` (or Relay's `doc_id`), read again from a request that sent no
    document (so a small one): Strawberry's request data keeps neither."""
    if request.method == "GET":
        params = request.query_params
        return params.get("documentId") or params.get("doc_id")
    if "json" not in (request.content_type or ""):
        return None
    body = view.decode_json(await request.get_body())
    return (body.get("documentId") or body.get("doc_id")) if isinstance(body, dict) else None


class NegotiatingGraphQL(GraphQL[Context, None]):
    persisted: PersistedQueries  # set by the view, from the app's settings
    sse_retry_ms: int  # likewise

    stream_transport_classes_by_protocol: Mapping[str, type[HTTPStreamTransport]] = {
        MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptions,
        GRAPHQL_SSE_PROTOCOL: EventStream,
    }

    @overload
    async def run(
        self, request: Request, context: Context = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        """Strawberry's run, with the answer's media type and status negotiated."""
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        negotiation = request.state.negotiation = negotiate(request.headers.get("accept"))
        single = negotiation.single or JSON
        try:
            if not negotiation.acceptable:
                raise not_acceptable()
            response = await super().run(request, context, root_value)
        except NotServed as refusal:
            return errors_response(refusal.status, [refusal.error], **refusal.headers)
        except PersistedQueryRefused as refusal:
            return errors_response(refusal.status, [refusal.error], single)
        if isinstance(response, StreamingResponse):
            return response
        response.headers["content-type"] = MEDIA_TYPES[single]
        if single == GRAPHQL_RESPONSE_JSON and getattr(request.state, "request_error", False):
            response.status_code = 400
        if getattr(request.state, "unavailable", False):  # retry: see runtime.errors
            response.status_code = 503
            response.headers["retry-after"] = str(UNAVAILABLE_RETRY_AFTER_S)
        return response

    def should_render_graphql_ide(self, request: Any) -> bool:
        return False  # the view serves its own playground, before any of this

    def _get_stream_transport_from_headers(
        self, headers: Mapping[str, str]
    ) -> HTTPStreamTransport | None:
        """The stream a request asks for first (rate limits count it as a subscription); in
        Strawberry, any stream type named anywhere in `Accept`."""
        negotiation = negotiate(headers.get("accept"))
        if negotiation.stream is None or not negotiation.stream_first:
            return None
        return self._get_stream_transport(negotiation.stream)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        data = await super().parse_http_body(request)
        if isinstance(data, list):  # batching is off: refused while parsing
            raise HTTPException(400, "Batching is not enabled")
        document_id = None if data.query else await _document_id(self, request)
        if data.extensions or document_id is not None or self.persisted.trusted_only:
            query = await self.persisted.document(data.query, data.extensions, document_id)
            data = replace(data, query=query)
        stream = negotiate(request.headers.get("accept")).stream
        return replace(data, protocol=stream or "http")

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        assert isinstance(request_data, GraphQLRequestData)  # see parse_http_body
        negotiation = _negotiation(request)
        method = request_adapter.method
        single = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        answerable = negotiation.single is not None or negotiation.streams_queries
        try:
            result = await self._run_single(request_data, context, single if answerable else set())
        except InvalidOperationTypeError as error:
            if error.operation_type is not OperationType.SUBSCRIPTION:
                if error.operation_type in single:  # the client accepts only a multipart stream
                    raise not_acceptable() from None
                raise HTTPException(400, error.as_http_error_reason(method)) from error
            if negotiation.stream is None or (method == "GET" and negotiation.stream != "sse"):
                raise subscription_refusal(method) from None
            return await self._run_stream(request_data, context)
        if negotiation.streams_queries:  # the graphql-sse client: one `next` event
            return cast("SubscriptionExecutionResult", _one(result))
        return result

    async def _run_single(
        self, data: GraphQLRequestData, context: Context, allowed: set[OperationType]
    ) -> ExecutionResult:
        try:
            return await self.schema.execute(
                data.query,
                variable_values=data.variables,
                context_value=context,
                operation_name=data.operation_name,
                operation_extensions=data.extensions,
                allowed_operation_types=allowed,
            )
        except CannotGetOperationTypeError as error:  # a request error like any other
            reason = error.as_http_error_reason()
            return ExecutionResult(
                data=None, errors=[GraphQLError(reason, extensions={"code": "BAD_REQUEST"})]
            )
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def _run_stream(
        self, data: GraphQLRequestData, context: Context
    ) -> SubscriptionExecutionResult:
        stream = await self.schema.stream(
            data.query,
            variable_values=data.variables,
            context_value=context,
            operation_name=data.operation_name,
            operation_extensions=data.extensions,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )
        return cast("SubscriptionExecutionResult", stream)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if any(is_unavailable(error) for error in result.errors or ()):
            request.state.unavailable = True
        if is_request_error(result):
            processed.pop("data", None)
            request.state.request_error = True
        context = getattr(request.state, "context", None)
        if _negotiation(request).stream == "sse" and isinstance(context, Context):
            processed = stamp_event_id(processed, context.take_event_cursor())
        return processed

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        if is_multipart_subscription(headers):
            stream = opened(stream)
        elif is_event_stream(headers):
            context = (
                getattr(request.state, "context", None) if isinstance(request, Request) else None
            )
            start = context.stream_start if isinstance(context, Context) else None
            stream = with_retry(stream, self.sse_retry_ms, start)
        return await super().create_streaming_response(request, stream, sub_response, headers)
