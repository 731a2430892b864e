"""Who may call what: every mutation names the credentials allowed to call it, here, and the
one permission below enforces it before the resolver runs.

Credentials: a platform API key has a role (`BACKEND`, the platform's server; `OPERATOR`, the
back-office's compliance and treasury decisions; `READONLY`, reporting), and a user token acts
for one user (`USER_TOKEN`).

- Every Mutation field declares its credentials with `allow(...)`; the SDL shows them as
  `@roles(allowed: [...])`, and `check_every_mutation_declares_roles` makes the schema refuse to
  build when one does not. A credential not listed gets a top-level error with
  `extensions.code` FORBIDDEN and nothing changes. Fields closed to user tokens also keep the
  `@isPlatformKey` mark they always had.
- Queries and subscriptions are open to every credential: under a user token the request's
  loaders are scoped to the user's subtree (store/scope.py), so another user's object reads
  as absent; no query field shows a secret (a webhook secret is shown once, by the mutation
  that creates the endpoint, which READONLY keys may not call).
- The mutations open to user tokens check, before calling their service, that every object
  the input names as the caller's own (the user, the debited account, the bank account...) is
  visible to the caller; otherwise they answer NotFound with the same message as for an
  unknown id. A transfer may credit any account of the platform: paying another user is the
  point.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from gateway.domain.credentials import Principal
from gateway.domain.errors import NotFound
from gateway.domain.ids import parse_id
from gateway.graphql.context import Info

FORBIDDEN_CODE = "FORBIDDEN"


@strawberry.enum(description="A kind of credential: an API key's role, or a user token.")
class CredentialRole(enum.Enum):
    BACKEND = "BACKEND"
    OPERATOR = "OPERATOR"
    READONLY = "READONLY"
    USER_TOKEN = "USER_TOKEN"  # noqa: S105 (a credential kind, not a secret)


BACKEND = CredentialRole.BACKEND
OPERATOR = CredentialRole.OPERATOR
READONLY = CredentialRole.READONLY
USER_TOKEN = CredentialRole.USER_TOKEN


def credential_role(principal: Principal) -> CredentialRole:
    if principal.user_id is not None:
        return USER_TOKEN
    return CredentialRole(principal.role.value)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="roles",
    description="The credentials that may call this field; any other gets FORBIDDEN.",
)
class Roles:
    allowed: list[CredentialRole]


class IsPlatformKey(BasePermission):
    message = "Only the platform's API key may do this; a user token may not."
    error_extensions = {"code": FORBIDDEN_CODE}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.user_id is None


class HasRole(BasePermission):
    error_extensions = {"code": FORBIDDEN_CODE}

    def __init__(self, allowed: Iterable[CredentialRole]) -> None:
        ordered = [role for role in CredentialRole if role in set(allowed)]
        self.allowed = frozenset(ordered)
        self._schema_directive = Roles(allowed=ordered)  # type: ignore[misc]  # per instance
        names = ", ".join(role.value for role in ordered)
        self.message = f"This credential may not do this; allowed: {names}."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return credential_role(info.context.principal) in self.allowed


def allow(*roles: CredentialRole) -> list[FieldExtension]:
    """Field extensions of a mutation that only these credentials may call."""
    assert roles, "a mutation names at least one credential"
    permissions: list[BasePermission] = [HasRole(roles)]
    if USER_TOKEN not in roles:
        permissions.insert(0, IsPlatformKey())
    return [PermissionExtension(permissions=permissions)]


def declared_roles(field: Any) -> frozenset[CredentialRole] | None:
    """The credentials a Strawberry field allows, None when it declares none."""
    for extension in field.extensions:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                if isinstance(permission, HasRole):
                    return permission.allowed
    return None


def check_every_mutation_declares_roles(mutation: type) -> None:
    """Refuse a Mutation root with a field that does not say who may call it."""
    fields = mutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    missing = [field.python_name for field in fields if declared_roles(field) is None]
    if missing:
        raise TypeError(f"mutations without allow(...): {', '.join(missing)}")


async def require_own(info: Info, model: type, id_text: str | None, *, what: str) -> None:
    """Under a user token, NotFound unless the object with this id is the user's own."""
    if id_text is None or info.context.principal.user_id is None:
        return
    key = parse_id(id_text)
    row = None if key is None else await info.context.loaders.by_id(model).load(key)
    if row is None:
        raise NotFound(f"No {what} with id {id_text[:64]!r}.")
