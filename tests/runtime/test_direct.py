"""Direct resolvers answer what Strawberry's wrapper answers, and only plain fields get one."""

from __future__ import annotations

import json
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.permission import BasePermission

from gateway.graphql.runtime.direct_resolvers import install_direct_resolvers
from gateway.graphql.schema import build_schema


class Nobody(BasePermission):
    message = "Nobody may read this."

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.input
class Shape:
    sides: int


@strawberry.type
class Oops:
    reason: str


@strawberry.type
class Fine:
    value: str


class OopsHandler:
    exception_type = LookupError
    error_type = Oops

    def handle(self, exc: Exception, *, field: Any, info: strawberry.Info) -> Oops:
        return Oops(reason=str(exc))


@strawberry.type
class Greeter:
    name: str

    @strawberry.field
    def greet(self, info: strawberry.Info, first_name: str, times: int | None = None) -> str:
        return f"{info.field_name}:{first_name} from {self.name}" * (times or 1)

    @strawberry.field
    async def later(self, loud: bool = False) -> str:
        return self.name.upper() if loud else self.name

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError("no greeting today")

    @strawberry.field
    @staticmethod
    def parent(root: strawberry.Parent[Greeter], scale: float) -> str:
        return f"{root.name} x{scale}"

    @strawberry.field
    def shape(self, shape: Shape) -> int:
        return shape.sides

    @strawberry.field
    def sized(self, shape: Shape | None = None, times: int = 1) -> int:
        return (shape.sides if shape is not None else -1) * times

    @strawberry.field
    def risky(self, fail: bool) -> Fine | Oops:
        if fail:
            raise LookupError("handled")
        return Fine(value="ok")

    @strawberry.field(permission_classes=[Nobody])  # type: ignore[untyped-decorator]
    def secret(self) -> str:
        return "leaked"


@strawberry.type
class Query:
    @strawberry.field
    def greeter(self) -> Greeter:
        return Greeter(name="gateway")


DOCUMENT = """{
  greeter {
    greet(firstName: "Ada", times: 2) once: greet(firstName: "Bob")
    later loud: later(loud: true) parent(scale: 1.5) shape(shape: { sides: 3 })
    sized unsized: sized(shape: null, times: 2) fours: sized(shape: { sides: 4 }, times: 2)
    failing
    risky(fail: true) { __typename ... on Oops { reason } }
    fine: risky(fail: false) { __typename ... on Fine { value } }
  }
}"""


async def _answer(schema: strawberry.Schema, document: str) -> str:
    result = await schema.execute(document)
    errors = [{"message": e.message, "path": e.path} for e in result.errors or ()]
    return json.dumps({"data": result.data, "errors": errors})


async def test_direct_resolvers_answer_what_strawberrys_wrapper_answers() -> None:
    wrapped = strawberry.Schema(Query, exception_handlers=[OopsHandler()])
    direct = strawberry.Schema(Query, exception_handlers=[OopsHandler()])
    installed = install_direct_resolvers(direct)

    assert set(installed) == {
        "Query.greeter",
        "Greeter.greet",
        "Greeter.later",
        "Greeter.failing",
        "Greeter.parent",
        "Greeter.sized",  # direct while `shape` is null; Strawberry's wrapper converts a value
    }
    expected = await _answer(wrapped, DOCUMENT)
    assert '"unsized": -2' in expected
    assert '"fours": 8' in expected
    assert "no greeting today" in expected
    assert '"reason": "handled"' in expected
    assert await _answer(direct, DOCUMENT) == expected
    secret = "{ greeter { secret } }"
    assert "Nobody may read this." in await _answer(direct, secret)
    assert await _answer(direct, secret) == await _answer(wrapped, secret)


def test_the_gateways_relationship_edges_are_direct_and_its_mutations_are_not() -> None:
    types = build_schema()._schema.type_map
    installed = {
        f"{name}.{field_name}"
        for name, type_ in types.items()
        if isinstance(type_, GraphQLObjectType)
        for field_name, field in type_.fields.items()
        if getattr(field.resolve, "__name__", "").startswith("direct_")
    }

    assert {"User.holder", "User.persons", "User.accounts", "Account.user"} <= installed
    # optional filters and orders: direct while null
    assert {"Account.entries", "Platform.users", "Platform.transfers"} <= installed
    # a required input object to convert, or exception handlers mapping rejections to union
    # members
    assert not {"Mutation.createTransfer", "Mutation.createUser"} & installed
