"""One walk of an operation measures its depth, aliases and cost together.

Measured with the operation named by `operationName`, else every operation, the largest
counting. Fragments, named or inline, count once per use: depth or aliases hidden in a
fragment count where it is spread. A named fragment is measured once and its measure reused,
so the walk is linear in the document even when fragments fan out. A spread of a fragment
already being measured counts nothing: that is a cycle, which `NoFragmentCyclesRule` reports,
and the walk must end without it. A walk deeper than the interpreter's recursion limit raises
RecursionError: too deep to measure.

What each number means and how it is refused lives with its limit (depth, aliases, cost);
one walk serves the three so that fragments are resolved and memoized once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    get_named_type,
    value_from_ast_untyped,
)

from gateway.graphql.runtime.limits.cost import multiplier


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: Measure) -> Measure:
        """Two selections side by side: the deeper one, the aliases and costs of both."""
        return Measure(
            max(self.depth, other.depth), self.aliases + other.aliases, self.cost + other.cost
        )

    def larger(self, other: Measure) -> Measure:
        """Two operations of which one runs: the larger of each number."""
        return Measure(
            max(self.depth, other.depth),
            max(self.aliases, other.aliases),
            max(self.cost, other.cost),
        )


NOTHING = Measure()
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        fields: dict[str, GraphQLField] = parent.fields
        return fields.get(name)
    return None


class _Walk:
    """Measures the selections of one operation (see the module docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.measured: dict[str, Measure] = {}
        self.measuring: set[str] = set()

    def selections(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        total = NOTHING
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Measure:
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return NOTHING  # unknown or cyclic: validation reports it
        if name not in self.measured:
            self.measuring.add(name)
            condition = self.schema.get_type(definition.type_condition.name.value)
            self.measured[name] = self.selections(definition.selection_set, condition)
            self.measuring.discard(name)
        return self.measured[name]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = _field_definition(parent, node.name.value)
        inner = NOTHING
        if node.selection_set is not None:
            named = get_named_type(definition.type) if definition is not None else None
            inner = self.selections(node.selection_set, named)
        return Measure(
            depth=1 + inner.depth,
            aliases=(1 if node.alias is not None else 0) + inner.aliases,
            cost=1 + multiplier(node, definition, self.variables) * inner.cost,
        )


def _variables(operation: OperationDefinitionNode, given: object) -> dict[str, Any]:
    """The request's variables over the operation's defaults (bad values: coercion refuses)."""
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    return {**defaults, **given} if isinstance(given, Mapping) else defaults


def _operations(
    document: DocumentNode, operation_name: str | None
) -> list[OperationDefinitionNode]:
    """The operations that may run: the one named, else every one."""
    return [
        operation
        for operation in document.definitions
        if isinstance(operation, OperationDefinitionNode)
        and (
            operation_name is None
            or (operation.name is not None and operation.name.value == operation_name)
        )
    ]


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    variables: object = None,
    operation_name: str | None = None,
) -> Measure:
    """The largest measure among the operations that may run; RecursionError when too deep."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    largest = NOTHING
    for operation in _operations(document, operation_name):
        root = schema.get_root_type(operation.operation)
        walk = _Walk(schema, fragments, _variables(operation, variables))
        largest = largest.larger(walk.selections(operation.selection_set, root))
    return largest
