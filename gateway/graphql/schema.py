"""The Strawberry schema, assembled from the per-domain roots.

`production=True` refuses introspection (`__schema`, `__type`; `__typename` stays) as a
validation error and drops "Did you mean ...?" suggestions from every message.
"""

from __future__ import annotations

import functools

import strawberry
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from gateway.graphql.context import OperationScope
from gateway.graphql.mutations import Mutation
from gateway.graphql.query import Query
from gateway.graphql.rejections import EXCEPTION_HANDLERS
from gateway.graphql.runtime.direct_resolvers import install_direct_resolvers
from gateway.graphql.runtime.documents import DocumentCache, DocumentStore
from gateway.graphql.runtime.errors import ErrorPolicy, MaskingSchema, ProductionErrorPolicy
from gateway.graphql.runtime.execution import FastLeafExecution
from gateway.graphql.runtime.limits import QueryLimiter, QueryLimits
from gateway.graphql.runtime.text_guard import TextGuard
from gateway.graphql.scalars import SCALARS
from gateway.graphql.subscriptions import Subscription
from gateway.graphql.types import LegalPerson, NaturalPerson


def build_schema(
    *, production: bool = False, limits: QueryLimits | None = None
) -> strawberry.Schema:
    """`limits`: the query limits (gateway.graphql.runtime.limits), safe defaults when None."""
    policy = [ProductionErrorPolicy, DisableIntrospection] if production else [ErrorPolicy]
    schema = MaskingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[NaturalPerson, LegalPerson],
        extensions=[
            *policy,
            QueryLimiter.factory(limits or QueryLimits()),
            TextGuard,
            OperationScope,
            functools.partial(DocumentCache, store=DocumentStore()),  # after QueryLimiter
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        execution_context_class=FastLeafExecution,
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=production),
    )
    install_direct_resolvers(schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
