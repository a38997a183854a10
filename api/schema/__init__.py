"""The GraphQL schema: every feature's queries and mutations, merged."""

from datetime import datetime

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from api.schema.accounts.units import UnitMutation, UnitQuery
from api.schema.accounts.users import UserMutation, UserQuery
from api.schema.calendar.resolvers import CalendarMutation, CalendarQuery
from api.schema.cases.actions import CaseMutation
from api.schema.cases.follow import FollowMutation, FollowQuery
from api.schema.cases.ledger import LedgerMutation, LedgerQuery
from api.schema.cases.queries import CaseQuery
from api.schema.circles.resolvers import CircleMutation, CircleQuery
from api.schema.error_registry import ERRORS
from api.schema.grids.resolvers import GridMutation, GridQuery
from api.schema.meta import MetaQuery
from api.schema.places.mutations import MerchantMutation
from api.schema.places.queries import MerchantQuery
from api.schema.scalars import DATETIME

Query = merge_types(
    "Query",
    (
        MetaQuery,
        GridQuery,
        MerchantQuery,
        CircleQuery,
        CaseQuery,
        FollowQuery,
        LedgerQuery,
        UserQuery,
        CalendarQuery,
        UnitQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        GridMutation,
        MerchantMutation,
        CircleMutation,
        CaseMutation,
        FollowMutation,
        LedgerMutation,
        UserMutation,
        CalendarMutation,
        UnitMutation,
    ),
)


class CachedNameConverter(NameConverter):
    """strawberry's converter, each snake_case name turned camelCase once.

    strawberry converts every argument's name (and every input field's) on every call,
    to find it in the request: 4 % of a nearby search's server CPU went to to_camel_case.
    The names are the schema's own, a fixed set.
    """

    def __init__(self) -> None:
        super().__init__()
        self._converted: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        found = self._converted.get(name)
        if found is None:
            found = self._converted[name] = super().apply_naming_config(name)
        return found


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(
        name_converter=CachedNameConverter(),
        # Every DateTime answered in Asia/Shanghai time (api.schema.scalars).
        scalar_map={datetime: DATETIME},
    ),
    # Expected failures answered as their typed errors, in every field whose union holds
    # them: resolvers only raise (api.schema.error_registry).
    exception_handlers=ERRORS,
)
