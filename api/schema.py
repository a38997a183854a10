"""The GraphQL schema: every feature's queries and mutations, merged."""

import strawberry
from strawberry.tools import merge_types

from api.resolvers.meta import MetaQuery

Query = merge_types("Query", (MetaQuery,))

schema = strawberry.Schema(query=Query)
