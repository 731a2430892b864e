"""graphql-core execution with a short cut for plain leaf fields.

Most fields of a large response are leaves read straight off an object (`email`, `amount`,
`createdAt`): Strawberry resolves them with `getattr`, and graphql-core then builds a resolve
info, a path and a completion for each, several microseconds apiece. `FastLeafExecution` reads
such a field (a scalar or an enum, no arguments, no resolver, no field extension, no
middleware) and serialises it in place. Anything unusual (a null, an exception, a value the
scalar will not serialise) goes through graphql-core's own path again, so errors, null
propagation and their messages are exactly graphql-core's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, Undefined, get_nullable_type, is_leaf_type
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# (attribute name, serialize) of a plain leaf field; None for every other field
LeafPlan = tuple[str, Callable[[Any], Any]] | None
_BASIC_RESOLVER = "_get_basic_result"  # strawberry's resolver of fields without one
_MISSING = object()
_plans: weakref.WeakKeyDictionary[GraphQLObjectType, dict[str, LeafPlan]] = (
    weakref.WeakKeyDictionary()
)


def leaf_plan(field: GraphQLField | None) -> LeafPlan:
    """How to read `field` in place, or None when it needs graphql-core's full path."""
    if field is None or field.args or field.resolve is None:
        return None
    definition = (field.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if getattr(field.resolve, "__name__", None) != _BASIC_RESOLVER:
        return None  # e.g. wrapped for an exception handler
    if definition.default_resolver is not getattr:
        return None
    named = get_nullable_type(field.type)
    if not is_leaf_type(named):
        return None
    return definition.python_name, named.serialize


def _plans_of(parent_type: GraphQLObjectType) -> dict[str, LeafPlan]:
    plans = _plans.get(parent_type)
    if plans is None:
        plans = {name: leaf_plan(field) for name, field in parent_type.fields.items()}
        _plans[parent_type] = plans
    return plans


def _read(plan: LeafPlan, source: Any) -> Any:
    """The serialised value, or _MISSING when graphql-core must complete the field."""
    if plan is None:
        return _MISSING
    attribute, serialize = plan
    value = getattr(source, attribute, None)
    if value is None or isinstance(value, Exception):
        return _MISSING
    try:
        serialized = serialize(value)
    except Exception:  # graphql-core raises it again, located
        return _MISSING
    return _MISSING if serialized is None or serialized is Undefined else serialized


class FastLeafExecution(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core 3.3's `execute_fields`, with plain leaves read in place."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plans = _plans_of(parent_type)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                value = _read(plans.get(field_details_list[0].node.name.value), source_value)
                if value is not _MISSING:
                    results[response_name] = value
                    continue
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(
                    parent_type, source_value, field_details_list, field_path, position_context
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:  # settle what other fields started: they may fail too
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._awaited(results, awaitable_fields)

    @staticmethod
    async def _awaited(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results
