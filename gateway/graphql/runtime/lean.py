"""The lean HTTP path: a query whose plan already answered goes from bytes to bytes.

Strawberry's view and pipeline cost more than a small query itself (request adapters, the
extension runner's hooks, the result's conversions). Once the pipeline has let a document
through and its plan has answered it (`CompiledExecutor.proven`: the text parsed, passed the
limits and validation, and is a query), a later POST of the same text and operation name is
served here: the body decoded with orjson, the same checks that depend on the request (NUL in
the variables, the limits measured with these variables), the plan run with the caller's
context, and the answer written once, with the cost report the pipeline would add.

GET requests are served the same way from their parameters (`variables` and `extensions` as
JSON), so that clients that read with GET (Apollo's `useGETForQueries`, CDN-cached persisted
queries) take it too, and so do documents named by their hash (automatic persisted queries,
trusted documents: the same lookup as the pipeline's). What this path does not serve in
exactly the pipeline's way, it hands to the pipeline unanswered (`None`), which then answers
as always: any request that is not a plain JSON object, a hash the lookup refuses, a variable
the limits or the text guard refuse, a stream asked for, a run the plan hands back.
Everything around execution stays where it is, before this path: credentials, rate limits,
request ids, CORS, body limits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response

from gateway.graphql.compiled import COMPILED, STATS
from gateway.graphql.compiled.extension import CompiledExecutor
from gateway.graphql.runtime import metrics
from gateway.graphql.runtime.limits.cache import MeasureCache
from gateway.graphql.runtime.limits.config import QueryLimits
from gateway.graphql.runtime.limits.cost import cost_report
from gateway.graphql.runtime.limits.limiter import checked
from gateway.graphql.runtime.negotiation import negotiate
from gateway.graphql.runtime.persisted_queries import PersistedQueryRefused
from gateway.graphql.runtime.protocol import MEDIA_TYPES
from gateway.graphql.runtime.text_guard import value_has_nul
from gateway.graphql.runtime.tracing import OperationTrace, operation_span
from gateway.services.acting import act_as

if TYPE_CHECKING:
    from gateway.graphql.runtime.view import GraphQLView


@dataclass(frozen=True, slots=True)
class LeanQueries:
    """What the lean path shares with the pipeline: the plans, the limits and their cache."""

    executor: CompiledExecutor
    limits: QueryLimits
    measures: MeasureCache
    schema: GraphQLSchema

    async def answer(self, view: GraphQLView, request: Request) -> Response | None:
        """The response to a proven query, or None: the pipeline must answer."""
        if request.method == "GET":
            found = _query_params_data(request.query_params)
        else:
            found = _request_data(await request.body())
        if found is None:
            return None
        sent, operation_name, variables, extensions, document_id = found
        query = sent
        persisted = view.persisted
        if extensions or document_id is not None or persisted.trusted_only:
            try:  # named by its hash: the same lookup as the pipeline's
                query = await persisted.document(sent, extensions, document_id)
            except PersistedQueryRefused:
                return None  # the pipeline refuses it, the same way
        if query is None:
            return None
        proven = self.executor.proven.get((query, operation_name))
        if proven is None:
            return None
        document, chosen = proven
        negotiation = negotiate(request.headers.get("accept"))
        single = negotiation.single
        if single is None or negotiation.stream is not None:
            return None
        if variables and value_has_nul(variables):
            return None
        errors, cost = checked(
            self.limits, self.measures, self.schema, query, document, chosen, variables
        )
        if errors or cost is None:
            return None
        context = await view.get_context(request, None)
        context.start_operation()
        act_as(context.principal.actor)
        with _traced(view, chosen, cost) as trace:
            data = await self.executor.data(
                self.schema, query, document, chosen, variables, context
            )
            if data is None and trace is not None:
                trace.outcome = "handed_back"  # the pipeline's operation span follows
        if data is None:
            return None
        STATS.compiled += 1
        STATS.lean += 1
        metrics.note_operation(chosen)
        request.state.execution = COMPILED
        result: dict[str, Any] = {"data": data}
        report = cost_report(
            cost, self.limits.cost_max, report_cost=self.limits.report_cost, asked=extensions
        )
        if report:
            result["extensions"] = report
        return Response(view.encode_json(result), media_type=MEDIA_TYPES[single])


@contextlib.contextmanager
def _traced(view: GraphQLView, name: str | None, cost: int) -> Iterator[OperationTrace | None]:
    """The operation's span when the app traces (gateway.graphql.runtime.tracing)."""
    if view.tracing is None:
        yield None
        return
    with operation_span(view.tracing) as trace:
        trace.type, trace.name, trace.cost = "query", name, cost
        yield trace


# query (None when a hash names it), operationName, variables, extensions, documentId
RequestData = tuple[str | None, str | None, dict[str, Any] | None, dict[str, Any] | None, object]


def _request_data(body: bytes) -> RequestData | None:
    """(query, operationName, variables, extensions, documentId) of a plain JSON body, else
    None."""
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return _plain(payload)


def _query_params_data(params: Mapping[str, str]) -> RequestData | None:
    """The same of a GET request's parameters (`variables` and `extensions` as JSON)."""
    payload: dict[str, Any] = {"query": params.get("query"), "operationName": None}
    if "operationName" in params:
        payload["operationName"] = params["operationName"]
    payload["documentId"] = params.get("documentId") or params.get("doc_id")
    for name in ("variables", "extensions"):
        if name in params:
            try:
                payload[name] = orjson.loads(params[name])
            except orjson.JSONDecodeError:
                return None
    return _plain(payload)


def _plain(payload: dict[str, Any]) -> RequestData | None:
    query = payload.get("query")
    name = payload.get("operationName")
    variables = payload.get("variables")
    extensions = payload.get("extensions")
    document_id = None if query else (payload.get("documentId") or payload.get("doc_id"))
    if (
        not (query is None or type(query) is str)
        or not (name is None or type(name) is str)
        or not (variables is None or type(variables) is dict)
        or not (extensions is None or type(extensions) is dict)
    ):
        return None
    return query or None, name, variables, extensions, document_id
