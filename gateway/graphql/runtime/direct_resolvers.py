"""Resolvers that graphql-core calls straight, without Strawberry's per-call machinery.

For every field with a resolver, Strawberry installs a wrapper that builds its `Info`, converts
the arguments (input objects to dataclasses, GraphQL names to Python names), runs the field
extensions' chain and the exception handlers, and then calls the resolver. A nested read calls
a few hundred such resolvers (`holder`, `persons`, `accounts` for every user), and the wrapper
costs more than most of them.

`install_direct_resolvers` replaces the wrapper, after the schema is built, on the fields that
need none of it: a resolver, no field extension (permissions are extensions), no exception
handler that could apply, and arguments that Strawberry would pass on unchanged (`int`,
`str`, `bool`, `float`, optional or not). The replacement renames the arguments, adds the
Strawberry `Info` when the resolver asks for it, and calls the resolver: the same call as
Strawberry's, minus the work that is a no-op for these fields. Every other field keeps
Strawberry's wrapper.

A field whose other arguments are all optional (an input object such as `filter`, an enum, a
list) is direct too while those arguments are null, which Strawberry would pass on unchanged
as well: `Account.entries` under a list of accounts, without a filter, costs what it did. When
one of them holds a value, the call goes through Strawberry's wrapper, which converts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

_PLAIN_ARGUMENT_TYPES = (int, str, bool, float)
_DEFINITION = "strawberry-definition"


def _plain(argument_type: Any) -> bool:
    if isinstance(argument_type, StrawberryMaybe):
        return False  # wrapped in Some()
    if isinstance(argument_type, StrawberryOptional):
        argument_type = argument_type.of_type
    return argument_type in _PLAIN_ARGUMENT_TYPES


def _optional(argument_type: Any) -> bool:
    """Strawberry passes a null of this type on as None (a Maybe would wrap it)."""
    return isinstance(argument_type, StrawberryOptional) and not isinstance(
        argument_type, StrawberryMaybe
    )


def direct_resolver(
    field: StrawberryField,
    schema: strawberry.Schema,
    wrapped: Callable[..., Any] | None = None,
) -> Callable[..., Any] | None:
    """A graphql-core resolver calling `field`'s resolver straight, or None when the field
    needs Strawberry's wrapper. Given the wrapper (`wrapped`), a field with optional arguments
    to convert is direct while they are null (see the module's docstring)."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.is_subscription:
        return None
    handlers = getattr(schema.schema_converter, "_get_field_exception_handlers", None)
    if handlers is None or handlers(field):
        return None  # unknown Strawberry, or a handler that may apply: keep its wrapper
    convert = schema.config.name_converter.from_argument
    rich = [argument for argument in field.arguments if not _plain(argument.type)]
    if rich and (wrapped is None or not all(_optional(argument.type) for argument in rich)):
        return None
    converted = tuple(convert(argument) for argument in rich)
    names = {convert(argument): argument.python_name for argument in field.arguments}
    takes_self = resolver.self_parameter is not None
    sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    info_class = schema.config.info_class

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        if converted and any(arguments.get(name) is not None for name in converted):
            return wrapped(source, info, **arguments)  # type: ignore[misc]
        kwargs = {names[name]: value for name, value in arguments.items()}
        for name in sources:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return resolver(source, **kwargs) if takes_self else resolver(**kwargs)

    resolve.__name__ = f"direct_{field.python_name}"
    return resolve


def install_direct_resolvers(schema: strawberry.Schema) -> list[str]:
    """Give every eligible field of `schema` its direct resolver; the fields, as
    `Type.field`."""
    installed: list[str] = []
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, graphql_field in type_.fields.items():
            definition = (graphql_field.extensions or {}).get(_DEFINITION)
            if not isinstance(definition, StrawberryField):
                continue
            resolve = direct_resolver(definition, schema, graphql_field.resolve)
            if resolve is not None:
                graphql_field.resolve = resolve
                installed.append(f"{type_.name}.{name}")
    return installed
