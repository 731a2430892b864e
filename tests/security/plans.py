"""The tenant matrix's mutations, built from their input types: one plan per Mutation field
(its document, where its ID arguments sit, which party object each names), and the coverage
guard that lists what a new field or type would leave uncovered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

from gateway.domain.ids import new_id
from tests.security.matrix import (
    COVERED_QUERY_FIELDS,
    COVERED_SUBSCRIPTION_FIELDS,
    EXAMPLES,
    ID_ROLES,
    NODE_ROLES,
    Selector,
    allowed_roles,
    is_one_of,
    is_platform_only,
    node_type_names,
    platform_list_fields,
    required_args,
    root_field_names,
)

# ---- mutations, built from their input types -----------------------------------------------


@dataclass(frozen=True)
class IdSlot:
    """An ID input leaf: where it sits in the variables and which party object it names."""

    path: tuple[str | int, ...]
    owner: str  # the input type holding the field
    name: str  # the field's name

    @property
    def qualified(self) -> str:
        return f"{self.owner}.{self.name}"

    @property
    def role(self) -> str | None:
        return ID_ROLES.get(self.qualified) or ID_ROLES.get(self.name)


@dataclass(frozen=True)
class MutationPlan:
    """How to send one mutation: its document and the ID slots found in its arguments."""

    name: str
    document: str
    slots: tuple[IdSlot, ...]
    platform_only: bool
    roles: frozenset[str]  # the credentials `@roles` allows (empty: the field declares none)
    payload_members: frozenset[str]
    gaps: tuple[str, ...]
    schema_field: GraphQLField = field(compare=False, repr=False)

    @property
    def key_role(self) -> str | None:
        """The role of the API key that calls it in the matrix: BACKEND when it may, else the
        first other key role allowed; None when no API key may."""
        return next((r for r in ("BACKEND", "OPERATOR", "READONLY") if r in self.roles), None)

    def variables(self, ids: Mapping[IdSlot, str]) -> tuple[dict[str, Any], list[str]]:
        """Valid variables with `ids` in their slots (a fresh id in any other), and the
        dotted paths of the Upload variables."""
        return _Filler(self.name, ids).arguments(self.schema_field)


@dataclass
class _Filler:
    """Walks a mutation's arguments and fills every leaf (ids from `ids`, the rest valid)."""

    mutation: str
    ids: Mapping[IdSlot, str]
    slots: list[IdSlot] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def arguments(self, f: GraphQLField) -> tuple[dict[str, Any], list[str]]:
        values = {
            name: self.value(arg.type, (name,), "Mutation." + self.mutation, name)
            for name, arg in f.args.items()
        }
        return values, self.uploads

    def value(self, t: GraphQLInputType, path: tuple[str | int, ...], owner: str, name: str) -> Any:
        if isinstance(t, GraphQLNonNull):
            return self.value(t.of_type, path, owner, name)
        if isinstance(t, GraphQLList):
            return [self.value(t.of_type, (*path, 0), owner, name)]
        if isinstance(t, GraphQLInputObjectType):
            return self.input_object(t, path)
        if isinstance(t, GraphQLEnumType):
            return self.example(owner, name, default=next(iter(t.values)))
        assert isinstance(t, GraphQLScalarType), t
        if t.name == "ID":
            slot = IdSlot(path, owner, name)
            self.slots.append(slot)
            if slot.role is None:
                self.gaps.append(
                    f"Mutation.{self.mutation}: ID field {slot.qualified} names no"
                    " party object (add it to ID_ROLES)"
                )
            return self.ids.get(slot, str(new_id()))
        if t.name == "Upload":
            self.uploads.append(".".join(str(p) for p in ("variables", *path)))
            return None
        found = self.example(owner, name, default=EXAMPLES.get(t.name, _MISSING))
        if found is _MISSING:
            self.gaps.append(
                f"Mutation.{self.mutation}: no example value for scalar {t.name}"
                f" ({owner}.{name}; add it to EXAMPLES)"
            )
        return found

    def input_object(self, t: GraphQLInputObjectType, path: tuple[str | int, ...]) -> Any:
        fields = sorted(t.fields.items())
        if is_one_of(t):
            fields = fields[:1]  # one member only; the first, by name
        return {
            name: self.example(t.name, name, _MISSING)
            if isinstance(get_named_type(f.type), GraphQLInputObjectType)
            and self.example(t.name, name, _MISSING) is not _MISSING
            else self.value(f.type, (*path, name), t.name, name)
            for name, f in fields
        }

    def example(self, owner: str, name: str, default: Any) -> Any:
        for key in (f"{owner}.{name}", name):
            if key in EXAMPLES:
                chosen = EXAMPLES[key]
                return chosen() if callable(chosen) else chosen
        return default


