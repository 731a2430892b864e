"""The tenant matrix, read from the schema: which operations exist, how to aim each one at a
victim's objects, and how to tell that nothing of the victim moved or showed.

Everything the matrix covers is enumerated from the executable schema (`build_schema()`):
root fields, the types implementing Node, the Platform's list fields and every mutation's
input, walked down to its leaves. What the schema cannot say is kept in small tables here:

- `ID_ROLES`: which of a party's objects an ID input field names (by field name, or by
  `Input.field` where the name alone says nothing, as for `id`);
- `NODE_ROLES`: which of a party's objects stands for each Node type;
- `EXAMPLES`: valid values for the non-ID leaves whose type alone does not give one (and
  for an input-object field to fill as given rather than walk).

`coverage_gaps(schema)` (plans.py) lists what a new field or type would leave uncovered; the
guard test fails on it, so the matrix grows with the schema instead of silently missing the new
part. The other parts: the mutations built from their input types (plans.py), the parties that
own the objects (parties.py), and how requests are sent and their effects seen (probes.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    EnumValueNode,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    ListValueNode,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from gateway.graphql.access import declared_roles
from gateway.graphql.nodes import NODES
from tests.support.inputs import FR_BIC, FR_IBAN, new_key, unique
from tests.support.kyc import PDF

# ---- what the matrix knows beyond the schema -------------------------------------------

PLATFORM_ONLY_DIRECTIVE = "isPlatformKey"  # what IsPlatformKey prints in the SDL
ROLES_DIRECTIVE = "roles"  # `@roles(allowed: [...])`: the credentials a mutation allows
CREDENTIAL_ROLES = ("BACKEND", "OPERATOR", "READONLY", "USER_TOKEN")
COVERED_QUERY_FIELDS = frozenset({"node", "nodes", "platform", "viewer"})
COVERED_SUBSCRIPTION_FIELDS = frozenset({"events"})

# Which party object an ID input field names: "Input.field" first, then the field name.
ID_ROLES: Mapping[str, str] = {
    "userId": "user",
    "personId": "person",
    "accountId": "account",
    "debitedAccountId": "account",
    "creditedAccountId": "second_account",
    "bankAccountId": "bank_account",
    "mandateId": "mandate",
    "payInId": "pay_in",
    "payOutId": "pay_out",
    "documentId": "document",
    "transferId": "transfer",
    "refundId": "refund",
    "DeleteWebhookEndpointInput.id": "webhook_endpoint",
    "EnableWebhookEndpointInput.id": "webhook_endpoint",
    "ReplayWebhookDeliveryInput.id": "webhook_delivery",
    "endpointId": "webhook_endpoint",
}

# ID input fields that may name another user's object of the same platform: paying another
# user is the point of a transfer (the debited account must still be the caller's own).
MAY_NAME_ANOTHER_USERS_OBJECT = frozenset({"CreateTransferInput.creditedAccountId"})

# The party object that stands for each Node type (the victim owns one of each).
NODE_ROLES: Mapping[str, str] = {
    "Platform": "platform",
    "User": "user",
    "LegalPerson": "holder",
    "NaturalPerson": "representative",
    "Account": "account",
    "LedgerEntry": "ledger_entry",
    "Transfer": "transfer",
    "PayIn": "pay_in",
    "PayOut": "pay_out",
    "TransferReversal": "reversal",
    "Refund": "refund",
    "BankAccount": "bank_account",
    "DirectDebitMandate": "mandate",
    "KycDocument": "document",
    "Event": "event",
    "WebhookEndpoint": "webhook_endpoint",
    "WebhookDelivery": "webhook_delivery",
}


# Mutations answering one result per item of a list (field of the payload): the matrix checks
# each item's result as it checks a payload.
BULK_RESULTS: Mapping[str, str] = {"refundPayIns": "results", "reverseTransfers": "results"}

# Node types that the other user of the victim's platform shares with the victim.
SHARED_WITHIN_A_PLATFORM = frozenset({"Platform"})

# Valid values for leaves, by "Input.field", then field name, then scalar name. Strings not
# listed get a plain text; idempotency keys, e-mails and logins are made unique per request.
EXAMPLES: Mapping[str, Any] = {
    "CreateUserInput.email": lambda: f"{unique('matrix')}@example.com",
    "CreateUserInput.login": lambda: unique("matrix"),
    "UpdateUserInput.email": lambda: f"{unique('matrix')}@example.com",
    "UpdateUserInput.login": lambda: unique("matrix"),
    # The matrix's person is a natural one: the legal person's fields stay unchanged (null).
    "UpdatePersonInput.legalName": None,
    "UpdatePersonInput.category": None,
    "UpdatePersonInput.registrationNumber": None,
    "SubmitDocumentInput.expiresOn": "2099-12-31",
    "idempotencyKey": new_key,
    "ownerName": "Ada Lovelace",
    "iban": FR_IBAN,
    "bic": FR_BIC,
    "url": "https://hooks.example.com/matrix",
    "postalCode": "75002",
    "legalName": "Matrix SAS",
    "category": "company",
    "ownershipPercentage": 30.0,
    "expiresInSeconds": 900,
    "overlapSeconds": 60,
    "ReplayWebhookDeliveriesInput.from": "2000-01-01T00:00:00Z",
    "ReplayWebhookDeliveriesInput.to": "2100-01-01T00:00:00Z",
    "method": "DIRECT_DEBIT",  # the mandate id is filled too: the combination must be valid
    # Reasons are filled too, and go with refusals only.
    "DecideUserValidationInput.outcome": "REFUSED",
    "DecideDocumentInput.outcome": "REFUSED",
    "fee": None,  # an input object left out: the fee (0 < fee < amount) is no id to aim
    "Boolean": False,
    "Int": 1,
    "Float": 1.0,
    "Date": "1985-12-10",
    "CountryCode": "FR",
    "Currency": "EUR",
    "MinorUnits": 100,
    "String": "matrix",
}
UPLOAD = ("document.pdf", PDF, "application/pdf")


# ---- the schema --------------------------------------------------------------------------


def node_type_names(schema: GraphQLSchema) -> list[str]:
    """Every Node type of the node registry (what `node`/`nodes` and the id lookup read) and
    of `schema`, sorted: one missing from NODE_ROLES is a coverage gap, and one the registry
    lacks reads as absent to its own owner, which the node read test refuses."""
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    in_schema = {t.name for t in schema.get_possible_types(node)}
    return sorted(in_schema | set(NODES.object_type_names()))


def root_field_names(root: GraphQLObjectType | None) -> list[str]:
    return sorted(root.fields) if root is not None else []


def required_args(f: GraphQLField) -> list[str]:
    return [name for name, arg in f.args.items() if is_required_argument(arg)]


def platform_list_fields(schema: GraphQLSchema) -> list[str]:
    """The Platform's fields that list objects: connections and lists of Node objects."""
    platform = schema.get_type("Platform")
    assert isinstance(platform, GraphQLObjectType)
    return sorted(name for name, f in platform.fields.items() if listed_node_type(f) is not None)


