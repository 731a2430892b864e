"""Running a plan: level by level, the same resolvers, no per-field machinery.

The run walks the response breadth first. For every object of a level it answers each step of
the object's plan: an attribute is read in place, a resolver is called with the resolve info
and the arguments of its step (built once per run, not once per object), and a value that is
an awaitable waits with every other awaitable of the level, so that the loaders batch exactly
as they do under graphql-core (one statement per level). The objects found make the next level.

A run never decides an error. Anything that graphql-core would report or propagate (a resolver
that raises, a null in a non-null position, a value a scalar refuses, an abstract type that
does not resolve, a list that is not one) hands the whole operation back (`HandBack`), and the
general executor runs it from the start: reads have no effects, so the answer is graphql-core's,
errors, paths and null propagation included. The loaders keep what the run loaded, so the
second run reads less.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, Undefined
from graphql.execution import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.execution.is_awaitable import optimized_is_awaitable as is_awaitable
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from gateway.graphql.compiled.plan import (
    ABSTRACT,
    ATTRIBUTE,
    LEAF,
    LIST,
    OBJECT,
    TYPENAME,
    Completion,
    ObjectPlan,
    Planner,
    Step,
    Unsupported,
)

Work = list[tuple[ObjectPlan, Any, dict[str, Any]]]


class HandBack(Exception):
    """The general executor must answer this operation; the message says why."""


class Run:
    """One execution of a plan, for one request."""

    def __init__(self, planner: Planner, executor: Executor[Any]) -> None:
        self.planner = planner
        self.executor = executor
        self._infos: dict[int, GraphQLResolveInfo[Any]] = {}
        self._arguments: dict[int, dict[str, Any]] = {}

    async def data(self, root: ObjectPlan, root_value: Any) -> dict[str, Any]:
        data: dict[str, Any] = {}
        work: Work = [(root, root_value, data)]
        while work:
            work = await self._level(work)
        return data

    async def _level(self, work: Work) -> Work:
        next_work: Work = []
        waiting: list[tuple[Step, dict[str, Any], Awaitable[Any]]] = []
        step: Step | None = None
        try:
            for plan, source, out in work:
                for step in plan.steps:
                    serialize = step.leaf
                    if serialize is not None:  # the most common step: a plain leaf
                        value = getattr(source, step.attribute)
                        if value is None:
                            if step.non_null:
                                raise HandBack(f"null at {step.parent.name}.{step.key}")
                            out[step.key] = None
                            continue
                        if isinstance(value, Exception):
                            raise HandBack(f"{step.parent.name}.{step.key} is an error")
                        serialized = serialize(value)
                        if serialized is None or serialized is Undefined:
                            raise HandBack(f"{step.parent.name}.{step.key} serialized to null")
                        out[step.key] = serialized
                    elif step.kind == TYPENAME:
                        out[step.key] = plan.type.name
                    elif step.kind == ATTRIBUTE:
                        value = getattr(source, step.attribute)
                        out[step.key] = self._complete(step, step.completion, value, next_work)  # type: ignore[arg-type]
                    else:
                        value = self._resolve(step, source)
                        if is_awaitable(value):
                            out[step.key] = None  # keeps the key's place in the response
                            waiting.append((step, out, value))
                        else:
                            out[step.key] = self._complete(step, step.completion, value, next_work)  # type: ignore[arg-type]
        except HandBack:
            _close(awaitable for _step, _out, awaitable in waiting)
            raise
        except Exception as error:  # an attribute missing, a value a scalar refuses
            _close(awaitable for _step, _out, awaitable in waiting)
            where = f"{step.parent.name}.{step.key}" if step is not None else "a field"
            raise HandBack(f"{where}: {type(error).__name__}") from None
        except BaseException:
            _close(awaitable for _step, _out, awaitable in waiting)
            raise
        if waiting:
            values = await asyncio.gather(
                *(awaitable for _step, _out, awaitable in waiting), return_exceptions=True
            )
            for (step, out, _awaitable), value in zip(waiting, values, strict=True):
                if isinstance(value, BaseException):
                    if isinstance(value, asyncio.CancelledError):
                        raise value
                    raise HandBack(f"{step.parent.name}.{step.key} raised {type(value).__name__}")
                out[step.key] = self._complete(step, step.completion, value, next_work)  # type: ignore[arg-type]
        return next_work

    def _resolve(self, step: Step, source: Any) -> Any:
        key = id(step)
        info = self._infos.get(key)
        if info is None:
            info = self._infos[key] = self._info(step)
        arguments = self._arguments.get(key)
        if arguments is None:
            arguments = self._arguments[key] = self._argument_values(step)
        try:
            return step.resolve(source, info, **arguments)  # type: ignore[misc]
        except Exception as error:
            raise HandBack(f"{step.parent.name}.{step.key} raised {type(error).__name__}") from None

    def _info(self, step: Step) -> GraphQLResolveInfo[Any]:
        nodes = [details.node for details in step.details]
        path = Path(None, step.key, step.parent.name)
        return self.executor.build_resolve_info(step.field, nodes, step.parent, path)  # type: ignore[arg-type]

    def _argument_values(self, step: Step) -> dict[str, Any]:
        if not step.has_arguments:
            return {}
        details = step.details[0]
        try:
            return get_argument_values(
                step.field,  # type: ignore[arg-type]
                details.node,
                self.executor.variable_values,
                details.fragment_variable_values,
                self.executor.hide_suggestions,
            )
        except Exception as error:
            raise HandBack(f"arguments of {step.parent.name}.{step.key}: {error}") from None

    def _complete(self, step: Step, completion: Completion, value: Any, next_work: Work) -> Any:
        if value is None or value is Undefined:
            if completion.non_null:
                raise HandBack(f"null at {step.parent.name}.{step.key}")
            return None
        if isinstance(value, Exception):
            raise HandBack(f"{step.parent.name}.{step.key} is an error")
        kind = completion.kind
        if kind == LEAF:
            try:
                serialized = completion.serialize(value)  # type: ignore[misc]
            except Exception:
                raise HandBack(f"{step.parent.name}.{step.key} does not serialize") from None
            if serialized is None or serialized is Undefined:
                raise HandBack(f"{step.parent.name}.{step.key} serialized to null")
            return serialized
        if kind == LIST:
            if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
                raise HandBack(f"{step.parent.name}.{step.key} is not a list")
            item = completion.item
            assert item is not None
            if item.kind == OBJECT or item.kind == ABSTRACT:
                items: list[Any] = []
                for each in value:
                    if each is None:
                        if item.non_null:
                            raise HandBack(f"null in {step.parent.name}.{step.key}")
                        items.append(None)
                    else:
                        items.append(self._object(step, item, each, next_work))
                return items
            return [self._complete(step, item, each, next_work) for each in value]
        return self._object(step, completion, value, next_work)

    def _object(self, step: Step, completion: Completion, value: Any, next_work: Work) -> Any:
        """An object's response dict, filled at the next level. Whether a value is of an
        object type, and which type an abstract one resolves to, depend on the value's class
        (unless the value was cast to a type, which then decides): asked once per class."""
        cls = type(value)
        cast = getattr(value, TYPE_CAST_ATTRIBUTE, None) is not None
        runtime_type: Any = completion.type
        if completion.kind == ABSTRACT:
            found = None if cast else completion.resolved.get(cls)
            if found is None:
                found = self._runtime_type(step, completion, value)
                if not cast:
                    completion.resolved[cls] = found
            runtime_type = found
        elif runtime_type.is_type_of is not None and (cast or cls not in completion.accepted):
            is_type_of = runtime_type.is_type_of(value, self._info_of(step))
            if is_awaitable(is_type_of):
                _close([is_type_of])
                raise HandBack(f"{runtime_type}.is_type_of awaits")
            if not is_type_of:
                raise HandBack(f"a {cls.__name__} is not a {runtime_type}")
            if not cast:
                completion.accepted.add(cls)
        plan = completion.plans.get(runtime_type.name)
        if plan is None:
            try:
                plan = self.planner.subplan(runtime_type, completion.details)  # type: ignore[arg-type]
            except Unsupported as reason:
                raise HandBack(str(reason)) from None
            completion.plans[runtime_type.name] = plan
        out: dict[str, Any] = {}
        next_work.append((plan, value, out))
        return out

    def _info_of(self, step: Step) -> GraphQLResolveInfo[Any]:
        key = id(step)
        info = self._infos.get(key)
        if info is None:
            info = self._infos[key] = self._info(step)
        return info

    def _runtime_type(self, step: Step, completion: Completion, value: Any) -> GraphQLObjectType:
        abstract = completion.type
        resolve_type = abstract.resolve_type  # type: ignore[union-attr]
        if resolve_type is None:
            raise HandBack(f"{abstract} has no resolve_type")
        name = resolve_type(value, self._info_of(step), abstract)  # type: ignore[arg-type]
        if is_awaitable(name):
            _close([name])
            raise HandBack(f"{abstract}.resolve_type awaits")
        schema = self.executor.schema
        runtime_type = schema.get_type(name) if isinstance(name, str) else None
        if not isinstance(runtime_type, GraphQLObjectType) or not schema.is_sub_type(
            abstract,  # type: ignore[arg-type]
            runtime_type,
        ):
            raise HandBack(f"{abstract} resolved to {name!r}")
        return runtime_type


def _close(awaitables: Iterable[Any]) -> None:
    """Close coroutines that will never be awaited (no 'never awaited' warning)."""
    for awaitable in awaitables:
        if inspect.iscoroutine(awaitable):
            awaitable.close()