_MISSING = object()


def mutation_plans(schema: GraphQLSchema) -> list[MutationPlan]:
    """One plan per Mutation field, sorted by name."""
    assert schema.mutation_type is not None
    selector = Selector(schema)
    plans = []
    for name, f in sorted(schema.mutation_type.fields.items()):
        filler = _Filler(name, {})
        filler.arguments(f)
        payload = get_named_type(f.type)
        members = payload.types if isinstance(payload, GraphQLUnionType) else ()
        variables = ", ".join(f"${arg}: {spec.type}" for arg, spec in f.args.items())
        arguments = ", ".join(f"{arg}: ${arg}" for arg in f.args)
        selected = "" if is_leaf_type(payload) else f" {{ {selector.of(payload, 2)} }}"
        document = f"mutation Matrix({variables}) {{ {name}({arguments}){selected} }}"
        roles = allowed_roles(f)
        if roles is None:
            filler.gaps.append(f"Mutation.{name}: no @roles (declare who may call it)")
        plans.append(
            MutationPlan(
                name=name,
                document=document,
                slots=tuple(filler.slots),
                platform_only=is_platform_only(f),
                roles=roles or frozenset(),
                payload_members=frozenset(m.name for m in members),
                gaps=tuple(filler.gaps),
                schema_field=f,
            )
        )
    return plans


# ---- coverage -------------------------------------------------------------------------


def coverage_gaps(
    schema: GraphQLSchema, *, victim_roles: Iterable[str], attacker_roles: Iterable[str]
) -> list[str]:
    """What the schema has and the matrix cannot cover; empty when the matrix covers it all."""
    victim, attacker = set(victim_roles), set(attacker_roles)
    gaps = [
        f"Query.{name}: a root field the matrix does not know how to check"
        for name in root_field_names(schema.query_type)
        if name not in COVERED_QUERY_FIELDS
    ]
    gaps += [
        f"Subscription.{name}: a root field the matrix does not know how to check"
        for name in root_field_names(schema.subscription_type)
        if name not in COVERED_SUBSCRIPTION_FIELDS
    ]
    for name in node_type_names(schema):
        role = NODE_ROLES.get(name)
        if role is None:
            gaps.append(f"Node type {name}: no victim object stands for it (add it to NODE_ROLES)")
        elif role not in victim:
            gaps.append(f"Node type {name}: the victim builder makes no {role!r}")
    platform = schema.get_type("Platform")
    assert isinstance(platform, GraphQLObjectType)
    for name in platform_list_fields(schema):
        if required_args(platform.fields[name]):
            gaps.append(f"Platform.{name}: a list field with required arguments")
    for plan in mutation_plans(schema):
        gaps += plan.gaps
        for slot in plan.slots:
            if slot.role is not None and slot.role not in victim:
                gaps.append(f"Mutation.{plan.name}: the victim builder makes no {slot.role!r}")
            if len(plan.slots) > 1 and slot.role is not None and slot.role not in attacker:
                gaps.append(f"Mutation.{plan.name}: the attackers own no {slot.role!r}")
    return gaps
