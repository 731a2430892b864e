"""Query limits: a document that would cost too much is refused before any resolver runs.

`QueryLimiter` is a schema extension, so every transport (HTTP, SSE, graphql-transport-ws)
goes through it. Each refusal is a GraphQL error whose `extensions` carry its own `code`, the
`limit` and, where it is known, the `measured` value:

- Before parsing, the `query` string's size in UTF-8 bytes (`QUERY_TOO_LARGE`): an oversized
  document is refused before the lexer reads a character of it.
- While parsing, graphql-core counts tokens, comments included (`TOO_MANY_TOKENS`), and stops a
  document nested too deeply for its recursive descent parser (`QUERY_TOO_DEEP`). These are
  syntax errors: over graphql-transport-ws the protocol closes the socket with 4400, the close
  reason carrying the message.
- Before validation, one walk of the operation measures its depth (`QUERY_TOO_DEEP`), aliases
  (`TOO_MANY_ALIASES`) and cost (`QUERY_TOO_COMPLEX`), and a count of the whole document gives
  its directives (`TOO_MANY_DIRECTIVES`). A refused document is not validated at all, so the
  specified rules never spend time on a bomb. An accepted one is validated with graphql-core's
  `MaxIntrospectionDepthRule` coded `QUERY_TOO_DEEP` too: it bounds the fan-out of
  `fields`/`interfaces`/`possibleTypes`/`inputFields` in introspection.

Measuring (with the operation named by `operationName`, else every operation, the largest
counting):

- depth: fields nested in fields; `{ platform { name } }` is 2. Fragments add no level.
- aliases: fields with an alias.
- cost: every field costs 1. A connection field (its type is a `...Connection`, or it is a list
  taking `first`/`last`) costs 1 plus its selection's cost times its page size: `first` or
  `last` (a literal or a variable's value), else `PAGE_SIZE_DEFAULT`. A field taking `ids`
  (`nodes(ids:)`) multiplies its selection's cost by the number of ids. So
  `users(first: 10) { totalCount nodes { email } }` costs 1 + 10 * (1 + 2) = 31. Requested
  sizes are taken as given (`first: 99999999` is expensive); the resolver refuses sizes beyond
  `PAGE_SIZE_MAX` anyway.
- Fragments, named or inline, count once per use: depth or aliases hidden in a fragment count
  where it is spread. A named fragment is measured once and its measure reused, so the walk is
  linear in the document even when fragments fan out. A spread of a fragment already being
  measured counts nothing: that is a cycle, which `NoFragmentCyclesRule` reports, and the walk
  must end without it. A walk deeper than the interpreter's recursion limit is too deep.

A document's measure depends on its text, the operation named and the values of the variables
used in `first`, `last` and `ids` arguments, and on nothing else: it is remembered under those
(with the document's directive count), so a repeated document is measured once. Refusals are
not remembered; they are measured again each time.

The cost of an accepted operation is added to the response's `extensions`
(`{"cost": {"requested": 31, "limit": 20000}}`), on every response with `report_cost` (the
default), else when the request's own `extensions` ask with `{"cost": true}`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
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
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
    visit,
)
from graphql.validation import MaxIntrospectionDepthRule
from strawberry.extensions import SchemaExtension

from gateway.domain.pagination import PAGE_SIZE_DEFAULT
from gateway.graphql.runtime.documents import Lru

QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The limits of one document; the defaults are Settings' defaults (a test keeps them so)."""

    document_bytes_max: int = 50_000
    tokens_max: int = 5_000
    depth_max: int = 15
    aliases_max: int = 30
    directives_max: int = 50
    cost_max: int = 20_000
    report_cost: bool = True


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


def _page_size(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
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
            cost=1 + self.multiplier(node, definition) * inner.cost,
        )

    def multiplier(self, node: FieldNode, definition: GraphQLField | None) -> int:
        if definition is None:
            return 1
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if "ids" in definition.args:
            ids = self.value(arguments.get("ids"))
            return len(ids) if isinstance(ids, list) else 1
        if _is_connection(definition):
            sizes = [_page_size(self.value(arguments.get(name))) for name in ("first", "last")]
            given = [size for size in sizes if size is not None]
            return max(given) if given else PAGE_SIZE_DEFAULT
        return 1

    def value(self, node: ValueNode | None) -> object:
        return value_from_ast_untyped(node, self.variables) if node is not None else None


def _is_connection(definition: GraphQLField) -> bool:
    named = get_named_type(definition.type)
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        return True
    paged = "first" in definition.args or "last" in definition.args
    return paged and is_list_type(get_nullable_type(definition.type))


def _variables(operation: OperationDefinitionNode, given: object) -> dict[str, Any]:
    """The request's variables over the operation's defaults (bad values: coercion refuses)."""
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    return {**defaults, **given} if isinstance(given, Mapping) else defaults


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
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            operation.name is None or operation.name.value != operation_name
        ):
            continue
        root = schema.get_root_type(operation.operation)
        walk = _Walk(schema, fragments, _variables(operation, variables))
        found = walk.selections(operation.selection_set, root)
        largest = Measure(
            max(largest.depth, found.depth),
            max(largest.aliases, found.aliases),
            max(largest.cost, found.cost),
        )
    return largest


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, _node: DirectiveNode, *_args: object) -> None:
        self.count += 1


def count_directives(document: DocumentNode) -> int:
    """Directives written anywhere in the document (graphql-core's visit is not recursive)."""
    counter = _DirectiveCounter()
    visit(document, counter)
    return counter.count


_SIZE_ARGUMENTS = frozenset({"first", "last", "ids"})


class _SizeVariables(Visitor):
    """The names of the variables used in the `first`, `last` and `ids` arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        if node.name.value not in _SIZE_ARGUMENTS:
            return
        pending: list[Any] = [node.value]
        while pending:  # a list or object value may nest
            value = pending.pop()
            if isinstance(value, VariableNode):
                self.names.add(value.name.value)
            pending.extend(getattr(value, "values", None) or ())
            pending.extend(field.value for field in getattr(value, "fields", None) or ())


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the limits need of a document's text, whatever its variables."""

    directives: int
    size_variables: tuple[str, ...]


def document_facts(document: DocumentNode) -> DocumentFacts:
    sizes = _SizeVariables()
    visit(document, sizes)
    return DocumentFacts(count_directives(document), tuple(sorted(sizes.names)))


class MeasureCache:
    """Measures of accepted documents, per schema (see the module docstring)."""

    def __init__(self) -> None:
        self.facts: Lru[str, DocumentFacts] = Lru()
        self.measures: Lru[tuple[Any, ...], Measure] = Lru()

    def facts_of(self, query: str, document: DocumentNode) -> DocumentFacts:
        facts = self.facts.get(query)
        if facts is None:
            facts = document_facts(document)
            self.facts.put(query, facts)
        return facts


def measure_key(
    query: str, operation_name: str | None, facts: DocumentFacts, variables: object
) -> tuple[Any, ...]:
    given = variables if isinstance(variables, Mapping) else {}
    values = tuple(repr(given[name]) if name in given else None for name in facts.size_variables)
    return (query, operation_name, not isinstance(variables, Mapping), values)


