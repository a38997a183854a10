from pathlib import Path

from strawberry.printer import print_schema

from api.schema import schema

SCHEMA_FILE = Path(__file__).parents[2] / "api" / "schema.graphql"


def test_schema_file_is_current() -> None:
    # Regenerate with `make schema` when this fails; the diff is the API change to review.
    assert SCHEMA_FILE.read_text() == print_schema(schema) + "\n"
