"""graphql-core's executor with a fast path for plain fields.

Why: in a list of 20 merchants most of the ~240 fields are values that strawberry resolves
by reading an attribute (`name`, `distanceM`, `node`, `location`, ...). graphql-core gives
each of them the full treatment: a Path, a GraphQLResolveInfo, the resolver wrapper, three
"is it awaitable?" checks and the completion dispatch through the non-null wrapper, about
8 µs a field: two thirds of the server's CPU per request. Here such a field is read
directly: a scalar or enum is coerced at once, an object's selection is executed at once.

A field takes the fast path only when strawberry itself would just read the attribute: a
field of a strawberry type without arguments, resolver, permission or extension (strawberry
marks those resolvers `_is_default`), whose type is a scalar, an enum, or an object type
without an `is_type_of` check (no interfaces). A value that is None, or that the scalar
refuses, goes through graphql-core's own path, so null handling and error messages stay
exactly graphql-core's; an error inside an object's selection is handled as graphql-core's
execute_field would. Everything else (resolvers, lists, unions, introspection) is untouched.
tests/api/test_execution.py holds both executors to the same answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import strawberry
from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import Path, gather_with_cancel
from graphql.pyutils import is_awaitable as core_is_awaitable
from strawberry.schema.schema_converter import GraphQLCoreConverter

from api.fast.shapes import NotPlain, Shape, ShapeCache, complete

#: What a fast path answers when the field must take graphql-core's own path after all.
NOT_PLAIN: Any = object()
#: Types whose values are never awaitable: most values an executor checks are these.
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list, tuple})


def is_awaitable(value: Any) -> bool:
    """graphql-core's test, answered at once for plain values (it tries hasattr on each)."""
    return type(value) not in _PLAIN and core_is_awaitable(value)


@dataclass(frozen=True, slots=True)
class PlainField:
    """A field read from an attribute: a leaf (coerced), an object (its selection run) or a
    list of objects (each one's selection run)."""

    attribute: str
    return_type: GraphQLOutputType
    leaf: GraphQLLeafType | None
    object_type: GraphQLObjectType | None
    #: For a list of objects: the list's item type (maybe non-null) and its object type.
    item_type: GraphQLOutputType | None = None
    item_object: GraphQLObjectType | None = None


PlainFields = dict[tuple[str, str], PlainField]


