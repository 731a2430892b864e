"""Who may call what: platform API keys do everything in their platform; user tokens act for one
user and only on that user's own objects.

- Reads need nothing here: under a user token the request's loaders are scoped to the user's
  subtree (store/scope.py), so another user's object reads as absent.
- Mutations that belong to the platform's backend (creating users, issuing tokens, webhooks,
  account administration, sandbox simulations) carry `PLATFORM_KEY_ONLY`: a user token gets a
  top-level error with `extensions.code` FORBIDDEN, before the resolver runs.
- The other mutations check, before calling their service, that every object the input names
  as the caller's own (the user, the debited account, the bank account...) is visible to the
  caller; otherwise they answer NotFound with the same message as for an unknown id. A
  transfer may credit any account of the platform: paying another user is the point.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from gateway.domain.errors import NotFound
from gateway.domain.ids import parse_id
from gateway.graphql.context import Info

FORBIDDEN_CODE = "FORBIDDEN"


class IsPlatformKey(BasePermission):
    message = "Only the platform's API key may do this; a user token may not."
    error_extensions = {"code": FORBIDDEN_CODE}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.user_id is None


def platform_key_only() -> list[FieldExtension]:
    """Field extensions of a mutation reserved to platform API keys."""
    return [PermissionExtension(permissions=[IsPlatformKey()])]


async def require_own(info: Info, model: type, id_text: str | None, *, what: str) -> None:
    """Under a user token, NotFound unless the object with this id is the user's own."""
    if id_text is None or info.context.principal.user_id is None:
        return
    key = parse_id(id_text)
    row = None if key is None else await info.context.loaders.by_id(model).load(key)
    if row is None:
        raise NotFound(f"No {what} with id {id_text[:64]!r}.")
