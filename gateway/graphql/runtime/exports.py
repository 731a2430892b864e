"""CSV exports over HTTP: the routes' glue, the rows in gateway/services/exports.py.

    GET /exports/accounts/{account_id}/statement.csv?from=...&to=...
    GET /exports/transfers.csv?from=...&to=...
    GET /exports/pay-ins.csv?from=...&to=...
    GET /exports/pay-outs.csv?from=...&to=...

Authenticated exactly like the graph (the same `Authorization: Bearer` API key or user token,
the same rate limits) and scoped like it: a platform key exports its platform's rows, a user
token its own accounts' rows only. Answers: 401 `UNAUTHENTICATED` without a valid credential;
400 `BAD_USER_INPUT` for a missing or malformed `from`/`to` (RFC 3339 with an offset, as the
graph's DateTime) or a window the graph would refuse (`from` not before `to`, more than 366
days); 404 `NOT_FOUND` for an account the caller cannot read, exactly as for an unknown id;
429 and 503 as the graph. Every role may export (exports are reads): no 403 arises. Then a
200 `text/csv` streamed batch by batch (`export_batch_rows` rows per SQL statement).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import parse_id
from gateway.graphql.runtime.rate_limits import RateLimits
from gateway.graphql.runtime.view import (
    admit,
    error_response,
    unavailable_response,
)
from gateway.graphql.scalars import parse_datetime
from gateway.services import account_statements, exports
from gateway.services.credentials import authenticate
from gateway.store.account_statements import Window
from gateway.store.availability import unavailable
from gateway.store.engine import Database
from gateway.store.exports import Scope

logger = logging.getLogger("gateway.exports")


def _instant(request: Request, name: str) -> dt.datetime:
    value = request.query_params.get(name)
    if value is None:
        raise InvalidArgument(f"`{name}` is required (e.g. 2026-01-01T00:00:00Z).", argument=name)
    if len(value) > 6 and value[-6] == " ":  # an unencoded "+hh:mm" read as " hh:mm"
        value = f"{value[:-6]}+{value[-5:]}"
    try:
        return parse_datetime(value)
    except ValueError as error:
        raise InvalidArgument(f"`{name}`: {error}", argument=name) from None


def window_of(request: Request) -> Window:
    """The `from`/`to` window of the query string, checked as the graph checks a statement's."""
    return account_statements.window(_instant(request, "from"), _instant(request, "to"))


def _bad_input(error: InvalidArgument) -> Response:
    return error_response(400, error.message, error.code)


class Exports:
    """The export routes of one app: its database, its rate limits, its batch size."""

    def __init__(self, db: Database, *, rate_limits: RateLimits, batch_rows: int) -> None:
        self.db = db
        self.rate_limits = rate_limits
        self.batch_rows = batch_rows

    async def _scope(self, request: Request) -> Scope | Response:
        """The caller's scope, or the refusal the graph would answer."""
        authorization = request.headers.get("authorization")
        caller = await authenticate(self.db, authorization=authorization)
        admitted = await admit(
            self.rate_limits, request, authorization, caller, respond=error_response
        )
        if isinstance(admitted, Response):
            return admitted
        principal, platform = admitted
        return Scope(platform_id=platform.id, user_id=principal.user_id)

    def routes(self) -> dict[str, Callable[[Request], Awaitable[Response]]]:
        """The export routes' paths and their handlers."""
        return {
            "/exports/accounts/{account_id}/statement.csv": self.statement,
            "/exports/transfers.csv": self.transfers,
            "/exports/pay-ins.csv": self.pay_ins,
            "/exports/pay-outs.csv": self.pay_outs,
        }

    async def statement(self, request: Request) -> Response:
        return await self._answer(request, exports.STATEMENT)

    async def transfers(self, request: Request) -> Response:
        return await self._answer(request, exports.TRANSFERS)

    async def pay_ins(self, request: Request) -> Response:
        return await self._answer(request, exports.PAY_INS)

    async def pay_outs(self, request: Request) -> Response:
        return await self._answer(request, exports.PAY_OUTS)

    async def _answer(self, request: Request, export: exports.Export) -> Response:
        try:
            return await self._stream(request, export)
        except InvalidArgument as error:
            return _bad_input(error)
        except Exception as error:
            if not unavailable(error):
                raise
            logger.warning("database unavailable: %s", type(error).__name__)
            return unavailable_response()

    async def _stream(self, request: Request, export: exports.Export) -> Response:
        scope = await self._scope(request)
        if isinstance(scope, Response):
            return scope
        window = window_of(request)
        account_id = None
        name = export.filename
        if "account_id" in request.path_params:
            account_id = parse_id(request.path_params["account_id"])
            visible = account_id is not None and await exports.account_visible(
                self.db, scope=scope, account_id=account_id
            )
            if not visible:
                return error_response(404, "Not found.", "NOT_FOUND")
            name = f"statement-{account_id}"
        chunks = exports.csv_chunks(
            self.db,
            export=export,
            scope=scope,
            window=window,
            batch_rows=self.batch_rows,
            account_id=account_id,
        )
        filename = f"{name}-{window.start:%Y%m%dT%H%M%SZ}-{window.end:%Y%m%dT%H%M%SZ}.csv"
        headers = {
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        }
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)
