"""Idempotency fingerprints: the same operation with the same input gives the same digest."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(operation: str, payload: dict[str, Any]) -> str:
    """SHA-256 of the operation name and its input in canonical JSON (sorted keys)."""
    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
