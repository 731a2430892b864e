"""FastLeafExecution answers exactly what graphql-core's own execution answers: the same data in
the same key order, the same errors at the same paths, the same null propagation."""

from __future__ import annotations

import enum
import json
from typing import cast

import strawberry
from graphql import GraphQLObjectType

from gateway.graphql.runtime.execution import FastLeafExecution, leaf_plan
from gateway.graphql.schema import build_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    label: str | None
    count: int
    colour: Colour
    required: str

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times


def _items() -> list[Item | None]:
    return [
        Item(name="a", label=None, count=1, colour=Colour.RED, required="yes"),
        Item(name="b", label="B", count=2**40, colour=Colour.BLUE, required="yes"),  # not an Int
        Item(name="c", label="C", count=3, colour="GREEN", required="yes"),  # type: ignore[arg-type]
        Item(name="d", label="D", count=4, colour=Colour.RED, required=None),  # type: ignore[arg-type]
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return list(_items())

    @strawberry.field
    def strict_items(self) -> list[Item]:
        return [item for item in _items() if item is not None]

    @strawberry.field
    async def later(self) -> Item:
        item = _items()[0]
        assert item is not None
        return item


DOCUMENT = """{
  items { count b: name __typename name label colour required shout(times: 2) }
  later { required a: name colour }
}"""
STRICT = "{ strictItems { name required } later { name } }"


async def _execute(schema: strawberry.Schema, document: str) -> str:
    result = await schema.execute(document)
    errors = [
        {"message": error.message, "path": error.path, "locations": error.locations}
        for error in result.errors or ()
    ]
    return json.dumps({"data": result.data, "errors": errors}, default=str)


async def test_fast_leaves_answer_what_graphql_core_answers() -> None:
    plain = strawberry.Schema(Query)
    fast = strawberry.Schema(Query, execution_context_class=FastLeafExecution)
    for document in (DOCUMENT, STRICT):
        expected = await _execute(plain, document)
        assert '"errors": []' not in expected  # the documents do meet errors
        assert await _execute(fast, document) == expected


def test_only_plain_leaf_fields_are_read_in_place() -> None:
    types = build_schema()._schema.type_map
    fields = {
        name: cast(GraphQLObjectType, types[type_name]).fields[field]
        for name, (type_name, field) in {
            "email": ("User", "email"),
            "status": ("User", "status"),
            "created": ("Account", "createdAt"),
            "holder": ("User", "holder"),
            "balance": ("Account", "balance"),
            "roles": ("NaturalPerson", "roles"),
            "accounts": ("User", "accounts"),
        }.items()
    }
    read_in_place = {name for name, field in fields.items() if leaf_plan(field) is not None}
    assert read_in_place == {"email", "status", "created"}
