"""Bank details, validated by `schwifty` (ISO 13616 checksum, per-country length and format)."""

from __future__ import annotations

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException


def normalize_iban(value: str) -> str | None:
    """The IBAN in electronic format (upper case, no spaces), or None when it is invalid."""
    try:
        return str(IBAN(value).compact)
    except (SchwiftyException, ValueError):
        return None


def normalize_bic(value: str) -> str | None:
    """The BIC in upper case without spaces, or None when it is malformed."""
    try:
        return str(BIC(value).compact)
    except (SchwiftyException, ValueError):
        return None
