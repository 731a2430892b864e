"""The Strawberry schema, composed from one module per noun.

Each noun module (platforms, users, persons, kyc, accounts, ledger, payments, refunds, fees,
events, webhooks, tokens, sandbox, decisions) holds its types, inputs, payloads, resolvers and
mutations, and registers its Node types in the node registry (nodes.py). An edge to another
noun's type is a `strawberry.lazy` annotation whose object the registry builds. A noun module
imports another at run time only for a function or an input it uses (platforms -> users ->
persons, kyc; ledger, payments -> accounts; decisions -> users, kyc, payments, sandbox), never
back: imports go one way. The roots below list
each noun's fields; the order of the bases is the order of the root's fields in the SDL.

`production=True` refuses introspection (`__schema`, `__type`; `__typename` stays) as a
validation error and drops "Did you mean ...?" suggestions from every message.
"""

from __future__ import annotations

import functools

import strawberry
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from gateway.graphql.access import check_every_mutation_declares_roles
from gateway.graphql.accounts import AccountMutations, AccountStatusMutations
from gateway.graphql.compiled.extension import CompiledExecutor, CompiledReads
from gateway.graphql.context import OperationScope
from gateway.graphql.decisions import DecisionMutations
from gateway.graphql.events import Subscription
from gateway.graphql.kyc import KycMutations
from gateway.graphql.ledger import TransferMutations
from gateway.graphql.nodes import NodeQueries
from gateway.graphql.payments import PaymentMutations
from gateway.graphql.persons import LegalPerson, NaturalPerson, PersonMutations
from gateway.graphql.platforms import PlatformQueries
from gateway.graphql.refunds import RefundMutations
from gateway.graphql.rejections import EXCEPTION_HANDLERS
from gateway.graphql.runtime.direct_resolvers import install_direct_resolvers
from gateway.graphql.runtime.documents import DocumentCache, DocumentStore
from gateway.graphql.runtime.errors import ErrorPolicy, MaskingSchema, ProductionErrorPolicy
from gateway.graphql.runtime.execution import FastLeafExecution
from gateway.graphql.runtime.limits import QueryLimiter, QueryLimits
from gateway.graphql.runtime.limits.cache import MeasureCache
from gateway.graphql.runtime.operation_choice import OperationChoice
from gateway.graphql.runtime.text_guard import TextGuard
from gateway.graphql.runtime.tracing import OperationTracing, Tracing
from gateway.graphql.sandbox import SandboxMutations
from gateway.graphql.scalars import SCALARS
from gateway.graphql.tokens import TokenMutations
from gateway.graphql.users import UserLifecycleMutations, UserMutations, ViewerQueries
from gateway.graphql.webhooks import WebhookMutations


@strawberry.type
class Query(NodeQueries, PlatformQueries, ViewerQueries):
    pass


@strawberry.type
class Mutation(
    UserMutations,
    PersonMutations,
    AccountMutations,
    KycMutations,
    AccountStatusMutations,
    TransferMutations,
    PaymentMutations,
    RefundMutations,
    WebhookMutations,
    SandboxMutations,
    TokenMutations,
    UserLifecycleMutations,
    DecisionMutations,
):
    pass


def build_schema(
    *,
    production: bool = False,
    limits: QueryLimits | None = None,
    compiled: CompiledExecutor | None = None,
    measures: MeasureCache | None = None,
    tracing: Tracing | None = None,
) -> strawberry.Schema:
    """`limits`: the query limits (gateway.graphql.runtime.limits), safe defaults when None,
    measured into `measures` when given; `compiled`: queries run through its plans
    (gateway.graphql.compiled), none when None; `tracing`: a span per operation
    (gateway.graphql.runtime.tracing), none when None."""
    plans = [functools.partial(CompiledReads, executor=compiled)] if compiled else []
    traces = [functools.partial(OperationTracing, tracing=tracing)] if tracing else []
    policy = [ProductionErrorPolicy, DisableIntrospection] if production else [ErrorPolicy]
    schema = MaskingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[NaturalPerson, LegalPerson],
        extensions=[
            *traces,  # first: its span holds the others' work
            *policy,
            OperationChoice,
            QueryLimiter.factory(limits or QueryLimits(), measures),
            TextGuard,
            OperationScope,
            functools.partial(DocumentCache, store=DocumentStore()),  # after QueryLimiter
            *plans,  # last: runs after every other extension's on_execute
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        execution_context_class=FastLeafExecution,
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=production),
    )
    install_direct_resolvers(schema)
    return schema


check_every_mutation_declares_roles(Mutation)


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
