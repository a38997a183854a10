"""The GraphQL schema: every feature's queries and mutations, merged."""

import strawberry
from strawberry.tools import merge_types

from api.resolvers.grids import GridMutation, GridQuery
from api.resolvers.meta import MetaQuery

Query = merge_types("Query", (MetaQuery, GridQuery))
Mutation = merge_types("Mutation", (GridMutation,))

schema = strawberry.Schema(query=Query, mutation=Mutation)