def refusal(code: str, message: str, *, limit: int, measured: int | None = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": code, "limit": limit}
    if measured is not None:
        extensions["measured"] = measured
    return GraphQLError(message, extensions=extensions)


def refusals(limits: QueryLimits, found: Measure, directives: int) -> list[GraphQLError]:
    """The errors of every limit the document exceeds, in the order of the module docstring."""
    checks = (
        (QUERY_TOO_DEEP, "depth", found.depth, limits.depth_max),
        (TOO_MANY_ALIASES, "alias count", found.aliases, limits.aliases_max),
        (TOO_MANY_DIRECTIVES, "directive count", directives, limits.directives_max),
        (QUERY_TOO_COMPLEX, "cost", found.cost, limits.cost_max),
    )
    return [
        refusal(
            code, f"Query {name} {value} exceeds the limit of {limit}.", limit=limit, measured=value
        )
        for code, name, value, limit in checks
        if value > limit
    ]


_UNCODED = MaxIntrospectionDepthRule  # among graphql-core's specified rules since 3.3


class IntrospectionDepthRule(MaxIntrospectionDepthRule):
    """graphql-core's recommended introspection bound, with our code (it replaces the rule)."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {"code": QUERY_TOO_DEEP}
        super().report_error(error)


_PARSE_REFUSALS = (
    (("tokens. Parsing aborted.", "comments. Parsing aborted."), TOO_MANY_TOKENS),
    (("nested too deeply",), QUERY_TOO_DEEP),
)


class QueryLimiter(SchemaExtension):
    """Applies `QueryLimits` to each operation (see the module docstring)."""

    def __init__(self, *, limits: QueryLimits, cache: MeasureCache | None = None) -> None:
        super().__init__()
        self.limits = limits
        self.cache = cache or MeasureCache()
        self.size_bytes = 0
        self.cost: int | None = None

    @classmethod
    def factory(cls, limits: QueryLimits) -> Callable[[], QueryLimiter]:
        return functools.partial(cls, limits=limits, cache=MeasureCache())

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        self.size_bytes = len((context.query or "").encode())
        # Strawberry types only max_tokens; graphql-core's parse also takes max_source_length.
        options = cast("dict[str, object]", context.parse_options)
        options["max_tokens"] = self.limits.tokens_max
        if self.size_bytes > self.limits.document_bytes_max:
            options["max_source_length"] = 0  # the parser refuses it before lexing
        yield
        for error in context.pre_execution_errors or ():
            self._explain(error)

    def _explain(self, error: GraphQLError) -> None:
        """Turn graphql-core's parse refusal into ours, in place (a transport may hold it)."""
        limits = self.limits
        if self.size_bytes > limits.document_bytes_max:
            error.message = (
                f"Query size {self.size_bytes} bytes exceeds the limit of"
                f" {limits.document_bytes_max} bytes."
            )
            error.extensions = {
                "code": QUERY_TOO_LARGE,
                "limit": limits.document_bytes_max,
                "measured": self.size_bytes,
            }
            return
        for fragments, code in _PARSE_REFUSALS:
            if any(fragment in error.message for fragment in fragments):
                if code == TOO_MANY_TOKENS:
                    error.message = f"Query token count exceeds the limit of {limits.tokens_max}."
                    error.extensions = {"code": code, "limit": limits.tokens_max}
                else:
                    error.message = "Query is nested too deeply to parse."
                    error.extensions = {"code": code, "limit": limits.depth_max}
                return

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            errors = self._check(document)
            if errors:
                context.pre_execution_errors = errors  # and the specified rules do not run
            else:
                rules = [rule for rule in context.validation_rules if rule is not _UNCODED]
                context.validation_rules = (*rules, IntrospectionDepthRule)
        yield

    def _check(self, document: DocumentNode) -> list[GraphQLError]:
        context = self.execution_context
        query = context.query or ""
        try:
            facts = self.cache.facts_of(query, document)
            key = measure_key(query, context.operation_name, facts, context.variables)
            found = self.cache.measures.get(key) or measure(
                context.schema._schema,
                document,
                variables=context.variables,
                operation_name=context.operation_name,
            )
        except RecursionError:
            return [
                refusal(
                    QUERY_TOO_DEEP,
                    "Query is nested too deeply to measure.",
                    limit=self.limits.depth_max,
                )
            ]
        errors = refusals(self.limits, found, facts.directives)
        if not errors:
            self.cost = found.cost
            self.cache.measures.put(key, found)
        return errors

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context
        if self.cost is None or context.pre_execution_errors:
            return {}
        asked = (context.operation_extensions or {}).get("cost") is True
        if not (asked or self.limits.report_cost):
            return {}
        return {"cost": {"requested": self.cost, "limit": self.limits.cost_max}}
