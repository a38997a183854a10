"""geo/ is the domain layer: it must not import the API layer or a web framework."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
FORBIDDEN = {"api", "strawberry", "starlette", "uvicorn"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_geo_imports_no_framework() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN)
        for p in (ROOT / "geo").rglob("*.py")
        if _imports(p) & FORBIDDEN
    }
    assert offenders == {}


#: A PostGIS function name (ST_Covers, ST_DWithin...), not a constant such as LIST_ESTIMATE.
SPATIAL_SQL = re.compile(r"\bST_[A-Za-z]")


def test_api_builds_no_spatial_sql() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "api").rglob("*.py")
        if SPATIAL_SQL.search(p.read_text()) or "func.st_" in p.read_text().lower()
    ]
    assert offenders == []
