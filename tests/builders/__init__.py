"""What the tests build, in one place (no tests here; fixtures live in the conftest files).

- `shapes`: geometry drawn on paper, the tiny district of four micro-grids.
- `places`: merchants and service points, and geodesic positions to put them at.
- `cases`: a staffed tiny district, a cast of actors, reports and paths to every status.
- `accounts`: accounts with tokens, and the tiny world the case API tests call as.
- `clients`: the app served in process (`served`), one GraphQL call (`gql`), the command.
- `case_api`: reports and reads over HTTP; `driver`: actions that track case versions.
- `databases`: emptying the test database, the trail key ring of the tests.
- `processes`: server processes on real sockets (a free port, waiting, stopping).
"""
