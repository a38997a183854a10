"""The GraphQL schema: every feature's queries and mutations, merged."""

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.resolvers.grids import GridMutation, GridQuery
from api.resolvers.meta import MetaQuery
from api.types.common import SCALARS

Query = merge_types("Query", (MetaQuery, GridQuery))
Mutation = merge_types("Mutation", (GridMutation,))

schema = strawberry.Schema(
    query=Query, mutation=Mutation, config=StrawberryConfig(scalar_map=SCALARS)
)
