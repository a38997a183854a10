"""What an operation may cost: an estimate of the fields it resolves, checked before it runs.

The depth limit stops deep nesting; it does not stop wide pages of pages
(``grids(first: 100) { merchants(first: 100) { ... grid { merchants(first: 100) ...``), each
level cheap alone and a million rows together. The estimate multiplies:

- every field costs 1, plus its selection;
- a field with a ``first`` argument is a page: the lists inside it (``edges``, ``nodes``)
  count ``first`` times (the literal, the variable's value, or the argument's default);
- any other list field counts :data:`LIST_ESTIMATE` times (children, workers, candidates);
- introspection (``__schema``, ``__type``) is free: it is bounded by the schema itself.

The estimate is computed once per document when no page size comes from a variable, and per
request otherwise. Above the limit the operation is refused before any resolver runs, with
``extensions.code = QUERY_TOO_COSTLY`` and the estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

#: How many items an unpaged list field is assumed to hold.
LIST_ESTIMATE = 10
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
            times = page if name in PAGED_LISTS else LIST_ESTIMATE
        inner = get_named_type(definition.type)
        below = self._selection(node.selection_set, inner, inner_page, variables, visiting)
        return 1 + times * below

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


def _clamp(value: Any) -> int:
    """A page size as the resolvers will see it: out-of-range sizes are refused there, so
    they cost what their cap costs here."""
    if not isinstance(value, int) or isinstance(value, bool):
        return PAGE_CAP
    return max(0, min(value, PAGE_CAP))


def too_costly(operation: OperationDefinitionNode, cost: int, limit: int) -> GraphQLError:
    name = operation.name.value if operation.name else "anonymous"
    return GraphQLError(
        f"Operation '{name}' would resolve about {cost} fields; the limit is {limit}. "
        "Ask for smaller pages or fewer nested lists.",
        operation,
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )
