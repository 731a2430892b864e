"""CSV exports: an account's statement lines, and the platform's transfers, pay-ins and
pay-outs, streamed in keyset batches (gateway/store/exports.py).

- One header line, then one line per row, oldest first; RFC 4180 quoting by the `csv` module,
  CRLF line ends, UTF-8.
- Money as the graph shows it: an integer of minor units (`amount`), the currency (`currency`)
  and a decimal text formatted from the integer (`amount_decimal`, "12.34"); never a float.
- Text cells (labels, references, reasons: what a client or a bank wrote) that begin with
  `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'`, so that a spreadsheet
  shows them instead of running them as formulas. Numbers are ours and are left as they are.
- Times in UTC, ISO 8601 with microseconds and a `Z`: the precision of the window's bounds.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from gateway.domain.money import format_decimal
from gateway.store import exports
from gateway.store.account_statements import Window
from gateway.store.engine import Database
from gateway.store.exports import Scope

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """`text` as a spreadsheet shows it and never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return neutralised(str(value))


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    cell: Callable[[Any], str | int]


def text(header: str, attribute: str | None = None) -> Column:
    name = attribute or header
    return Column(header, lambda row: _text(getattr(row, name)))


def money(header: str, attribute: str | None = None) -> list[Column]:
    """The minor units and their decimal text (empty both when the amount is absent)."""
    name = attribute or header

    def units(row: Any) -> str | int:
        value = getattr(row, name)
        return "" if value is None else int(value)

    def decimal(row: Any) -> str:
        value = getattr(row, name)
        return "" if value is None else format_decimal(int(value), row.currency)

    return [Column(header, units), Column(f"{header}_decimal", decimal)]


@dataclass(frozen=True, slots=True)
class Export:
    table: str
    filename: str
    columns: list[Column]

    def header(self) -> list[str]:
        return [column.header for column in self.columns]

    def line(self, row: Any) -> list[str | int]:
        return [column.cell(row) for column in self.columns]


STATEMENT = Export(
    "ledger_entries",
    "statement",
    [
        text("entry_id", "id"),
        text("created_at"),
        text("kind"),
        *money("amount"),
        *money("balance_after"),
        text("currency"),
        text("operation_type"),
        text("operation_id"),
    ],
)
TRANSFERS = Export(
    "transfers",
    "transfers",
    [
        text("transfer_id", "id"),
        text("created_at"),
        text("status"),
        text("debited_account_id"),
        text("credited_account_id"),
        *money("amount"),
        *money("fee"),
        text("currency"),
        text("label"),
    ],
)
PAY_INS = Export(
    "pay_ins",
    "pay-ins",
    [
        text("pay_in_id", "id"),
        text("created_at"),
        text("updated_at"),
        text("status"),
        text("method"),
        text("credited_account_id"),
        *money("amount"),
        *money("fee"),
        *money("amount_received"),
        text("currency"),
        text("wire_reference"),
        text("bank_reference"),
        text("value_date"),
        text("failure_reason"),
    ],
)
PAY_OUTS = Export(
    "pay_outs",
    "pay-outs",
    [
        text("pay_out_id", "id"),
        text("created_at"),
        text("updated_at"),
        text("status"),
        text("debited_account_id"),
        text("bank_account_id"),
        *money("amount"),
        *money("fee"),
        text("currency"),
        text("label"),
        text("failure_reason"),
    ],
)


def _taken(buffer: io.StringIO) -> str:
    written = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return written


async def account_visible(db: Database, *, scope: Scope, account_id: uuid.UUID) -> bool:
    """True when the caller may read the account (else: what an unknown id gets)."""
    return await exports.visible_account(db, scope=scope, account_id=account_id) is not None


async def csv_chunks(
    db: Database,
    *,
    export: Export,
    scope: Scope,
    window: Window,
    batch_rows: int,
    account_id: uuid.UUID | None = None,
) -> AsyncIterator[str]:
    """The export's CSV text: the header, then one chunk per batch of `batch_rows` rows (one
    statement each; the last batch is the first with fewer rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.header())
    yield _taken(buffer)
    after: uuid.UUID | None = None
    while True:
        rows = await exports.batch(
            db,
            table=export.table,
            scope=scope,
            window=window,
            after=after,
            limit=batch_rows,
            account_id=account_id,
        )
        writer.writerows(export.line(row) for row in rows)
        if rows:
            yield _taken(buffer)
        if len(rows) < batch_rows:
            return
        after = rows[-1].id
