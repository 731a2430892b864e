"""The compiled executor, in Strawberry's pipeline and on the lean HTTP path.

`CompiledExecutor.data` answers a query with its plan, or says None: graphql-core must (a
mutation, a subscription, variables it refuses, an uncovered field, a run handed back), and
`STATS` counts why. Its plans are kept by (document text, operation name, directive values).

`CompiledReads` is the last schema extension. Its `on_execute` runs after every other
extension's (the limits measured the document, the operation's scope and actor are set), and
when the plan answers, sets the execution context's result: Strawberry then skips graphql-core's
execution, and everything after it (error policy, the cost report, the HTTP answer) is
unchanged. A document answered that way is remembered (`CompiledExecutor.proven`), and the
lean HTTP path (gateway.graphql.runtime.lean) serves its next requests without the pipeline.

A plan that keeps handing its runs back (every run of a document that always raises, say) is
retired after `HANDED_BACK_MAX` more hand-backs than completions, so that a document that
cannot be compiled is not run twice per request for ever.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import DocumentNode, GraphQLSchema
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from gateway.domain.lru import Lru
from gateway.graphql.compiled import COMPILED, GENERAL, STATS
from gateway.graphql.compiled.plan import Plan, Planner, Unsupported, directive_variables
from gateway.graphql.compiled.run import HandBack, Run
from gateway.graphql.runtime import metrics

logger = logging.getLogger("gateway.graphql.compiled")
PLANS_CACHED_MAX = 256
HANDED_BACK_MAX = 8
PlanKey = tuple[str, str | None, tuple[str, ...]]


def mark(context: Any, execution: str) -> None:
    """Tell the HTTP view which executor answered (the X-MPS-Execution header)."""
    state = getattr(getattr(context, "request", None), "state", None)
    if state is not None:
        state.execution = execution


class CompiledExecutor:
    """The plans of one schema and how to run them."""

    def __init__(self, size_max: int = PLANS_CACHED_MAX) -> None:
        self.plans: Lru[PlanKey, Plan | str] = Lru(size_max)
        self.directive_variables: Lru[str, tuple[str, ...]] = Lru(size_max)
        # queries the pipeline let through and a plan answered: (text, operation name asked)
        self.proven: Lru[tuple[str, str | None], tuple[DocumentNode, str | None]] = Lru(size_max)

    async def data(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any = None,
    ) -> dict[str, Any] | None:
        """The `data` of the query, or None when graphql-core must answer it."""
        executor = Executor.build(
            schema,
            document,
            root_value=root_value,
            context_value=context,
            raw_variable_values=variables,
            operation_name=operation_name,
        )
        if isinstance(executor, list):  # variables refused: graphql-core says how
            return None
        plan = self._plan(query, document, operation_name, executor)
        if isinstance(plan, str):
            self._fell_back(plan, query)
            return None
        try:
            data = await Run(plan.planner, executor).data(plan.root, root_value)
        except HandBack as reason:
            plan.handed_back += 1
            self._fell_back(str(reason), query)
            return None
        plan.runs += 1
        return data

    def _plan(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        executor: Executor[Any],
    ) -> Plan | str:
        names = self.directive_variables.get(query)
        if names is None:
            names = directive_variables(document)
            self.directive_variables.put(query, names)
        coerced = executor.variable_values.coerced
        key: PlanKey = (query, operation_name, tuple(repr(coerced.get(n)) for n in names))
        plan = self.plans.get(key)
        if plan is None:
            planner = Planner(
                executor.schema, executor.operation, executor.fragments, executor.variable_values
            )
            try:
                plan = Plan(planner, planner.root())
            except Unsupported as reason:
                plan = str(reason)
            self.plans.put(key, plan)
        elif not isinstance(plan, str) and plan.handed_back > plan.runs + HANDED_BACK_MAX:
            plan = f"retired after {plan.handed_back} hand-backs"
            self.plans.put(key, plan)
        return plan

    @staticmethod
    def _fell_back(reason: str, query: str) -> None:
        STATS.fell_back(reason)
        metrics.fell_back(reason)
        logger.debug("compiled plan fell back: %s (document of %d characters)", reason, len(query))


class CompiledReads(SchemaExtension):
    def __init__(self, *, executor: CompiledExecutor) -> None:
        super().__init__()
        self.executor = executor

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        data = await self._data(context)
        if data is not None:
            context.result = GraphQLExecutionResult(data=data, errors=None)
            STATS.compiled += 1
            mark(context.context, COMPILED)
            asked = context._provided_operation_name  # see runtime.operation_choice
            assert context.query is not None
            assert context.graphql_document is not None
            proven = (context.graphql_document, context.operation_name)
            self.executor.proven.put((context.query, asked), proven)
        else:
            STATS.general += 1
            mark(context.context, GENERAL)
        yield

    async def _data(self, context: Any) -> dict[str, Any] | None:
        query, document = context.query, context.graphql_document
        if not query or document is None or context.result is not None:
            return None
        try:
            if context.operation_type is not OperationType.QUERY:
                return None  # a mutation or a subscription: not a fallback
        except RuntimeError:
            return None
        return await self.executor.data(
            context.schema._schema,
            query,
            document,
            context.operation_name,
            context.variables,
            context.context,
            context.root_value,
        )
