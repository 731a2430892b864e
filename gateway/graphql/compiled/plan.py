"""Plans: what to do for each field of a document, worked out once per document.

A plan mirrors graphql-core's execution of one operation without its per-field machinery: for
each (object type, selection) the fields to answer, in response order, each with how to get
its value (an attribute read in place, `__typename`, or the field's resolver) and how to
complete it (a leaf's serializer, a list, an object's own plan, an abstract type's resolution).
The selections are graphql-core's own (`collect_fields`, `collect_subfields`), so fragments,
aliases, merged fields and `@include`/`@skip` mean exactly what they mean to graphql-core; a
plan therefore depends on the values of the variables those directives read, and is cached
per value (see `directive_variables`).

What a plan does not cover is refused while it is built (`Unsupported`, with the reason): the
introspection fields, `@defer`/`@stream`, subscriptions and mutations. Object plans of the
types reached through an interface or a union are built the first time a value of the type
shows up.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.language import Visitor
from strawberry.types.field import StrawberryField

ATTRIBUTE, TYPENAME, RESOLVER = 0, 1, 2
LEAF, LIST, OBJECT, ABSTRACT = 0, 1, 2, 3
_BASIC_RESOLVER = "_get_basic_result"  # Strawberry's resolver of a field without one
_DIRECTIVES = ("include", "skip")
_INCREMENTAL = ("defer", "stream")


class Unsupported(Exception):
    """The document needs the general executor; the message says why."""


@dataclass(slots=True)
class Completion:
    """How a field's value becomes JSON: the shape of its GraphQL type, outside in."""

    kind: int
    non_null: bool
    serialize: Callable[[Any], Any] | None = None  # LEAF
    item: Completion | None = None  # LIST
    type: GraphQLObjectType | GraphQLAbstractType | None = None  # OBJECT, ABSTRACT
    details: FieldDetailsList | None = None  # OBJECT, ABSTRACT: the field's selections
    plans: dict[str, ObjectPlan] = field(default_factory=dict)  # by runtime type name
    accepted: set[builtins.type] = field(
        default_factory=set
    )  # OBJECT: classes that are of the type
    resolved: dict[builtins.type, GraphQLObjectType] = field(
        default_factory=dict
    )  # ABSTRACT: by class


@dataclass(slots=True)
class Step:
    """One response key of an object: how to get its value and how to complete it."""

    key: str
    kind: int
    parent: GraphQLObjectType
    field: GraphQLField | None
    details: FieldDetailsList
    attribute: str = ""  # ATTRIBUTE
    resolve: Callable[..., Any] | None = None  # RESOLVER
    has_arguments: bool = False
    completion: Completion | None = None
    # an ATTRIBUTE of a leaf type, read and serialized in place by the run
    leaf: Callable[[Any], Any] | None = None
    non_null: bool = False

    def __post_init__(self) -> None:
        completion = self.completion
        if self.kind == ATTRIBUTE and completion is not None and completion.kind == LEAF:
            self.leaf = completion.serialize
            self.non_null = completion.non_null


@dataclass(slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    steps: list[Step]


@dataclass(slots=True)
class Plan:
    """The plan of one operation of one document (for one set of directive values)."""

    planner: Planner
    root: ObjectPlan
    runs: int = 0
    handed_back: int = 0


def attribute_of(graphql_field: GraphQLField) -> str | None:
    """The attribute a field reads when Strawberry resolves it with `getattr` (no resolver, no
    argument, no field extension), else None."""
    definition = (graphql_field.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if graphql_field.args or getattr(graphql_field.resolve, "__name__", "") != _BASIC_RESOLVER:
        return None
    if definition.default_resolver is not getattr:
        return None
    return definition.python_name


def completion_of(type_: GraphQLOutputType, details: FieldDetailsList) -> Completion:
    non_null = is_non_null_type(type_)
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if is_leaf_type(type_):
        return Completion(LEAF, non_null, serialize=type_.serialize)
    if is_list_type(type_):
        assert isinstance(type_, GraphQLList)
        return Completion(LIST, non_null, item=completion_of(type_.of_type, details))
    if is_object_type(type_):
        assert isinstance(type_, GraphQLObjectType)
        return Completion(OBJECT, non_null, type=type_, details=details)
    if is_abstract_type(type_):
        return Completion(ABSTRACT, non_null, type=type_, details=details)
    raise Unsupported(f"type {type_}")


class Planner:
    """Builds the object plans of one document, for given values of its directive variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDetails],
        variable_values: Any,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variable_values = variable_values

    def root(self) -> ObjectPlan:
        if self.operation.operation is not OperationType.QUERY:
            raise Unsupported(self.operation.operation.value)
        root_type = self.schema.query_type
        assert root_type is not None
        collected = collect_fields(
            self.schema, self.fragments, self.variable_values, root_type, self.operation
        )
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        return self._object(root_type, collected.grouped_field_set)

    def subplan(self, runtime_type: GraphQLObjectType, details: FieldDetailsList) -> ObjectPlan:
        collected = collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            runtime_type,
            details,
        )
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        return self._object(runtime_type, collected.grouped_field_set)

    def _object(
        self, parent: GraphQLObjectType, grouped: dict[str, FieldDetailsList]
    ) -> ObjectPlan:
        return ObjectPlan(parent, [self._step(parent, key, d) for key, d in grouped.items()])

    def _step(self, parent: GraphQLObjectType, key: str, details: FieldDetailsList) -> Step:
        node = details[0].node
        name = node.name.value
        if any(d.node.directives and _incremental(d.node.directives) for d in details):
            raise Unsupported("@stream")
        if name == "__typename":
            return Step(key, TYPENAME, parent, None, details)
        if name.startswith("__"):
            raise Unsupported(f"introspection field {name}")
        graphql_field = parent.fields.get(name)
        if graphql_field is None:
            raise Unsupported(f"unknown field {parent.name}.{name}")
        completion = completion_of(graphql_field.type, details)
        attribute = attribute_of(graphql_field)
        if attribute is not None and not node.arguments:
            return Step(
                key,
                ATTRIBUTE,
                parent,
                graphql_field,
                details,
                attribute=attribute,
                completion=completion,
            )
        if graphql_field.resolve is None:
            raise Unsupported(f"{parent.name}.{name} has no resolver")
        return Step(
            key,
            RESOLVER,
            parent,
            graphql_field,
            details,
            resolve=graphql_field.resolve,
            has_arguments=bool(graphql_field.args or node.arguments),
            completion=completion,
        )


def _incremental(directives: tuple[DirectiveNode, ...]) -> bool:
    return any(directive.name.value in _INCREMENTAL for directive in directives)


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables that `@include`/`@skip` read anywhere in `document`: a plan holds for one
    set of their values."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
            if node.name.value in _DIRECTIVES:
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)

    visit(document, Collect())
    return tuple(sorted(names))
