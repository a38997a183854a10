"""Whole operations answered without the executor: the map's hot reads, as PostGraphile does.

Why: a mini-app's map asks two things all day — the nearby list and the grid under a tap —
and for those graphql-core's execution was most of the server's CPU: building an execution
context, resolving and completing every field through strawberry's wrappers, a union's type,
a connection's objects. When an operation consists only of such root fields, with
selections this module knows how to write, its answer is fixed by the document and the
database's rows, so it is planned once, when the document is prepared
(``api.web.http.DocumentCache``), and each request runs the plan: the variables coerced by
graphql-core (``get_variable_values``), each root field's arguments by graphql-core
(``get_argument_values``) and strawberry (``convert_arguments``), the same domain call the
resolver makes, and the answer written straight from its rows.

What is planned (anything else takes the executor, which answers it as before):

* ``nearbyMerchants`` / ``nearbyServicePoints`` whose connection selects ``edges`` that
  PostgreSQL can write whole (``api.fast.json_nodes``), ``pageInfo`` and ``__typename``;
* ``gridAt`` selecting ``__typename``, ``distanceToBoundaryM``, ``nearBoundary`` and
  ``grid { code name level __typename parent { the same } }``;
* in a query without directives, variables' definitions aside; ``__typename`` at the root.

A plan answers only the ordinary outcome. Whenever the outcome is anything else — an
argument the domain refuses, a point no grid covers, a parent the lookup did not bring, any
exception — it steps aside and the request runs through the executor from the start, which
answers exactly as it always has (typed errors, masking). Reads have no side effects, so
running them twice changes nothing but time, on the rare path. ``JSON_NODES=0`` switches
this and the written JSON off together. tests/api/test_json_nodes.py and
tests/api/test_compiled_operations.py hold both ways to the same bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    get_argument_values,
    get_variable_values,
)
from orjson import Fragment
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

from api.fast.json_nodes import (
    MERCHANTS,
    SERVICE_POINTS,
    Collector,
    EdgesTemplate,
    NearbyList,
    cached_plain_fields,
    template_below,
)
from api.fast.shapes import has_directives
from api.schema.common import PointInput
from api.schema.context import Context
from api.schema.grids.resolvers import boundary_threshold
from api.schema.places.connections import nearby_page_info
from api.schema.places.queries import merchant_search, service_point_search
from geo.coords import CoordSystem
from geo.grids.queries import GridName, MicroHit, micro_with_parent
from geo.grids.validation import GridLevel
from geo.merchants import queries as merchants
from geo.places.queries import Nearby, Page
from geo.places.queries import Written as Row
from geo.service_points import queries as service_points

#: The edges PostgreSQL wrote, as one JSON array.
Edges = Fragment


class StepAside(Exception):
    """Raised by a root plan when the executor must answer the operation instead."""


#: The value of one root field for one request: the arguments graphql-core coerced.
RootRun = Callable[[Context, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Root:
    key: str  # the response key
    node: FieldNode
    definition: GraphQLField | None  # None for __typename
    run: RootRun


@dataclass(frozen=True, slots=True)
class Plan:
    """An operation answered without the executor (see the module docstring)."""

    operation: OperationDefinitionNode
    roots: tuple[Root, ...]
    compiler: Compiler = field(repr=False)

    async def answer(self, context: Context, variables: dict[str, Any] | None) -> bytes | None:
        """The response body, or None: the executor must answer."""
        schema = self.compiler.graphql
        definitions = self.operation.variable_definitions or ()
        try:
            coerced = get_variable_values(schema, definitions, variables or {})
        except Exception:  # the executor reports what it is
            return None
        if isinstance(coerced, list):  # errors: the executor reports them
            return None
        data: dict[str, Any] = {}
        for root in self.roots:
            try:
                arguments = (
                    get_argument_values(root.definition, root.node, coerced)
                    if root.definition is not None
                    else {}
                )
                data[root.key] = await root.run(context, arguments)
            except Exception:  # StepAside, or anything: the executor answers as it always has
                return None
        return orjson.dumps({"data": data})


class Compiler:
    """Plans operations for one schema."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.schema = schema
        self.graphql = schema._schema
        self._query = self.graphql.query_type
        self._roots: dict[str, Callable[..., RootRun | None]] = {
            "gridAt": self._grid_at,
            "nearbyMerchants": self._nearby(MERCHANTS, merchant_search, merchants.nearby_merchants),
            "nearbyServicePoints": self._nearby(
                SERVICE_POINTS, service_point_search, service_points.nearby_service_points
            ),
        }

    def plan(
        self, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
    ) -> Plan | None:
        """The operation's plan, or None when the executor must answer it."""
        if operation.operation != OperationType.QUERY or self._query is None:
            return None
        if has_directives(operation, fragments):
            return None
        selection = Selection(self, fragments)
        roots: list[Root] = []
        for key, nodes in selection.fields([operation], self._query.name).items():
            name = nodes[0].name.value
            if name == "__typename":  # no definition: its run takes no arguments
                roots.append(Root(key, nodes[0], None, _typename(self._query.name)))
                continue
            make = self._roots.get(name)
            if make is None or len(nodes) > 1:
                return None
            run = make(selection, nodes[0])
            if run is None:
                return None
            roots.append(Root(key, nodes[0], self._query.fields[name], run))
        return Plan(operation, tuple(roots), self)

    # --- root fields ------------------------------------------------------------------

    def _arguments(self, name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The resolver's keyword arguments from graphql-core's coerced ones, as strawberry
        converts them."""
        definition = self._query.fields[name].extensions[GraphQLCoreConverter.DEFINITION_BACKREF]  # type: ignore[union-attr]
        registry = self.schema.schema_converter.scalar_registry
        config = self.schema.config
        return lambda values: convert_arguments(values, definition.arguments, registry, config)

    def _nearby(
        self,
        nearby: NearbyList,
        arguments_of: Callable[..., tuple[Any, dict[str, Any]]],
        search: Callable[..., Awaitable[Page[Nearby[Row]]]],
    ) -> Any:
        def compile_nearby(selection: Selection, node: FieldNode) -> RootRun | None:
            connection = selection.fields([node], nearby.connection)
            writers: dict[str, Callable[[Page[Nearby[Row]], Edges], Any]] = {}
            for key, nodes in connection.items():
                name = nodes[0].name.value
                if any(n.arguments for n in nodes):
                    return None
                if name == "__typename":
                    writers[key] = lambda page, edges, t=nearby.connection: t  # type: ignore[misc]
                elif name == "edges":
                    writers[key] = lambda page, edges: edges
                elif name == "pageInfo":
                    page_info = selection.leaves(nodes, "PageInfo", PAGE_INFO)
                    if page_info is None:
                        return None
                    writers[key] = _page_info(page_info)
                else:
                    return None
            arguments = self._arguments(node.name.value)
            templates: dict[CoordSystem, EdgesTemplate | None] = {}

            def template(system: CoordSystem) -> EdgesTemplate | None:
                if system not in templates:
                    templates[system] = template_below(
                        self.schema, selection.fragments, [node], system, nearby
                    )
                return templates[system]

            async def run(context: Context, values: dict[str, Any]) -> Any:
                kwargs = arguments(values)
                written = template(CoordSystem(kwargs.pop("output", CoordSystem.WGS84)))
                if written is None:
                    raise StepAside
                point, search_arguments = arguments_of(**kwargs)
                async with context.connect() as connection:
                    page = await search(
                        connection, point, template=written.template, **search_arguments
                    )
                edges = Fragment(f"[{','.join(written.text(n.item) for n in page.items)}]")
                return {key: write(page, edges) for key, write in writers.items()}

            return run

        return compile_nearby

    def _grid_at(self, selection: Selection, node: FieldNode) -> RootRun | None:
        match = selection.fields([node], "GridMatch")
        writers: dict[str, Callable[[MicroHit, float], Any]] = {}
        for key, nodes in match.items():
            name = nodes[0].name.value
            if any(n.arguments for n in nodes):
                return None
            if name == "__typename":
                writers[key] = lambda hit, near_m: "GridMatch"
            elif name == "distanceToBoundaryM":
                writers[key] = lambda hit, near_m: hit.distance_to_edge_m
            elif name == "nearBoundary":
                # route_point lists neighbours only nearer than near_m to the edge, so
                # gridAt's "neighbours, or nearer than near_m" is this:
                writers[key] = lambda hit, near_m: hit.distance_to_edge_m < near_m
            elif name == "grid":
                grid_writer = self._grid(selection, nodes, depth=0)
                if grid_writer is None:
                    return None
                writers[key] = lambda hit, near_m, w=grid_writer: w(hit.grid, hit.parent)  # type: ignore[misc]
            else:
                return None
        arguments = self._arguments("gridAt")

        async def run(context: Context, values: dict[str, Any]) -> Any:
            point: PointInput = arguments(values)["point"]
            wgs, near_m = point.to_wgs84(), boundary_threshold(context, point)
            async with context.connect() as connection:
                hit = await micro_with_parent(connection, wgs)
            if hit is None:  # a gap or outside: route_point's fallbacks, in the executor
                raise StepAside
            return {key: write(hit, near_m) for key, write in writers.items()}

        return run

    def _grid(
        self, selection: Selection, nodes: list[FieldNode], depth: int
    ) -> Callable[[GridName, GridName | None], Any] | None:
        """A writer of a Grid's selection below ``nodes`` (its parent one level deep)."""
        fields = selection.fields(nodes, "Grid") if nodes else {}
        level = self.graphql.type_map["GridLevel"]
        assert isinstance(level, GraphQLLeafType)
        writers: list[tuple[str, Callable[[GridName, GridName | None], Any]]] = []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if any(n.arguments for n in field_nodes):
                return None
            if name == "__typename":
                writers.append((key, lambda row, parent: "Grid"))
            elif name == "code":
                writers.append((key, lambda row, parent: row.code))
            elif name == "name":
                writers.append((key, lambda row, parent: row.name))
            elif name == "level":
                writers.append((key, lambda row, parent: level.serialize(GridLevel(row.level))))
            elif name == "parent" and depth == 0:
                inner = self._grid(selection, field_nodes, depth + 1)
                if inner is None:
                    return None
                writers.append((key, _parent_of(inner)))
            else:
                return None

        def write(row: GridName, parent: GridName | None) -> Any:
            return {key: how(row, parent) for key, how in writers}

        return write


class Selection:
    """Fields selected below field nodes, collected as graphql-core collects them for a
    document without directives (api.fast.json_nodes's collector)."""

    def __init__(self, compiler: Compiler, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self._collector = Collector(
            compiler.graphql, fragments, cached_plain_fields(compiler.schema), CoordSystem.WGS84
        )

    def fields(self, nodes: list[Any], type_name: str) -> dict[str, list[FieldNode]]:
        return self._collector.fields(nodes, type_name)

    def leaves(
        self, nodes: list[FieldNode], type_name: str, attributes: dict[str, str]
    ) -> list[tuple[str, str, GraphQLLeafType | None]] | None:
        """(key, attribute, scalar) of a selection of leaf fields (scalar None: __typename),
        or None if it holds anything else."""
        object_type = self.graphql_type(type_name)
        found: list[tuple[str, str, GraphQLLeafType | None]] = []
        for key, field_nodes in self.fields(nodes, type_name).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                found.append((key, type_name, None))
                continue
            if name not in attributes or any(n.arguments for n in field_nodes):
                return None
            leaf = object_type.fields[name].type
            leaf = leaf.of_type if isinstance(leaf, GraphQLNonNull) else leaf
            assert isinstance(leaf, GraphQLLeafType)
            found.append((key, attributes[name], leaf))
        return found

    def graphql_type(self, name: str) -> GraphQLObjectType:
        found = self._collector.schema.type_map[name]
        assert isinstance(found, GraphQLObjectType)
        return found


#: PageInfo's fields and the attributes that hold them.
PAGE_INFO = {"hasNextPage": "has_next_page", "endCursor": "end_cursor"}


def _typename(name: str) -> RootRun:
    async def run(context: Context, values: dict[str, Any]) -> Any:
        return name

    return run


def _page_info(
    leaves: list[tuple[str, str, GraphQLLeafType | None]],
) -> Callable[[Page[Nearby[Row]], Edges], Any]:
    def write(page: Page[Nearby[Row]], edges: Edges) -> Any:
        info = nearby_page_info(page)
        answer: dict[str, Any] = {}
        for key, name, leaf in leaves:
            if leaf is None:
                answer[key] = name
                continue
            item = getattr(info, name)
            answer[key] = None if item is None else leaf.serialize(item)
        return answer

    return write


def _parent_of(write: Callable[[GridName, GridName | None], Any]) -> Callable[..., Any]:
    def parent(row: GridName, parent: GridName | None) -> Any:
        if row.parent_id is None:
            return None
        if parent is None:  # the lookup did not bring it: the executor loads it
            raise StepAside
        return write(parent, None)

    return parent
