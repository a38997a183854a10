"""The GraphQL schema: every feature's queries and mutations, merged."""

from datetime import datetime

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from api.resolvers.calendar import CalendarMutation, CalendarQuery
from api.resolvers.case_actions import CaseMutation
from api.resolvers.case_follow import FollowMutation, FollowQuery
from api.resolvers.cases import CaseQuery
from api.resolvers.circles import CircleMutation, CircleQuery
from api.resolvers.grids import GridMutation, GridQuery
from api.resolvers.ledger import LedgerMutation, LedgerQuery
from api.resolvers.merchant_mutations import MerchantMutation
from api.resolvers.merchants import MerchantQuery
from api.resolvers.meta import MetaQuery
from api.resolvers.units import UnitMutation, UnitQuery
from api.resolvers.users import UserMutation, UserQuery
from api.scalars import DATETIME

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
        # Every DateTime answered in Asia/Shanghai time (api.scalars).
        scalar_map={datetime: DATETIME},
    ),
)
