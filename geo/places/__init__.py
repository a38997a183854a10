"""What merchants and service points share: the nearest-first search, pages and filters,
opening hours, phones, names, field checks, versioned writes and cursors.

* nearest / planar  - nearest-first search in exact geodesic order on a World Mercator index
* queries           - Nearby, Page, the shared filters and the JSON rows PostgreSQL writes
* by_grid           - listings of several grid subtrees at once, for DataLoaders
* fields / writes   - validation and versioned single-row writes, with grid assignment
* hours, phones, text, walking, cursor, errors - the rules every kind of place follows

Nothing here knows a kind of place: ``geo.merchants`` and ``geo.service_points`` build on it,
and ``geo.circles`` and ``geo.imports`` on those.
"""
