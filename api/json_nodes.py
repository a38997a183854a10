"""The nodes of a nearby list written as JSON by PostgreSQL, when the selection allows it.

Why: a page of 20 nearby merchants spends about a fifth of the server's CPU turning rows
into Python values, Python values into objects, objects into response dictionaries and
those into JSON. For a selection on the node that is only plain fields (``MERCHANT``
below), the answer for each node is fixed by the document alone, so PostgreSQL can write
it (``geo.json_objects``) and the executor passes the text through (``orjson.Fragment``,
``api.execution``). Measured with ``bench/bench_merchants.py``; the closing note of the
merchants issue has the figures.

A template is made only when the answer cannot differ from the one built in Python:
* the request runs through ``api.http``'s executor (``Context.json_nodes``), which knows
  to pass a written node through;
* the document has no directive anywhere (``@skip(if: $v)`` would make the selection
  depend on the variables), so the fields are collected here as graphql-core collects
  them: fragments whose type condition applies, merged by response name, in order;
* every field selected on the node is one of ``MERCHANT``'s, without arguments, and the
  output is WGS 84 (other systems are converted in Python).
Otherwise :func:`merchant_template` answers None and the resolver builds objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import orjson
import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
)

from api.execution import PlainFields, plain_fields
from api.shapes import has_directives
from api.types.merchant import CATEGORY_TYPES
from geo.coords import CoordSystem
from geo.json_objects import Constant, Entry, Lookup, Template, Value, fits
from geo.merchants.models import MerchantStatus

Fields = dict[str, list[FieldNode]]
#: How a field of the node is written: from its field nodes, the entry (or None: cannot).
Writer = Callable[["_Collector", list[FieldNode]], Entry | None]


def merchant_template(info: strawberry.Info[Any, Any], system: CoordSystem) -> Template | None:
    """The template of ``edges { node { ... } }`` below the current field, or None."""
    if system is not CoordSystem.WGS84 or not getattr(info.context, "json_nodes", False):
        return None
    raw: GraphQLResolveInfo = info._raw_info
    key = tuple(map(id, raw.field_nodes))
    found = _TEMPLATES.get(key)
    if found is None:
        if len(_TEMPLATES) >= _CACHE_SIZE:
            _TEMPLATES.clear()
        found = (raw.field_nodes, _merchant_template(raw, info.schema))
        _TEMPLATES[key] = found
    return found[1]


#: Templates by the identity of their field nodes (documents are cached by text in api.http
#: and the entry keeps its nodes alive, so an id is not reused while the entry stands).
_TEMPLATES: dict[tuple[int, ...], tuple[list[FieldNode], Template | None]] = {}
_CACHE_SIZE = 512


def _merchant_template(raw: GraphQLResolveInfo, schema: strawberry.Schema) -> Template | None:
    if has_directives(raw.operation, raw.fragments):
        return None
    collector = _Collector(raw.schema, raw.fragments, _plain(schema))
    connection = collector.fields(raw.field_nodes, "NearbyMerchantConnection")
    edges = collector.only(connection, "edges")
    node = collector.only(collector.fields(edges, "NearbyMerchantEdge"), "node") if edges else None
    if not node:
        return None
    template = collector.template(node, "Merchant", MERCHANT)
    return template if template is not None and fits(template) else None


@cache
def _plain(schema: strawberry.Schema) -> PlainFields:
    return plain_fields(schema)


class _Collector:
    """Collects fields as graphql-core does for a document without directives."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        plain: PlainFields,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.plain = plain

    def fields(self, nodes: Iterable[FieldNode], type_name: str) -> Fields:
        """The fields selected below ``nodes`` on the object type ``type_name``."""
        object_type = self.schema.type_map[type_name]
        assert isinstance(object_type, GraphQLObjectType)
        found: Fields = {}
        for node in nodes:
            if node.selection_set is not None:
                self._visit(node.selection_set, object_type, found)
        return found

    def _visit(
        self, selections: SelectionSetNode, object_type: GraphQLObjectType, found: Fields
    ) -> None:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                found.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment: FragmentDefinitionNode | InlineFragmentNode | None
                fragment = self.fragments.get(selection.name.value)
            else:
                fragment = selection
            if fragment is not None and self._applies(fragment, object_type):
                self._visit(fragment.selection_set, object_type, found)

    def _applies(
        self, fragment: FragmentDefinitionNode | InlineFragmentNode, object_type: GraphQLObjectType
    ) -> bool:
        if fragment.type_condition is None:
            return True
        condition = self.schema.type_map.get(fragment.type_condition.name.value)
        if condition is object_type:
            return True
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, object_type)  # type: ignore[arg-type]

    @staticmethod
    def only(fields: Fields, name: str) -> list[FieldNode] | None:
        """The field nodes of the one response key selecting ``name`` (None: several keys;
        an empty list: none)."""
        keys = [key for key, nodes in fields.items() if nodes[0].name.value == name]
        if len(keys) > 1:
            return None
        return fields[keys[0]] if keys else []

    def template(
        self, nodes: list[FieldNode], type_name: str, writers: dict[str, Writer]
    ) -> Template | None:
        entries: list[tuple[str, Entry]] = []
        for key, field_nodes in self.fields(nodes, type_name).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                entries.append((key, Constant(_json(type_name))))
                continue
            writer = writers.get(name)
            if writer is None or any(node.arguments for node in field_nodes):
                return None
            entry = writer(self, field_nodes)
            if entry is None:
                return None
            entries.append((key, entry))
        return tuple(entries)

    def completed(self, nodes: list[FieldNode], type_name: str, value: Any) -> str | None:
        """The JSON of a static object's selection (plain leaf fields only), or None."""
        answer: dict[str, Any] = {}
        for key, field_nodes in self.fields(nodes, type_name).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                answer[key] = type_name
                continue
            plain = self.plain.get((type_name, name))
            if plain is None or plain.leaf is None or any(n.arguments for n in field_nodes):
                return None
            found = getattr(value, plain.attribute)
            answer[key] = None if found is None else plain.leaf.coerce_output_value(found)
        return orjson.dumps(answer).decode()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _value(value: Value) -> Writer:
    return lambda collector, nodes: value


