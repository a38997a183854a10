"""0014: the year counters start from the numbers cases already have (the global sequence
of 0004 left serials like 2026-001281), and a downgrade puts the sequence back ahead."""

from collections.abc import Iterator

import psycopg
import pytest

from api.cli import dbadmin


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    yield dbadmin.create_database(server_url, "circle_migrations_numbers")
    dbadmin.drop_database(server_url, "circle_migrations_numbers")


CASE = """
INSERT INTO cases (number, category, description, location, accuracy_m, location_source,
                   channel, status, version, routing_reason, reported_at, last_event_hash)
VALUES (%s, 'sanitation', '垃圾', ST_SetSRID(ST_MakePoint(113.6, 34.7), 4326), 10, 'gps',
        'resident_app', 'reported', 1, 'outside_coverage', now(), '')
"""


def test_counters_start_after_the_numbers_given(scratch_url: str) -> None:
    dbadmin.upgrade(scratch_url, "0013")
    with psycopg.connect(scratch_url) as conn:
        for number in ("2025-001250", "2026-001251", "2026-001281", "2026-000007"):
            conn.execute(CASE, (number,))
    dbadmin.upgrade(scratch_url, "0014")
    with psycopg.connect(scratch_url) as conn:
        counters = conn.execute("SELECT year, last_serial FROM case_number_counters").fetchall()
        sequences = conn.execute("SELECT count(*) FROM pg_class WHERE relkind = 'S' AND "
                                 "relname = 'case_number_seq'").fetchone()  # fmt: skip
    assert sorted(counters) == [(2025, 1250), (2026, 1281)]
    assert sequences == (0,)
    dbadmin.downgrade(scratch_url, "0013")
    with psycopg.connect(scratch_url) as conn:
        following = conn.execute("SELECT nextval('case_number_seq')").fetchone()
    assert following == (1282,)
