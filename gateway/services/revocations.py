"""Telling every gateway instance that a credential changed, so that its cache forgets it.

A change that can refuse a credential (an API key revoked; a user blocked, unblocked or closed;
a user's tokens revoked) calls both, in this order:

1. `in_transaction`, inside the committing transaction: on PostgreSQL, a NOTIFY that the
   database delivers to every listening instance if and when the transaction commits (whatever
   process made the change: a gateway, the `key revoke` command);
2. `announce`, once committed: this instance's cache at once, and the other instances through
   Redis when it is the carrier.

An announcement that fails is logged, never raised (the change did commit): the other
instances then refuse the credential once their cache entries expire
(`MPS_CREDENTIAL_CACHE_TTL_S`). Nothing of a platform itself can change who a credential acts
for (its name, environment and currencies are fixed; its token-signing secret is made once and
never rotated), so there is no platform-wide invalidation.
"""

from __future__ import annotations

import logging

from gateway.store.engine import Database, Session
from gateway.store.notify import Invalidation, invalidate_in_transaction

logger = logging.getLogger("gateway.credentials")


async def in_transaction(session: Session, invalidation: Invalidation) -> None:
    """Queue the invalidation with the change (sent on commit, on PostgreSQL)."""
    await invalidate_in_transaction(session, invalidation)


async def announce(db: Database, invalidation: Invalidation) -> None:
    """After commit: this instance's cache now, the others' through the carrier."""
    try:
        await db.notifications.publish_invalidation(invalidation)
    except Exception:  # the change is committed; the caches' expiry bounds the delay
        logger.warning("could not announce %s", invalidation.encode(), exc_info=True)
