"""The HTTP edge: the Starlette app, GraphQL over HTTP, auth, limits, pages, metrics."""
