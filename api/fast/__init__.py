"""The optional fast path, fenced here: one switch (``JSON_NODES``), nothing in the schema
imports it, and every answer it gives is the executor's answer, byte for byte (the tests
compare both ways).

* ``operations.py`` plans whole operations (gridAt, the nearby lists) and answers them
  without the executor; ``json_nodes.py`` makes the templates of the edges PostgreSQL
  writes for those plans.
* ``execution.py`` + ``shapes.py``: graphql-core's field loop reading plain fields directly,
  for every operation that is not planned (lists of cases, grids, ...).

Private parts of the libraries it leans on, and why each is worth it:

* ``strawberry.Schema._schema`` (graphql-core's schema; strawberry has no public accessor):
  the endpoint (``api.web.http``) validates and executes with graphql-core directly, which
  is what lets it cache prepared documents, answer the GraphQL-over-HTTP statuses and plan
  operations at all.
* ``execution.LeanExecutor.execute_fields`` is a copy of graphql-core 3.3.2's, and reads
  strawberry's ``_is_default`` marker on default resolvers: both pinned
  (``graphql-core==3.3.2`` beside strawberry in pyproject.toml). Measured on a page of 100
  cases (the operation planning does not cover), same minutes, alternating: 22.4 and 26.5
  ms of server CPU a page with it, 27.0 and 29.6 ms without, about a sixth. When a newer
  graphql-core arrives, tests/api/test_execution.py says whether the copy still answers as
  the original.
"""
