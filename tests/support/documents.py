"""The GraphQL documents that several tests send, read from tests/documents/.

One operation per file, named like its operation (`CreateUser.graphql`); the fragments they
spread live in tests/documents/fragments/, one per file named like the fragment. `document`
appends every fragment an operation spreads (and the fragments those spread), each once, so a
file holds only its own operation and clients' tooling can read the folder as it is.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "documents"
SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([_A-Za-z]\w*)")


@cache
def fragment(name: str) -> str:
    """The fragment `name`, as its file has it."""
    return (FOLDER / "fragments" / f"{name}.graphql").read_text()


def _spread(text: str) -> list[str]:
    """The fragments `text` spreads, and those they spread, in order of first use."""
    found: list[str] = []
    pending = SPREAD.findall(text)
    while pending:
        name = pending.pop(0)
        if name not in found:
            found.append(name)
            pending += SPREAD.findall(fragment(name))
    return found


@cache
def document(name: str) -> str:
    """The operation `name` with every fragment it needs, ready to send."""
    text = (FOLDER / f"{name}.graphql").read_text()
    return text + "".join(fragment(spread) for spread in _spread(text))


CREATE_USER = document("CreateUser")
ADD_PERSON = document("AddPerson")
OPEN_ACCOUNT = document("OpenAccount")
ADD_BANK_ACCOUNT = document("AddBankAccount")
SUBMIT_DOCUMENT = document("SubmitDocument")
REQUEST_VALIDATION = document("RequestValidation")
CREATE_TRANSFER = document("CreateTransfer")
CREATE_MANDATE = document("CreateMandate")
CREATE_PAY_IN = document("CreatePayIn")
CREATE_PAY_OUT = document("CreatePayOut")
SIMULATE_VALIDATION = document("SimulateValidation")
SIMULATE_MANDATE = document("SimulateMandate")
SIMULATE_PAY_IN = document("SimulatePayIn")
SIMULATE_PAY_OUT = document("SimulatePayOut")
BLOCK_ACCOUNT = document("BlockAccount")
UNBLOCK_ACCOUNT = document("UnblockAccount")
CLOSE_ACCOUNT = document("CloseAccount")
BLOCK_USER = document("BlockUser")
UNBLOCK_USER = document("UnblockUser")
CLOSE_USER = document("CloseUser")
UPDATE_USER = document("UpdateUser")
UPDATE_PERSON = document("UpdatePerson")
CANCEL_MANDATE = document("CancelMandate")
MARK_DOCUMENT_OUT_OF_DATE = document("MarkDocumentOutOfDate")
USER_QUERY = document("UserWithObjects")
ACCOUNT_QUERY = document("AccountWithEntries")
EVENTS_QUERY = document("EventsPage")
EVENT_NODE_QUERY = document("EventNode")
PLATFORM_LISTS_QUERY = document("PlatformLists")
COUNTS_QUERY = document("PlatformCounts")
DECIDE_USER_VALIDATION = document("DecideUserValidation")
DECIDE_DOCUMENT = document("DecideDocument")
DECIDE_MANDATE = document("DecideMandate")
RECORD_WIRE_PAY_IN = document("RecordWirePayIn")
FAIL_WIRE_PAY_IN = document("FailWirePayIn")
SETTLE_DIRECT_DEBIT = document("SettleDirectDebit")
DECIDE_PAY_OUT = document("DecidePayOut")

# The fragment that selects each Node type's own fields, by type name.
FRAGMENTS = {
    "Transfer": "TransferFields",
    "PayIn": "PayInFields",
    "PayOut": "PayOutFields",
    "LedgerEntry": "EntryFields",
    "BankAccount": "BankAccountFields",
    "DirectDebitMandate": "MandateFields",
    "KycDocument": "DocumentFields",
    "NaturalPerson": "NaturalPersonFields",
    "Account": "AccountFields",
    "User": "UserFields",
}


def node_query(typename: str) -> str:
    """node(id:) selecting the fields of `typename` (each type's own fragment)."""
    name = FRAGMENTS[typename]
    selection = f"__typename id ... on {typename} {{ ...{name} }}"
    return f"query ($id: ID!) {{ node(id: $id) {{ {selection} }} }}\n{fragment(name)}"
