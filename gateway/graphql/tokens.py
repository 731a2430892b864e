"""User token mutations, for a platform's backend only: issue a token that a frontend app uses
to act for one user, and revoke every token issued so far for a user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import user_tokens as tokens
from gateway.graphql.access import BACKEND, allow
from gateway.graphql.context import Info
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.scalars import DateTime
from gateway.services import user_tokens

if TYPE_CHECKING:
    from gateway.graphql.users import User


@strawberry.input
class CreateUserTokenInput:
    user_id: strawberry.ID
    expires_in_seconds: int = strawberry.field(
        default=tokens.EXPIRES_IN_S_DEFAULT,
        description=f"Lifetime, {tokens.EXPIRES_IN_S_MIN} to {tokens.EXPIRES_IN_S_MAX} seconds.",
    )


@strawberry.type
class CreateUserTokenSuccess:
    token: str = strawberry.field(
        description="Send as `Authorization: Bearer <token>`; shown once, never stored."
    )
    expires_at: DateTime
    user: Annotated[User, strawberry.lazy("gateway.graphql.users")]


@strawberry.input
class RevokeUserTokensInput:
    user_id: strawberry.ID


@strawberry.type
class RevokeUserTokensSuccess:
    user: Annotated[User, strawberry.lazy("gateway.graphql.users")]
    revoked_before: DateTime = strawberry.field(
        description="Tokens issued at or before this instant are refused from now on."
    )


CreateUserTokenPayload = Annotated[
    CreateUserTokenSuccess | ValidationRejection | NotFoundRejection | InvalidStateRejection,
    strawberry.union("CreateUserTokenPayload"),
]
RevokeUserTokensPayload = Annotated[
    RevokeUserTokensSuccess | NotFoundRejection, strawberry.union("RevokeUserTokensPayload")
]


@strawberry.type
class TokenMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="A short-lived token acting for one active user: under it `viewer` is that"
        " user and only that user's own objects are visible or usable.",
    )
    async def create_user_token(
        self, info: Info, input: CreateUserTokenInput
    ) -> CreateUserTokenPayload:
        issued = await user_tokens.issue_user_token(
            info.context.services.db,
            principal=info.context.principal,
            user_id=input.user_id,
            expires_in_s=input.expires_in_seconds,
        )
        return CreateUserTokenSuccess(
            token=issued.token,
            expires_at=DateTime(issued.expires_at),
            user=NODES.convert("User", issued.user),
        )

    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="Refuse every token issued so far for the user (a lost device, a logout).",
    )
    async def revoke_user_tokens(
        self, info: Info, input: RevokeUserTokensInput
    ) -> RevokeUserTokensPayload:
        user = await user_tokens.revoke_user_tokens(
            info.context.services.db, principal=info.context.principal, user_id=input.user_id
        )
        assert user.tokens_valid_after is not None
        return RevokeUserTokensSuccess(
            user=NODES.convert("User", user), revoked_before=DateTime(user.tokens_valid_after)
        )