def _category(collector: _Collector, nodes: list[FieldNode]) -> Entry | None:
    table = []
    for code, category in CATEGORY_TYPES.items():
        written = collector.completed(nodes, "MerchantCategory", category)
        if written is None:
            return None
        table.append((code, written))
    return Lookup(Value.CATEGORY, tuple(table))


def _status(collector: _Collector, nodes: list[FieldNode]) -> Entry | None:
    status_type = collector.schema.type_map["MerchantStatus"]
    names = [(s.value, _json(status_type.coerce_output_value(s))) for s in MerchantStatus]  # type: ignore[attr-defined]
    return Lookup(Value.STATUS, tuple(names))


def _location(collector: _Collector, nodes: list[FieldNode]) -> Entry | None:
    system_type = collector.schema.type_map["CoordSystem"]
    wgs84 = Constant(_json(system_type.coerce_output_value(CoordSystem.WGS84)))  # type: ignore[attr-defined]
    point: dict[str, Writer] = {
        "longitude": _value(Value.LONGITUDE),
        "latitude": _value(Value.LATITUDE),
        "system": lambda collector, nodes: wgs84,
    }
    return collector.template(nodes, "Point", point)


#: The fields of a Merchant PostgreSQL can write, and how.
MERCHANT: dict[str, Writer] = {
    "id": _value(Value.ID_TEXT),
    "name": _value(Value.NAME),
    "category": _category,
    "phone": _value(Value.PHONE),
    "address": _value(Value.ADDRESS),
    "location": _location,
    "status": _status,
    "verified": _value(Value.VERIFIED),
    "outsideCoverage": _value(Value.OUTSIDE_COVERAGE),
    "version": _value(Value.VERSION),
}
