-- What PostGraphile serves in bench/bench_peer.py: functions over Circle's own tables that give
-- the answers Circle gives, written as a PostGraphile user would write them (root query
-- functions, a computed column, the grids' own foreign key for the parent). They read the same
-- indexes Circle reads. Installed in the bench database only; `{category_zh}` and
-- `{category_key}` are filled in by the bench from geo.merchants.taxonomy.
--
-- Nearest first: the SP-GiST index on the World Mercator point (or the category's band of the
-- banded index, geo/places/planar.py) gives candidates in planar order; n + 5 of them are
-- ranked by geodesic distance (as many as Circle fetches at this latitude: Mercator order is
-- within 0.04 % of geodesic order over a kilometre). Not proven exact as Circle's search is
-- (geo/places/nearest.py), so the bench compares the answers before it times anything.

DROP FUNCTION IF EXISTS peer_nearby_merchants(double precision, double precision,
    double precision, text, integer);
DROP FUNCTION IF EXISTS merchants_distance_m(merchants, double precision, double precision);
DROP FUNCTION IF EXISTS merchants_walking_minutes(merchants, double precision, double precision);
DROP FUNCTION IF EXISTS merchants_category_zh(merchants);
DROP TYPE IF EXISTS peer_nearby_merchant;

-- One row type with everything the page shows, computed once in the search: the fastest
-- form measured (computed columns, SQL functions called per row, took 1.1 ms of execution
-- a page against 0.4 ms).
CREATE TYPE peer_nearby_merchant AS (
    id integer,
    name text,
    phone text,
    category text,
    category_zh text,
    location geometry(Point, 4326),
    distance_m double precision,
    walking_minutes double precision
);

CREATE FUNCTION peer_nearby_merchants(
    lon double precision,
    lat double precision,
    radius_m double precision DEFAULT 1000,
    category text DEFAULT NULL,
    n integer DEFAULT 20
) RETURNS SETOF peer_nearby_merchant
LANGUAGE plpgsql STABLE AS $$
DECLARE
    centre geometry := ST_SetSRID(ST_MakePoint(lon, lat), 4326);
    xy point := point(ST_Transform(centre, 3395));
    -- World Mercator stretches by about 1/cos(latitude); a margin for the box's far edge.
    reach double precision := radius_m / cos(radians(abs(lat) + 0.05)) * 1.001;
    band double precision;
BEGIN
    IF category IS NULL THEN
        RETURN QUERY
        SELECT c.id, c.name::text, c.phone::text, c.category::text,
               CASE c.category {category_zh} END, c.location, c.d, c.d * 1.3 / 80.0
        FROM (
            SELECT m.*, ST_DistanceSpheroid(m.location, centre) AS d FROM (
                SELECT * FROM merchants
                WHERE point(ST_Transform(location, 3395))
                      <@ box(point(xy[0] - reach, xy[1] - reach),
                             point(xy[0] + reach, xy[1] + reach))
                  AND status <> 'CLOSED'
                ORDER BY point(ST_Transform(location, 3395)) <-> xy
                LIMIT n + 5
            ) m
        ) c
        WHERE c.d <= radius_m
        ORDER BY c.d, c.id
        LIMIT n;
    ELSE
        band := (CASE category {category_key} END)::double precision * 100000000;
        RETURN QUERY
        SELECT c.id, c.name::text, c.phone::text, c.category::text,
               CASE c.category {category_zh} END, c.location, c.d, c.d * 1.3 / 80.0
        FROM (
            SELECT m.*, ST_DistanceSpheroid(m.location, centre) AS d FROM (
                SELECT * FROM merchants
                WHERE point(ST_Transform(location, 3395))
                        + point(category_key::double precision * '100000000'::double precision,
                                '0'::double precision)
                      <@ box(point(xy[0] + band - reach, xy[1] - reach),
                             point(xy[0] + band + reach, xy[1] + reach))
                  AND merchants.category = peer_nearby_merchants.category
                  AND status <> 'CLOSED'
                ORDER BY point(ST_Transform(location, 3395))
                        + point(category_key::double precision * '100000000'::double precision,
                                '0'::double precision)
                      <-> point(xy[0] + band, xy[1])
                LIMIT n + 5
            ) m
        ) c
        WHERE c.d <= radius_m
        ORDER BY c.d, c.id
        LIMIT n;
    END IF;
END
$$;

-- The micro-grid covering a point (first by code), as Circle's gridAt picks it.
CREATE OR REPLACE FUNCTION peer_grid_at(lon double precision, lat double precision)
RETURNS SETOF grids LANGUAGE sql STABLE AS $$
    SELECT g.* FROM grids g
    WHERE g.level = 'MICRO' AND ST_Covers(g.boundary, ST_SetSRID(ST_MakePoint(lon, lat), 4326))
    ORDER BY g.code
    LIMIT 1
$$;

CREATE OR REPLACE FUNCTION grids_distance_to_boundary_m(g grids, lon double precision,
                                                        lat double precision)
RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT ST_Distance(geography(ST_Boundary(g.boundary)),
                       geography(ST_SetSRID(ST_MakePoint(lon, lat), 4326)))
$$;
