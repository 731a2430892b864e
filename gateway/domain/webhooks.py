"""Webhook endpoints: where a platform's events are POSTed, signed per Standard Webhooks.

An endpoint URL must be https and name a public host: no credentials in it, no loopback,
private, link-local or otherwise non-global IP literal, no `localhost` or `.local`/`.internal`
name. Names are resolved again at delivery time (a name may point anywhere later); a setting
allows private targets for tests and closed networks.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from urllib.parse import urlsplit

URL_LENGTH_MAX = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _is_public_host(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".").lower()
        return name != "localhost" and not name.endswith(_PRIVATE_SUFFIXES) and "." in name
    return address.is_global


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` cannot receive webhooks, or None when it can."""
    if len(url) > URL_LENGTH_MAX:
        return f"At most {URL_LENGTH_MAX} characters."
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "Not a valid URL."
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        return "Must be an https URL."
    if not host:
        return "The URL must name a host."
    if parts.username or parts.password:
        return "The URL must not carry credentials."
    if not allow_private and not _is_public_host(host):
        return "The host must be public (no loopback, private or local addresses)."
    return None
