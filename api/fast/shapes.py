"""Selections of plain fields compiled once into a tuple, then completed without graphql-core.

A page of nearby merchants completes 20 edges of the same selection (``distanceM
walkingMinutes node { id name phone category { code zh } location { ... } }``): some 300
field executions through the executor, each a dictionary lookup, a Path and a coercion
call. When every field of a selection is a plain read (``execution.PlainField``: an
attribute, no arguments, no resolver) the selection's answer is fixed by the document
alone, so it is compiled once per document into a :data:`Shape` and each object is
completed by one loop over it.

The compiled form is only used where it cannot differ from graphql-core's answer:
* the document has no directive anywhere (a ``@skip(if: $v)`` would make the selection
  depend on the variables) and the selection no ``@defer``;
* a value that is None where the schema says non-null, a leaf the scalar refuses, or a list
  that is not a list raises :class:`NotPlain`, and the caller completes that object through
  graphql-core's path, which reports the error as it always does (plain reads have no side
  effects, so reading them twice changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from graphql import (
    DocumentNode,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationDefinitionNode,
    Undefined,
)

#: Kinds of compiled fields.
LEAF: Final = 0
OBJECT: Final = 1
LIST: Final = 2
TYPENAME: Final = 3

#: (response name, attribute, kind, coerce / inner shape / type name, nullable) per field.
Shape = tuple[tuple[str, str, int, Any, bool], ...]


class NotPlain(Exception):
    """This object must be completed by graphql-core (see the module docstring)."""


def has_directives(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> bool:
    """True if the operation or a fragment it may use carries any directive."""
    nodes: list[Any] = [operation, *fragments.values()]
    while nodes:
        node = nodes.pop()
        if getattr(node, "directives", None):
            return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            nodes.extend(selection_set.selections)
    return False


def compile_shape(
    object_type: GraphQLObjectType,
    field_details_list: Any,
    collect: Callable[[GraphQLObjectType, Any], Any],
    plain: dict[tuple[str, str], Any],
) -> Shape | None:
    """The selection of ``field_details_list`` on ``object_type`` as a Shape, or None when a
    field is not a plain read. ``collect`` is the executor's collect_subfields."""
    grouped_field_set, new_defer_usages, _ = collect(object_type, field_details_list)
    if new_defer_usages:
        return None
    fields: list[tuple[str, str, int, Any, bool]] = []
    for response_name, sub_fields in grouped_field_set.items():
        node = sub_fields[0].node
        name = node.name.value
        if name == "__typename":
            fields.append((response_name, "", TYPENAME, object_type.name, False))
            continue
        field = plain.get((object_type.name, name))
        if field is None or node.arguments:
            return None
        nullable = not isinstance(field.return_type, GraphQLNonNull)
        if field.leaf is not None:
            coerce = field.leaf.coerce_output_value
            fields.append((response_name, field.attribute, LEAF, coerce, nullable))
            continue
        if field.object_type is not None:
            kind, inner_type = OBJECT, field.object_type
        elif isinstance(field.item_type, GraphQLNonNull):
            kind, inner_type = LIST, field.item_object
        else:
            return None  # a list that may hold None: graphql-core's path
        inner = compile_shape(inner_type, sub_fields, collect, plain)
        if inner is None:
            return None
        fields.append((response_name, field.attribute, kind, inner, nullable))
    return tuple(fields)


def complete(shape: Shape, value: Any) -> dict[str, Any]:
    """The answer for ``value`` (raises NotPlain where graphql-core must decide)."""
    result: dict[str, Any] = {}
    for response_name, attribute, kind, how, nullable in shape:
        if kind == TYPENAME:
            result[response_name] = how
            continue
        found = getattr(value, attribute, None)
        if found is None:
            if not nullable:
                raise NotPlain
            result[response_name] = None
        elif kind == LEAF:
            try:
                coerced = how(found)
            except Exception:
                raise NotPlain from None
            if coerced is None or coerced is Undefined:
                raise NotPlain
            result[response_name] = coerced
        elif kind == OBJECT:
            result[response_name] = complete(how, found)
        elif type(found) in (list, tuple):
            result[response_name] = [complete(how, item) for item in found]
        else:
            raise NotPlain
    return result


class ShapeCache:
    """Shapes by the identity of their field nodes, for documents without directives.

    Parsed documents are cached by their text (``api.web.http``), so the same nodes come back
    request after request; the cache keeps them alive, so an id is never reused while its
    entry stands. Bounded: cleared when full.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._shapes: dict[tuple[str, tuple[int, ...]], tuple[Any, Shape | None]] = {}
        self._static: dict[int, tuple[DocumentNode | OperationDefinitionNode, bool]] = {}

    def static(self, operation: OperationDefinitionNode, fragments: dict[str, Any]) -> bool:
        found = self._static.get(id(operation))
        if found is None:
            if len(self._static) >= self.size:
                self._static.clear()
            found = (operation, not has_directives(operation, fragments))
            self._static[id(operation)] = found
        return found[1]

    def shape(
        self,
        object_type: GraphQLObjectType,
        field_details_list: Any,
        collect: Callable[[GraphQLObjectType, Any], Any],
        plain: dict[tuple[str, str], Any],
    ) -> Shape | None:
        nodes = tuple(d.node for d in field_details_list)
        key = (object_type.name, tuple(map(id, nodes)))
        found = self._shapes.get(key)
        if found is None:
            if len(self._shapes) >= self.size:
                self._shapes.clear()
            found = (nodes, compile_shape(object_type, field_details_list, collect, plain))
            self._shapes[key] = found
        return found[1]
