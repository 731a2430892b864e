"""The node registry, and the `node`/`nodes` queries that read it.

Each noun module registers its Node types where it defines them: the GraphQL type, the store
table its rows live in, and how a row becomes the GraphQL object. That one list is what
`node`/`nodes` read, what the store's id lookup takes its tables from (one UNION over them),
and what the tenant matrix enumerates. Reading one id is the same for every type: the row
through the request's by-id loader of its table, then the type's conversion.

An edge to another noun's type (`Account.user`, `LedgerEntry.operation`, `Event.object`)
builds its object through the registry too, so the module it points at need not be imported:
imports between noun modules go one way (see schema.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry

from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import parse_id
from gateway.graphql.context import Info
from gateway.graphql.loaders import Loaders, now_or_later
from gateway.graphql.relay import Node

NODES_IDS_MAX = 100
PLATFORM = "Platform"


class DataIntegrityError(RuntimeError):
    """A row the model requires is missing: a bug or a damaged database, never the caller."""


@dataclass(frozen=True, slots=True)
class NodeType:
    name: str  # the GraphQL type (or interface) name: what the id lookup answers
    table: Any  # the store table of its rows; None for the caller's own Platform
    convert: Callable[[Any], Any]  # a row to the GraphQL object
    object_types: tuple[type, ...]  # the GraphQL object types its rows become

    def required(self, key: uuid.UUID, row: Any) -> Any:
        if row is None:
            raise DataIntegrityError(f"{self.name} {key} is missing")
        return self.convert(row)


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}
        self.tables: dict[str, Any] = {}  # name -> table, for the store's id lookup

    def register(
        self,
        graphql_type: type,
        *,
        table: Any,
        convert: Callable[[Any], Any] | None = None,
        object_types: tuple[type, ...] = (),
    ) -> None:
        """`graphql_type` is a Node whose rows live in `table` (None: the Platform, which is the
        caller's own, read from the context); `convert` defaults to its `of`, `object_types`
        (an interface's implementations) to the type itself."""
        name = graphql_type.__strawberry_definition__.name  # type: ignore[attr-defined]
        assert name not in self._types, f"{name} is registered twice"
        converter = convert or graphql_type.of  # type: ignore[attr-defined]
        self._types[name] = NodeType(name, table, converter, object_types or (graphql_type,))
        if table is not None:
            self.tables[name] = table

    def object_type_names(self) -> list[str]:
        """Every GraphQL object type implementing Node, sorted."""
        return sorted(
            t.__strawberry_definition__.name  # type: ignore[attr-defined]
            for node_type in self._types.values()
            for t in node_type.object_types
        )

    def converter(self, name: str) -> Callable[[Any], Any]:
        return self._types[name].convert

    def convert(self, name: str, row: Any) -> Any:
        return self._types[name].convert(row)

    async def read(self, loaders: Loaders, name: str, key: uuid.UUID) -> Any | None:
        """The `name` object with this id, None when absent or outside the loaders' scope."""
        node_type = self._types[name]
        row = await loaders.by_id(node_type.table).load(key)
        return None if row is None else node_type.convert(row)

    def edge(self, loaders: Loaders, name: str, key: uuid.UUID) -> Any:
        """The `name` object with this id, which the model requires (DataIntegrityError when
        missing): now when the loader holds its row, else an awaitable of it."""
        node_type = self._types[name]
        loader = loaders.by_id(node_type.table)
        return now_or_later(loader, key, partial(node_type.required, key))


NODES = NodeRegistry()


async def resolve_node(info: Info, id_text: str, *, loaders: Loaders | None = None) -> Node | None:
    """The object with this id in the caller's scope; None for unknown, foreign or malformed ids.

    `loaders` replaces the request's loaders (an event stream reads each object fresh)."""
    key = parse_id(id_text)
    if key is None:
        return None
    if key == info.context.platform.id:
        platform: Node = NODES.convert(PLATFORM, info.context.platform)
        return platform
    chosen = loaders or info.context.loaders
    name = await chosen.node_type(NODES.tables).load(key)
    node: Node | None = None if name is None else await NODES.read(chosen, name, key)
    return node


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="The object with this id; null when absent or outside the caller's scope."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description=f"Up to {NODES_IDS_MAX} objects by id, null where absent.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > NODES_IDS_MAX:
            raise InvalidArgument(f"`ids` may list at most {NODES_IDS_MAX} ids.", argument="ids")
        return [await resolve_node(info, id_text) for id_text in ids]
