"""A filtered, ordered read costs the statements an unfiltered one costs: one per connection,
whatever the page size, and one for the entries of every account of a page together."""

from __future__ import annotations

import httpx

from tests.conftest import PlatformHandle
from tests.filters.ledger import busy_ledger, page, transfer
from tests.support import StatementCounter
from tests.support.calls import query

CREDENTIAL_STATEMENTS = 1  # the request's API key (tests cache no credential)
ENTRIES_OF_ACCOUNTS = """
query ($first: Int!) {
  platform { accounts(first: $first) { nodes { id
    entries(first: 2, filter: {kind: TRANSFER_OUT, amount: {max: -1}}, orderBy: {direction: ASC}) {
      totalCount nodes { id amount { amount } }
    }
  } } }
}
"""


async def test_a_filtered_page_is_one_statement_whatever_its_size(
    client: httpx.AsyncClient, sandbox: PlatformHandle, statements: StatementCounter
) -> None:
    await busy_ledger(client, sandbox, [100, 200, 300, 400, 500])
    wanted = {"amount": {"min": 150}, "status": "SUCCEEDED"}
    counts = []
    for size in (1, 2, 10):
        statements.start()
        found = await page(
            client, sandbox, "transfers", filter=wanted, direction="DESC", first=size
        )
        counts.append(statements.stop())
        assert len(found["nodes"]) == min(size, 4)
    assert counts == [CREDENTIAL_STATEMENTS + 1] * 3, statements.statements


async def test_the_entries_of_every_account_of_a_page_are_one_statement(
    client: httpx.AsyncClient, sandbox: PlatformHandle, statements: StatementCounter
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 200])
    await transfer(client, sandbox, ledger.payee, ledger.payer, 50)
    counts = []
    for accounts in (1, 2):
        statements.start()
        found = await query(client, sandbox, ENTRIES_OF_ACCOUNTS, {"first": accounts})
        counts.append(statements.stop())
        assert len(found["platform"]["accounts"]["nodes"]) == accounts
    # the credential, the accounts' page, and the entries of all of them
    assert counts == [CREDENTIAL_STATEMENTS + 2] * 2, statements.statements
    nodes = found["platform"]["accounts"]["nodes"]
    debits = {
        node["id"]: [e["amount"]["amount"] for e in node["entries"]["nodes"]] for node in nodes
    }
    assert debits == {ledger.payer.account_id: [-100, -200], ledger.payee.account_id: [-50]}
