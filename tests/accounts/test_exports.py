"""CSV exports over real HTTP (a running gateway server): what the files hold, whose rows,
formulas kept inert, batches of `export_batch_rows`, and the refusals, on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support import StatementCounter
from tests.support.calls import mutate, success
from tests.support.documents import CREATE_TRANSFER
from tests.support.inputs import money, transfer_input
from tests.support.payments import Funded, create_pay_out, funded_account
from tests.support.server import serve
from tests.support.tokens import as_user, user_token

BATCH_ROWS = 2


@pytest.fixture
async def http(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running gateway that exports `BATCH_ROWS` rows per SQL statement."""
    small = settings.model_copy(update={"export_batch_rows": BATCH_ROWS})
    async for server in serve(small, db):
        async with httpx.AsyncClient(base_url=server.http) as client:
            yield client


def window(**shift: float) -> dict[str, str]:
    """From an hour ago to an hour ahead (or as `shift` says, in days)."""
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=shift.get("before", 1 / 24))
    end = now + dt.timedelta(days=shift.get("after", 1 / 24))
    return {"from": start.isoformat(), "to": end.isoformat()}


async def export(
    http: httpx.AsyncClient, platform: PlatformHandle, path: str, **params: str
) -> list[dict[str, str]]:
    response = await http.get(path, params=params or window(), headers=platform.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.text)))


async def transfer(
    http: httpx.AsyncClient,
    platform: PlatformHandle,
    debited: str,
    credited: str,
    amount: int,
    **overrides: Any,
) -> str:
    new = transfer_input(debited, credited, amount, **overrides)
    payload = await mutate(http, platform, CREATE_TRANSFER, new)
    transfer_id: str = success(payload, "CreateTransferSuccess")["transfer"]["id"]
    return transfer_id


@pytest.fixture
async def pair(http: httpx.AsyncClient, sandbox: PlatformHandle) -> tuple[Funded, Funded]:
    """Two validated users: the first with 1 000 cents, the second with none."""
    payer = await funded_account(http, sandbox, 1_000, validated=True)
    payee = await funded_account(http, sandbox, 0, validated=True)
    return payer, payee