def listing_arguments(f: GraphQLField) -> str:
    """`orderBy` and a `filter` every row passes (its date range from 2000), for a list field
    that takes them: a filter narrows, it must never widen the caller's scope."""
    filter_type = get_named_type(f.args["filter"].type)
    assert isinstance(filter_type, GraphQLInputObjectType)
    dates = "createdAt" if "createdAt" in filter_type.fields else "occurredAt"
    return f', orderBy: {{direction: DESC}}, filter: {{{dates}: {{from: "2000-01-01T00:00:00Z"}}}}'


def platform_lists_document(
    schema: GraphQLSchema, names: Iterable[str], depth: int, *, listing: bool = False
) -> str:
    """`{ platform { ... } }` reading each named list field, every field `depth` levels deep
    (with `listing`: filtered and ordered, see `listing_arguments`)."""
    platform = schema.get_type("Platform")
    assert isinstance(platform, GraphQLObjectType)
    selector = Selector(schema)
    parts = []
    for name in names:
        f = platform.fields[name]
        extra = listing_arguments(f) if listing and "orderBy" in f.args else ""
        arguments = f"(first: 100{extra})" if "first" in f.args else ""
        parts.append(f"{name}{arguments} {{ {selector.of(get_named_type(f.type), depth)} }}")
    return "{ platform { " + " ".join(parts) + " } }"


