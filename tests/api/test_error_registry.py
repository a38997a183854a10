"""The error registry (api.schema.error_registry): every typed error a result union offers
has an exception that answers it, and no entry hides behind its base class's."""

from graphql import GraphQLUnionType

from api.schema import schema
from api.schema.error_registry import ERRORS

#: Union members that resolvers return as data rather than raise: not the registry's.
RETURNED = {"RateLimitedError", "OutsideCoverage"}


def test_every_error_of_a_result_union_is_answered_by_an_entry() -> None:
    answered = {e.error_type.__strawberry_definition__.name for e in ERRORS}
    offered = {
        member.name
        for union in schema._schema.type_map.values()
        if isinstance(union, GraphQLUnionType)
        for member in union.types
        if any(i.name == "Error" for i in member.interfaces)
    }
    assert offered - RETURNED <= answered
    assert answered <= offered


def test_a_subclass_is_answered_before_its_base() -> None:
    # strawberry takes the first entry that matches: a base first would hide the subclass's.
    for i, earlier in enumerate(ERRORS):
        for later in ERRORS[i + 1 :]:
            shadowed = issubclass(later.exception_type, earlier.exception_type)
            assert not shadowed or later.exception_type is earlier.exception_type, later
