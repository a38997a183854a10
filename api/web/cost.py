"""What an operation may cost: an estimate of the work it asks for, checked before it runs.

The unit is the work of resolving one plain field, about 10 µs of one server process (a
page of 100 grids with three fields, 701 units: 4.0 to 8.6 ms; a `cases` page of 100 with
grid, ancestors, worker and last event, ~2,400 units: 31 ms). The limit (MAX_QUERY_COST,
50,000) is thus about half a second of a process's time.

The depth limit stops deep nesting; it does not stop wide pages of pages
(``grids(first: 100) { merchants(first: 100) { ... grid { merchants(first: 100) ...``), each
level cheap alone and a million rows together, nor many aliases of one costly field. So:

- a field costs its work (below; 1 for a plain field), plus its selection;
- a field with a ``first`` argument is a page: the lists inside it (``edges``, ``nodes``)
  count ``first`` times (the literal, the variable's value, or the argument's default);
- any other list field counts its known bound (:data:`LIST_SIZES`) or :data:`LIST_ESTIMATE`
  times (children, workers);
- introspection (``__schema``, ``__type``) is free: it is bounded by the schema itself.

Work by field, measured (``python -m bench.bench_cost``: the seeded district with its demo
year, one server process, each field alone and as 20 aliases, the difference per alias,
median of 3 runs; two sessions on the 2-core development machine, 2026-12-06, which drifts:
the larger figure rules):

==========================  ===============================  =================================
field                       measured per call                units
==========================  ===============================  =================================
a root field (own session   grid(code): 1.0 to 2.9 ms;       :data:`ROOT_FIELD` 300
or pooled connection)       nearbyMerchants(first: 100) 2 ms
serviceCircle, circle       7 to 8 ms at 15 min; 9 to 13     800, + 35 a minute past 15
                            at 30, 11 to 20 at 45, 11 to
                            24 ms at 60
caseStats (Query, Grid)     11 to 16 ms; grouped 16 to 22    1,700; grouped 2,800
                            (CATEGORY, MONTH), 25 to 28 ms
                            (CHILD_GRID)
Grid.serviceCoverage        8 ms (≤ 2,500 lattice points;    1,000
                            at most 10,000 a request)
gridAt                      0.4 to 0.7 ms at 20 m; 2.1 to    70 + 0.9 a metre of accuracy
                            2.5 at 500 m; 5 to 6 at 1 km;    (the circle its candidates are
                            16 at 2 km; 32 to 35 at 3.5 km;  looked for in)
                            41 to 44 ms at 5 km
==========================  ===============================  =================================

An argument the work depends on (``minutes``, ``groupBy``, ``point.accuracyM``) is read from
the document when it is a literal; from a variable it is taken at its worst (60 minutes,
grouped, 5 km), so that the estimate stays per document and hot operations are not costed
again per request. Before: 165 aliases of serviceCircle (1.0 s in the issue, 0.8 s here)
and 180 of caseStats (4.4 s, 2.2 to 2.6 s here) were estimated at 330 and 360 units and ran;
now they are 132,165 and 306,180 and are refused in about a millisecond.

The estimate is computed once per document when no page size comes from a variable, and per
request otherwise. Above the limit the operation is refused before any resolver runs, with
``extensions.code = QUERY_TOO_COSTLY`` and the estimate. What the model still misses is held
by the wall-clock budget of a request (REQUEST_TIMEOUT_S, api.web.http) and the statement
timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

#: How many items an unpaged list field is assumed to hold.
LIST_ESTIMATE = 10
#: Unpaged lists whose bound is known: (type, field) -> items.
LIST_SIZES = {
    ("WorkingCalendar", "days"): 366,  # workingCalendar answers at most 366 days
    ("ServiceCircle", "categories"): 24,  # every category of geo.merchants.taxonomy
    ("CategoryReach", "nearest"): 3,
    ("KindReach", "nearest"): 3,
}
#: The work of a root field that opens its own session or pooled connection.
ROOT_FIELD = 300
#: Root fields answered from memory (no database): plain fields.
STATIC_ROOT_FIELDS = frozenset(
    {"apiVersion", "caseCategories", "merchantCategories", "servicePointKinds", "viewer"}
)
#: The service circle: its work at 15 minutes, and per minute beyond (MAX_MINUTES 60).
CIRCLE_WORK, CIRCLE_WORK_PER_MINUTE, CIRCLE_MAX_MINUTES = 800, 35, 60.0
#: Case statistics, ungrouped and grouped.
STATS_WORK, GROUPED_STATS_WORK = 1_700, 2_800
#: A grid's service coverage (at most 2,500 lattice points a grid).
COVERAGE_WORK = 1_000
#: gridAt: a lookup, and per metre of the accuracy circle candidates are looked for in
#: (at least BOUNDARY_M, at most MAX_ACCURACY_M).
GRID_AT_WORK, GRID_AT_WORK_PER_M, BOUNDARY_M, MAX_ACCURACY_M = 70, 0.9, 20.0, 5_000.0
#: The page size assumed when ``first`` is a variable without a usable value.
PAGE_CAP = 100
PAGE_ARGUMENT = "first"
PAGED_LISTS = frozenset({"edges", "nodes"})


class CostEstimator:
    """Estimates operations of one document against one schema."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]):
        self._schema = schema
        self._fragments = fragments

    def cost(
        self, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None = None
    ) -> int:
        root = self._schema.get_root_type(operation.operation)
        return self._selection(operation.selection_set, root, 1, variables or {}, set())

    def uses_variable_pages(self, operation: OperationDefinitionNode) -> bool:
        """Whether a page size of ``operation`` (or of a fragment) comes from a variable."""
        nodes: list[Any] = [operation, *self._fragments.values()]
        while nodes:
            node = nodes.pop()
            if isinstance(node, FieldNode):
                for argument in node.arguments or ():
                    if argument.name.value == PAGE_ARGUMENT and isinstance(
                        argument.value, VariableNode
                    ):
                        return True
            selection_set = getattr(node, "selection_set", None)
            if selection_set is not None:
                nodes.extend(selection_set.selections)
        return False

    def _selection(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int,
        variables: Mapping[str, Any],
        visiting: set[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page, variables, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._schema.get_type(condition.name.value) if condition else parent
                total += self._selection(selection.selection_set, inner, page, variables, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in visiting:  # the spec rules report these
                    continue
                inner = self._schema.get_type(fragment.type_condition.name.value)
                total += self._selection(
                    fragment.selection_set, inner, page, variables, visiting | {name}
                )
        return total

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        page: int,
        variables: Mapping[str, Any],
        visiting: set[str],
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0 if name != "__typename" else 1
        fields = getattr(parent, "fields", None) or {}  # objects and interfaces have fields
        definition = fields.get(name)
        if definition is None:  # unknown fields are the validation rules' business
            return 1
        inner_page = page
        if PAGE_ARGUMENT in definition.args:
            inner_page = self._page_size(node, definition.args[PAGE_ARGUMENT], variables)
        times = 1
        if isinstance(get_nullable_type(definition.type), GraphQLList):  # type: ignore[arg-type]
            owner = getattr(parent, "name", "")
            times = page if name in PAGED_LISTS else LIST_SIZES.get((owner, name), LIST_ESTIMATE)
        inner = get_named_type(definition.type)
        below = self._selection(node.selection_set, inner, inner_page, variables, visiting)
        return self._work(node, parent) + times * below

    def _work(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        """The work of resolving ``node`` itself, its selection aside (module docstring)."""
        owner, name = getattr(parent, "name", ""), node.name.value
        if name in ("serviceCircle", "circle") and owner == "Query":
            minutes = _literal(node, "minutes", default=15.0, worst=CIRCLE_MAX_MINUTES)
            extra = max(0.0, min(minutes, CIRCLE_MAX_MINUTES) - 15.0) * CIRCLE_WORK_PER_MINUTE
            return CIRCLE_WORK + round(extra)
        if name == "caseStats":
            grouped = _literal(node, "groupBy", default=None, worst="grouped")
            return STATS_WORK if grouped is None else GROUPED_STATS_WORK
        if name == "serviceCoverage":
            return COVERAGE_WORK
        if name == "gridAt" and owner == "Query":
            accuracy = _literal(node, "point", "accuracyM", default=None, worst=MAX_ACCURACY_M)
            metres = min(max(float(accuracy or 0.0), BOUNDARY_M), MAX_ACCURACY_M)
            return GRID_AT_WORK + round(GRID_AT_WORK_PER_M * metres)
        roots = (self._schema.query_type, self._schema.mutation_type)
        if parent in roots and name not in STATIC_ROOT_FIELDS:
            return ROOT_FIELD
        return 1

    @staticmethod
    def _page_size(node: FieldNode, argument: Any, variables: Mapping[str, Any]) -> int:
        for given in node.arguments or ():
            if given.name.value != PAGE_ARGUMENT:
                continue
            value: Any = None
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                value = variables.get(given.value.name.value, PAGE_CAP)
            return _clamp(value)
        default = argument.default_value
        return _clamp(default if isinstance(default, int) else PAGE_CAP)


def _literal(node: FieldNode, argument: str, *path: str, default: Any, worst: Any) -> Any:
    """The value of ``argument`` (and of ``path`` inside an input object) as the document
    writes it: ``default`` when absent or null, ``worst`` when a variable says."""
    value: Any = next((a.value for a in node.arguments or () if a.name.value == argument), None)
    for key in path:
        if isinstance(value, VariableNode):
            return worst
        if not isinstance(value, ObjectValueNode):
            return default
        value = next((f.value for f in value.fields if f.name.value == key), None)
    if value is None:
        return default
    if isinstance(value, VariableNode):
        return worst
    if isinstance(value, IntValueNode | FloatValueNode):
        return float(value.value)
    if isinstance(value, EnumValueNode):
        return value.value
    return default


def _clamp(value: Any) -> int:
    """A page size as the resolvers will see it: out-of-range sizes are refused there, so
    they cost what their cap costs here."""
    if not isinstance(value, int) or isinstance(value, bool):
        return PAGE_CAP
    return max(0, min(value, PAGE_CAP))


def too_costly(operation: OperationDefinitionNode, cost: int, limit: int) -> GraphQLError:
    name = operation.name.value if operation.name else "anonymous"
    return GraphQLError(
        f"Operation '{name}' would cost about {cost} units of work (a unit is a plain "
        f"field); the limit is {limit}. Ask for smaller pages, fewer nested lists or fewer "
        "costly fields.",
        operation,
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )
