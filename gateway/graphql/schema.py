"""The Strawberry schema, assembled from the per-domain roots."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from gateway.graphql.errors import ErrorPolicy
from gateway.graphql.mutations import Mutation
from gateway.graphql.query import Query
from gateway.graphql.rejections import EXCEPTION_HANDLERS
from gateway.graphql.scalars import SCALARS
from gateway.graphql.subscriptions import Subscription
from gateway.graphql.types import LegalPerson, NaturalPerson


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[NaturalPerson, LegalPerson],
        extensions=[ErrorPolicy],
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(scalar_map=SCALARS),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