def plain_fields(schema: strawberry.Schema) -> PlainFields:
    """(type, field) → how to read it, for the fields strawberry resolves by getattr."""
    found: PlainFields = {}
    names = schema.config.name_converter
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        definition = (graphql_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if definition is None:
            continue
        attributes = {names.get_graphql_name(f): f.python_name for f in definition.fields}
        for name, field in graphql_type.fields.items():
            if not getattr(field.resolve, "_is_default", False) or field.args:
                continue
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if name not in attributes:
                continue
            if is_leaf_type(inner):
                found[(graphql_type.name, name)] = PlainField(
                    attributes[name], field.type, inner, None
                )
            elif _plain_object_type(inner):
                found[(graphql_type.name, name)] = PlainField(
                    attributes[name], field.type, None, inner
                )
            elif isinstance(inner, GraphQLList) and _plain_object_type(
                get_nullable_type(inner.of_type)
            ):
                found[(graphql_type.name, name)] = PlainField(
                    attributes[name],
                    field.type,
                    None,
                    None,
                    item_type=inner.of_type,
                    item_object=get_nullable_type(inner.of_type),
                )
    return found


def _plain_object_type(graphql_type: Any) -> bool:
    return isinstance(graphql_type, GraphQLObjectType) and graphql_type.is_type_of is None


class LeanExecutor(IncrementalExecutor):
    """The default executor, reading plain fields directly (see the module docstring)."""

    plain: ClassVar[PlainFields] = {}
    shapes: ClassVar[ShapeCache] = ShapeCache()

    @classmethod
    def for_schema(cls, schema: strawberry.Schema) -> type[LeanExecutor]:
        attributes = {"plain": plain_fields(schema), "shapes": ShapeCache()}
        return type("LeanExecutor", (cls,), attributes)

    def _shape(self, object_type: GraphQLObjectType, field_details_list: Any) -> Shape | None:
        """The compiled selection (api.fast.shapes), or None when it must not or cannot be."""
        if self.middleware_manager is not None:
            return None
        if not self.shapes.static(self.operation, self.fragments):
            return None
        return self.shapes.shape(
            object_type, field_details_list, self.collect_subfields, self.plain
        )

    def execute_fields(  # graphql-core 3.3's execute_fields, with the fast path added
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        plain_fields = self.plain if self.middleware_manager is None else {}
        type_name = parent_type.name
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                plain = plain_fields.get((type_name, node.name.value))
                value = None
                if plain is not None and not node.arguments:
                    value = getattr(source_value, plain.attribute, None)
                if value is not None and plain is not None and plain.leaf is not None:
                    try:
                        coerced = plain.leaf.coerce_output_value(value)
                    except Exception:  # graphql-core's path reports it properly
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        results[response_name] = coerced
                        continue
                field_path = Path(path, response_name, type_name)
                if value is not None and plain is not None and plain.object_type is not None:
                    result = self._plain_object(
                        plain, field_details_list, field_path, value, position_context
                    )
                elif (
                    value is not None
                    and plain is not None
                    and plain.item_object is not None
                    and position_context is None  # no @defer in progress
                    and type(value) in (list, tuple)
                    and not node.directives  # no @stream
                    and None not in value
                ):
                    result = self._plain_list(plain, field_details_list, field_path, value)
                else:
                    result = NOT_PLAIN
                if result is NOT_PLAIN:
                    result = self.execute_field(
                        parent_type, source_value, field_details_list, field_path, position_context
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if self.is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _plain_object(
        self,
        plain: PlainField,
        field_details_list: Any,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """What execute_field does for an object read from an attribute, minus the detours:
        its selection executed, errors located and propagated as graphql-core does."""
        assert plain.object_type is not None
        shape = self._shape(plain.object_type, field_details_list)
        if shape is not None:
            try:
                return complete(shape, value)
            except NotPlain:
                pass
        try:
            completed = self.collect_and_execute_subfields(
                plain.object_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self._await_object(plain, field_details_list, path, completed)

    def _plain_list(
        self, plain: PlainField, field_details_list: Any, path: Path, items: Sequence[Any]
    ) -> Any:
        """What execute_field and complete_iterable_value do for a list of objects read from
        an attribute: the selection is collected once for the list and executed for each
        item; errors are located and propagated per item, then per list, as graphql-core
        does. Returns NOT_PLAIN for a selection with @defer (graphql-core's path then)."""
        assert plain.item_object is not None and plain.item_type is not None
        completed: list[Any] = []
        awaitable: list[int] = []
        try:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                plain.item_object, field_details_list
            )
            if new_defer_usages:
                return NOT_PLAIN
            shape = self._shape(plain.item_object, field_details_list)
            for index, item in enumerate(items):
                if shape is not None:
                    try:
                        completed.append(complete(shape, item))
                        continue
                    except NotPlain:
                        pass
                item_path = path.add_key(index, None)
                try:
                    result = self.execute_fields(
                        plain.item_object, item, item_path, grouped_field_set, None
                    )
                except Exception as raw_error:
                    self.handle_field_error(
                        raw_error, plain.item_type, field_details_list, item_path
                    )
                    result = None
                if self.is_awaitable(result):
                    result = self._await_item(plain, field_details_list, item_path, result)
                    awaitable.append(index)
                completed.append(result)
        except Exception as raw_error:
            if awaitable:
                self.settle_in_background([completed[i] for i in awaitable])
            self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
            return None
        if not awaitable:
            return completed
        return self._await_list(plain, field_details_list, path, completed, awaitable)

    async def _await_item(
        self, plain: PlainField, field_details_list: Any, path: Path, completed: Awaitable[Any]
    ) -> Any:
        assert plain.item_type is not None
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.item_type, field_details_list, path)
            return None

    async def _await_list(
        self,
        plain: PlainField,
        field_details_list: Any,
        path: Path,
        completed: list[Any],
        awaitable: list[int],
    ) -> Any:
        try:
            awaited = await gather_with_cancel(*(completed[i] for i in awaitable))
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
            return None
        for index, value in zip(awaitable, awaited, strict=True):
            completed[index] = value
        return completed

    async def _await_object(
        self, plain: PlainField, field_details_list: Any, path: Path, completed: Awaitable[Any]
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
            return None
