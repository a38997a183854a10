"""A nearby list's edges written as JSON by PostgreSQL, for the plans of api.fast.operations.

Why: a page of 20 nearby merchants spent about a quarter of the server's CPU turning rows
into Python values, values into objects, objects into response dictionaries and those into
JSON. For a selection of plain fields only (``MERCHANT``, ``SERVICE_POINT`` and the edges'
fields below), the answer for each row is fixed by the document alone, so PostgreSQL can
write it (``geo.json_objects``) and the plan passes the text on (``orjson.Fragment``).
Server CPU per nearby request, in process, same minutes: 1.41 ms built in Python, 1.08 ms
written, before whole operations were planned (bench/bench_peer.py has today's figures).

A template is made only when the answer cannot differ from the one built in Python:
* the document has no directive anywhere (``@skip(if: $v)`` would make the selection
  depend on the variables; api.fast.operations checks), so the fields are collected here as
  graphql-core collects them: fragments whose type condition applies, merged by response
  name, in order;
* every field of the edge written is one of those listed below, without arguments (not the
  cursor: Python's float.hex). Coordinates in another system than WGS 84 are left as holes
  (``geo.json_objects.Hole``), which :meth:`EdgesTemplate.text` fills with the converted
  numbers, as the Python path converts them;
* ``edges`` is selected under one response name.
Otherwise :func:`template_below` answers None and the executor answers the operation.
tests/api/test_json_nodes.py holds both paths to the same answers, key order included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
)

from api.fast.execution import PlainFields, plain_fields
from api.schema.places.types import CATEGORY_TYPES, KIND_TYPES
from geo.coords import CoordSystem, LonLat, from_wgs84
from geo.json_objects import HOLE, Constant, Entry, Hole, Lookup, Template, Value, fits, holes
from geo.merchants.models import MerchantStatus
from geo.places.queries import Written as WrittenRow

Fields = dict[str, list[FieldNode]]
#: How a field of the node is written: from its field nodes, the entry (or None: cannot).
Writer = Callable[["Collector", list[FieldNode]], Entry | None]


@dataclass(frozen=True, slots=True)
class EdgesTemplate:
    """What PostgreSQL writes for each edge of a nearby list, and how its text is finished."""

    template: Template
    #: The output system, and the coordinates left as holes for it, in order.
    system: CoordSystem = CoordSystem.WGS84
    holes: tuple[Value, ...] = ()

    def text(self, row: WrittenRow) -> str:
        """The row's JSON, its holes filled with its location in the output system."""
        if not self.holes:
            return row.json
        point = from_wgs84(LonLat(row.longitude, row.latitude), self.system)
        pieces = row.json.split(HOLE)
        filled = [pieces[0]]
        for value, piece in zip(self.holes, pieces[1:], strict=True):
            filled += (_json(point.lon if value is Value.LONGITUDE else point.lat), piece)
        return "".join(filled)


@dataclass(frozen=True, slots=True)
class NearbyList:
    """A nearby list's GraphQL types, and the fields of its nodes PostgreSQL can write."""

    connection: str
    edge: str
    node: str
    node_writers: dict[str, Writer]

    def edge_writers(self) -> dict[str, Writer]:
        """The edge's fields PostgreSQL can write: the nearby ones and the node."""

        def node(collector: Collector, nodes: list[FieldNode]) -> Entry | None:
            return collector.template(nodes, self.node, self.node_writers)

        return {**_NEARBY_EDGE, "node": node}


def template_below(
    schema: strawberry.Schema,
    fragments: dict[str, FragmentDefinitionNode],
    field_nodes: list[FieldNode],
    system: CoordSystem,
    nearby: NearbyList,
) -> EdgesTemplate | None:
    """The template of ``edges { ... }`` below the field ``field_nodes`` of the ``nearby``
    list, or None when PostgreSQL cannot write it; for a document without directives."""
    collector = Collector(schema._schema, fragments, cached_plain_fields(schema), system)
    edges = collector.only(collector.fields(field_nodes, nearby.connection), "edges")
    if not edges:
        return None
    edge_fields = collector.fields(edges, nearby.edge)
    whole = collector.template_of(edge_fields, nearby.edge, nearby.edge_writers())
    if whole is None or not fits(whole):
        return None
    return EdgesTemplate(whole, system=system, holes=holes(whole))


@cache
def cached_plain_fields(schema: strawberry.Schema) -> PlainFields:
    return plain_fields(schema)


class Collector:
    """Collects fields as graphql-core does for a document without directives."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        plain: PlainFields,
        system: CoordSystem,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.plain = plain
        self.system = system  # of the coordinates written

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
        """The template of the selection below ``nodes``, or None if a field cannot be
        written (not in ``writers``, or with arguments)."""
        return self.template_of(self.fields(nodes, type_name), type_name, writers)

    def template_of(
        self, fields: Fields, type_name: str, writers: dict[str, Writer]
    ) -> Template | None:
        entries: list[tuple[str, Entry]] = []
        for key, field_nodes in fields.items():
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


def _coordinate(value: Value) -> Writer:
    """WGS 84 as PostgreSQL has it; another system as a hole that Written.text fills."""
    return lambda collector, nodes: value if collector.system is CoordSystem.WGS84 else Hole(value)


def _static(value: Value, type_name: str, objects: dict[str, Any]) -> Writer:
    """A field whose object is one of a fixed set by code (a category, a kind): a lookup of
    each object's JSON for the selection."""

    def writer(collector: Collector, nodes: list[FieldNode]) -> Entry | None:
        table = []
        for code, obj in objects.items():
            written = collector.completed(nodes, type_name, obj)
            if written is None:
                return None
            table.append((code, written))
        return Lookup(value, tuple(table))

    return writer


def _status(collector: Collector, nodes: list[FieldNode]) -> Entry | None:
    status_type = collector.schema.type_map["MerchantStatus"]
    names = [(s.value, _json(status_type.coerce_output_value(s))) for s in MerchantStatus]  # type: ignore[attr-defined]
    return Lookup(Value.STATUS, tuple(names))


def _location(collector: Collector, nodes: list[FieldNode]) -> Entry | None:
    system_type = collector.schema.type_map["CoordSystem"]
    system = Constant(_json(system_type.coerce_output_value(collector.system)))  # type: ignore[attr-defined]
    point: dict[str, Writer] = {
        "longitude": _coordinate(Value.LONGITUDE),
        "latitude": _coordinate(Value.LATITUDE),
        "system": lambda collector, nodes: system,
    }
    return collector.template(nodes, "Point", point)


#: The fields of a Merchant PostgreSQL can write, and how.
MERCHANT: dict[str, Writer] = {
    "id": _value(Value.ID_TEXT),
    "name": _value(Value.NAME),
    "category": _static(Value.CATEGORY, "MerchantCategory", CATEGORY_TYPES),
    "phone": _value(Value.PHONE),
    "address": _value(Value.ADDRESS),
    "location": _location,
    "status": _status,
    "verified": _value(Value.VERIFIED),
    "outsideCoverage": _value(Value.OUTSIDE_COVERAGE),
    "version": _value(Value.VERSION),
}
#: The fields of a ServicePoint PostgreSQL can write, and how.
SERVICE_POINT: dict[str, Writer] = {
    "id": _value(Value.ID_TEXT),
    "kind": _static(Value.KIND, "ServicePointKind", KIND_TYPES),
    "name": _value(Value.NAME),
    "phone": _value(Value.PHONE),
    "address": _value(Value.ADDRESS),
    "location": _location,
    "outsideCoverage": _value(Value.OUTSIDE_COVERAGE),
    "version": _value(Value.VERSION),
}
#: The fields of a nearby edge PostgreSQL can write but for the node (not the cursor:
#: Python's float.hex), and how.
_NEARBY_EDGE: dict[str, Writer] = {
    "distanceM": _value(Value.DISTANCE),
    "walkingMinutes": _value(Value.WALKING_MINUTES),
}
MERCHANTS = NearbyList("NearbyMerchantConnection", "NearbyMerchantEdge", "Merchant", MERCHANT)
SERVICE_POINTS = NearbyList(
    "NearbyServicePointConnection", "NearbyServicePointEdge", "ServicePoint", SERVICE_POINT
)
