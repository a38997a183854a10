"""Extra validation rules run once per distinct document (the results are cached)."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


def depth_limit_rule(max_depth: int) -> type[ValidationRule]:
    """A rule refusing operations whose field nesting goes deeper than `max_depth`."""

    class DepthLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            depth = _depth(node.selection_set, fragments, 0, set())
            if depth > max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"Operation '{name}' is nested {depth} levels deep; "
                        f"the limit is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )

    return DepthLimit


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    level: int,
    visiting: set[str],
) -> int:
    if selection_set is None:
        return level
    deepest = level
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                # Introspection (__schema, __type) is bounded by the schema and nests deeper
                # than any client query (ofType chains); tools such as GraphiQL need it whole.
                continue
            below = level + 1 if selection.selection_set else level
            deepest = max(deepest, _depth(selection.selection_set, fragments, below, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, level, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:  # cycles are reported by the spec rules
                continue
            inner = _depth(fragment.selection_set, fragments, level, visiting | {name})
            deepest = max(deepest, inner)
    return deepest


__all__ = ["ValidationContext", "depth_limit_rule"]
