"""The npm GraphQL clients run against a real gateway process (tests.support.nodejs)."""

from __future__ import annotations

from tests.support.nodejs import database_url, gateway, node_tools

__all__ = ["database_url", "gateway", "node_tools"]