async def test_a_statement_export_lists_the_window_s_entries_in_minor_units_and_decimals(
    http: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(http, sandbox, payer.account_id, payee.account_id, 234)
    path = f"/exports/accounts/{payer.account_id}/statement.csv"

    response = await http.get(path, params=window(), headers=sandbox.headers)
    rows = list(csv.DictReader(io.StringIO(response.text)))

    assert response.status_code == 200
    assert f'filename="statement-{payer.account_id}-' in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == (
        "entry_id,created_at,kind,amount,amount_decimal,balance_after,balance_after_decimal,"
        "currency,operation_type,operation_id"
    )
    assert [(r["kind"], r["amount"], r["amount_decimal"], r["balance_after"]) for r in rows] == [
        ("PAY_IN", "1000", "10.00", "1000"),
        ("TRANSFER_OUT", "-234", "-2.34", "766"),
    ]
    assert rows[1]["balance_after_decimal"] == "7.66"
    assert {r["currency"] for r in rows} == {"EUR"}
    assert rows[1]["operation_type"] == "Transfer"
    assert rows[1]["operation_id"] == transfer_id
    assert rows[1]["created_at"].endswith("Z")


async def test_transfer_pay_in_and_pay_out_exports_hold_their_amounts_and_fees(
    http: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(
        http, sandbox, payer.account_id, payee.account_id, 300, fee=money(7), label="Rent"
    )
    pay_out = (await create_pay_out(http, sandbox, payer, 200))["payOut"]

    transfers = await export(http, sandbox, "/exports/transfers.csv")
    pay_ins = await export(http, sandbox, "/exports/pay-ins.csv")
    pay_outs = await export(http, sandbox, "/exports/pay-outs.csv")

    (sent,) = transfers
    assert sent["transfer_id"] == transfer_id
    assert (sent["amount"], sent["amount_decimal"], sent["fee"], sent["fee_decimal"]) == (
        "300",
        "3.00",
        "7",
        "0.07",
    )
    assert (sent["debited_account_id"], sent["credited_account_id"], sent["label"]) == (
        payer.account_id,
        payee.account_id,
        "Rent",
    )
    (funding,) = pay_ins
    assert (funding["credited_account_id"], funding["amount"], funding["status"]) == (
        payer.account_id,
        "1000",
        "SUCCEEDED",
    )
    assert funding["method"] == "BANK_WIRE"
    (paid_out,) = pay_outs
    assert (paid_out["pay_out_id"], paid_out["amount"], paid_out["status"]) == (
        pay_out["id"],
        "200",
        pay_out["status"],
    )


async def test_text_cells_that_a_spreadsheet_would_run_as_formulas_are_kept_inert(
    http: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    labels = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "plain"]
    for label in labels:
        await transfer(http, sandbox, payer.account_id, payee.account_id, 10, label=label)

    rows = await export(http, sandbox, "/exports/transfers.csv")
    entries = await export(http, sandbox, f"/exports/accounts/{payer.account_id}/statement.csv")

    assert [row["label"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "plain",
    ]
    assert [row["amount"] for row in entries[1:]] == ["-10"] * 5  # numbers stay numbers


async def test_an_export_reads_its_rows_in_batches_of_export_batch_rows(
    http: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    statements: StatementCounter,
) -> None:
    payer, payee = pair
    sent = []
    for amount in range(1, 6):  # 4 rows: two full batches and an empty one; 5: 2 + 2 + 1
        sent.append(await transfer(http, sandbox, payer.account_id, payee.account_id, amount))
        if len(sent) < 4:
            continue
        statements.start()
        rows = await export(http, sandbox, "/exports/transfers.csv")
        statements.stop()
        batches = [s for s in statements.statements if "FROM transfers" in s]
        assert [row["transfer_id"] for row in rows] == sent
        assert len(batches) == len(sent) // BATCH_ROWS + 1, batches

    statements.start()
    entries = await export(http, sandbox, f"/exports/accounts/{payer.account_id}/statement.csv")
    statements.stop()
    batches = [s for s in statements.statements if "FROM ledger_entries" in s]
    assert [row["amount"] for row in entries] == ["1000", "-1", "-2", "-3", "-4", "-5"]
    assert len(batches) == 6 // BATCH_ROWS + 1


async def test_a_user_token_exports_only_its_own_accounts_rows(
    http: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    stranger = await funded_account(http, sandbox, 500, validated=True)
    theirs = await transfer(http, sandbox, stranger.account_id, payer.account_id, 50)
    ours = await transfer(http, sandbox, payer.account_id, payee.account_id, 20)
    payee_token = as_user(sandbox, await user_token(http, sandbox, payee.user_id))

    transfers = await export(http, payee_token, "/exports/transfers.csv")
    pay_ins = await export(http, payee_token, "/exports/pay-ins.csv")
    platform_wide = await export(http, sandbox, "/exports/transfers.csv")
    refused = await http.get(
        f"/exports/accounts/{payer.account_id}/statement.csv",
        params=window(),
        headers=payee_token.headers,
    )

    assert [row["transfer_id"] for row in transfers] == [ours]
    assert pay_ins == []  # the payee was never funded by a pay-in
    assert [row["transfer_id"] for row in platform_wide] == [theirs, ours]
    assert refused.status_code == 404


def error_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["extensions"]["code"]


async def test_bad_dates_and_windows_are_a_400_that_says_what_is_wrong(
    http: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    path = "/exports/transfers.csv"
    year = dt.timedelta(days=367)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cases = {
        "missing": {"to": "2026-02-01T00:00:00Z"},
        "malformed": {"from": "yesterday", "to": "2026-02-01T00:00:00Z"},
        "no offset": {"from": "2026-01-01T00:00:00", "to": "2026-02-01T00:00:00Z"},
        "backwards": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        "too long": {"from": start.isoformat(), "to": (start + year).isoformat()},
    }
    for case, params in cases.items():
        response = await http.get(path, params=params, headers=sandbox.headers)
        assert error_code(response) == (400, "BAD_USER_INPUT"), case
    unencoded = "/exports/transfers.csv?from=2026-01-01T00:00:00+00:00&to=2026-02-01T00:00:00Z"
    assert (await http.get(unencoded, headers=sandbox.headers)).status_code == 200


async def test_credentials_and_accounts_are_refused_as_the_graph_refuses_them(
    http: httpx.AsyncClient,
    sandbox: PlatformHandle,
    other_sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
) -> None:
    payer, _ = pair
    statement = f"/exports/accounts/{payer.account_id}/statement.csv"
    bad_key = {"Authorization": "Bearer mps_test_nope"}

    anonymous = await http.get("/exports/pay-outs.csv", params=window())
    forged = await http.get(statement, params=window(), headers=bad_key)
    foreign = await http.get(statement, params=window(), headers=other_sandbox.headers)
    malformed = await http.get(
        "/exports/accounts/not-an-id/statement.csv", params=window(), headers=sandbox.headers
    )
    unauthenticated_bad_window = await http.get(statement, params={"from": "x"})

    assert error_code(anonymous) == (401, "UNAUTHENTICATED")
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="mps-gateway"'
    assert error_code(forged) == (401, "UNAUTHENTICATED")
    assert error_code(foreign) == error_code(malformed) == (404, "NOT_FOUND")
    assert error_code(unauthenticated_bad_window) == (401, "UNAUTHENTICATED")