def listed_node_type(f: GraphQLField) -> str | None:
    """The Node type a field lists (through a connection's `nodes`, or a plain list)."""
    named = get_named_type(f.type)
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        listed: str = get_named_type(named.fields["nodes"].type).name
        return listed
    inner = f.type.of_type if isinstance(f.type, GraphQLNonNull) else f.type
    if isinstance(inner, GraphQLList) and isinstance(named, GraphQLObjectType):
        return named.name if any(i.name == "Node" for i in named.interfaces) else None
    return None


def is_platform_only(f: GraphQLField) -> bool:
    """Reserved to API keys: `@isPlatformKey`, from Strawberry's permission or the SDL."""
    definition = f.extensions.get("strawberry-definition")
    if definition is not None:
        names = [d.__strawberry_directive__.graphql_name for d in definition.directives]
        return any(name[:1].lower() + name[1:] == PLATFORM_ONLY_DIRECTIVE for name in names)
    return f.ast_node is not None and any(
        d.name.value == PLATFORM_ONLY_DIRECTIVE for d in f.ast_node.directives or ()
    )


def allowed_roles(f: GraphQLField) -> frozenset[str] | None:
    """The credentials `@roles` allows on a field (from Strawberry's permission or the SDL),
    None when the field has no `@roles`."""
    definition = f.extensions.get("strawberry-definition")
    if definition is not None:
        declared = declared_roles(definition)
        return None if declared is None else frozenset(role.value for role in declared)
    directives = (f.ast_node.directives if f.ast_node is not None else None) or ()
    for node in directives:
        if node.name.value == ROLES_DIRECTIVE:
            (argument,) = node.arguments or ()
            assert isinstance(argument.value, ListValueNode)
            return frozenset(
                value.value for value in argument.value.values if isinstance(value, EnumValueNode)
            )
    return None


def is_one_of(t: GraphQLInputObjectType) -> bool:
    definition = t.extensions.get("strawberry-definition")
    if definition is not None:
        return bool(definition.is_one_of)
    return bool(t.is_one_of) or (
        t.ast_node is not None and any(d.name.value == "oneOf" for d in t.ast_node.directives or ())
    )


class Selector:
    """Selection sets that read every field a caller may read, down to a depth."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    def of(self, t: GraphQLNamedType, depth: int) -> str:
        """Every field of `t`, objects `depth` levels down; abstract types through one inline
        fragment per possible type, its fields aliased by type (so they never clash)."""
        if isinstance(t, GraphQLObjectType):
            return " ".join(self._fields(t, depth, alias=None)) or "__typename"
        assert isinstance(t, GraphQLInterfaceType | GraphQLUnionType), t
        parts = ["__typename"]
        for possible in sorted(self.schema.get_possible_types(t), key=lambda p: p.name):
            inner = " ".join(self._fields(possible, depth - 1, alias=possible.name))
            if inner:
                parts.append(f"... on {possible.name} {{ {inner} }}")
        return " ".join(parts)

    def named(self, name: str, depth: int) -> str:
        t = self.schema.get_type(name)
        assert t is not None, name
        return self.of(t, depth)

    def _fields(self, t: GraphQLObjectType, depth: int, alias: str | None) -> list[str]:
        parts = []
        for name, f in sorted(t.fields.items()):
            if required_args(f):
                continue
            named = get_named_type(f.type)
            key = f"{alias}_{name}: {name}" if alias else name
            if is_leaf_type(named):
                parts.append(key)
            elif depth > 0:
                parts.append(f"{key} {{ {self.of(named, depth - 1)} }}")
        return parts
