"""A writer that dies mid-batch, for tests/ledger/test_group_commit.py.

`python -m tests.ledger.crash_batch URL PLATFORM PAYER PAYEE MARKER KEY...` sends one
transfer of 100 per key from PAYER to PAYEE, all at once (so one batch), and once every
command of the batch has run, writes the batch's size to MARKER and waits, before COMMIT,
for the SIGKILL the test sends.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from gateway.services.ledger import NewTransfer, create_transfer
from gateway.store.engine import Database


async def main(url: str, platform: str, payer: str, payee: str, marker: str, *keys: str) -> None:
    db = Database.from_url(url)

    async def stop_here(size: int) -> None:
        await asyncio.to_thread(Path(marker).write_text, str(size))
        await asyncio.sleep(3600)

    db.group_commit().before_commit = stop_here
    await asyncio.gather(
        *(
            create_transfer(
                db,
                platform_id=uuid.UUID(platform),
                new=NewTransfer(
                    debited_account_id=payer,
                    credited_account_id=payee,
                    amount=100,
                    currency="EUR",
                    idempotency_key=key,
                    label=key,
                ),
            )
            for key in keys
        )
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
