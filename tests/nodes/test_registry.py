"""The node registry: the one list of Node types that the schema, the store's id lookup and
`node`/`nodes` read."""

from __future__ import annotations

import pytest
from graphql import GraphQLInterfaceType

from gateway.graphql.accounts import Account
from gateway.graphql.nodes import NODES, NodeRegistry
from gateway.graphql.persons import LegalPerson, NaturalPerson, Person, person_of
from gateway.graphql.platforms import Platform
from gateway.graphql.schema import build_schema
from gateway.store import tables


def test_the_registry_lists_exactly_the_node_types_of_the_schema() -> None:
    schema = build_schema()._schema
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    in_schema = sorted(t.name for t in schema.get_possible_types(node))
    assert NODES.object_type_names() == in_schema


def test_the_id_lookup_reads_every_registered_table_and_no_platform_table() -> None:
    assert "Platform" not in NODES.tables
    assert tables.Platform not in NODES.tables.values()
    assert NODES.tables["Person"] is tables.Person
    assert len(set(NODES.tables.values())) == len(NODES.tables) == 15


def test_an_interface_registers_its_table_once_under_its_own_name() -> None:
    registry = NodeRegistry()
    registry.register(Platform, table=None)
    registry.register(
        Person, table=tables.Person, convert=person_of, object_types=(NaturalPerson, LegalPerson)
    )
    registry.register(Account, table=tables.Account)
    assert registry.tables == {"Person": tables.Person, "Account": tables.Account}
    assert registry.object_type_names() == ["Account", "LegalPerson", "NaturalPerson", "Platform"]
    assert registry.converter("Person") is person_of
    assert registry.converter("Account") == Account.of


def test_a_node_type_is_registered_once() -> None:
    registry = NodeRegistry()
    registry.register(Account, table=tables.Account)
    with pytest.raises(AssertionError, match="Account is registered twice"):
        registry.register(Account, table=tables.Account)
