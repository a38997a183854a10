"""The GraphQL schema: every feature's queries and mutations, merged."""

import strawberry
from strawberry.tools import merge_types

from api.resolvers.case_actions import CaseMutation
from api.resolvers.cases import CaseQuery
from api.resolvers.circles import CircleMutation, CircleQuery
from api.resolvers.grids import GridMutation, GridQuery
from api.resolvers.ledger import LedgerMutation, LedgerQuery
from api.resolvers.merchant_mutations import MerchantMutation
from api.resolvers.merchants import MerchantQuery
from api.resolvers.meta import MetaQuery
from api.resolvers.users import UserMutation, UserQuery

Query = merge_types(
    "Query", (MetaQuery, GridQuery, MerchantQuery, CircleQuery, CaseQuery, LedgerQuery, UserQuery)
)
Mutation = merge_types(
    "Mutation",
    (
        GridMutation,
        MerchantMutation,
        CircleMutation,
        CaseMutation,
        LedgerMutation,
        UserMutation,
    ),
)

schema = strawberry.Schema(query=Query, mutation=Mutation)
