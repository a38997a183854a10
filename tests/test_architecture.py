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


#: The geo packages each package must not import: what merchants and service points share
#: (places) knows no kind of place, neither kind knows the other or what builds on both
#: (circles, imports), and accounts know nothing of the cases that use them.
GEO_MAY_NOT_IMPORT = {
    "places": {"merchants", "service_points", "circles", "imports"},
    "merchants": {"service_points", "circles", "imports"},
    "service_points": {"merchants", "circles", "imports"},
    "accounts": {"cases"},
}


def _geo_packages(path: Path) -> set[str]:
    """The geo packages a module imports from (``geo.places.nearest`` -> "places")."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        found |= {m.split(".")[1] for m in modules if m.startswith("geo.")}
    return found


def test_geo_packages_import_one_way() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_geo_packages(p) & banned)
        for package, banned in GEO_MAY_NOT_IMPORT.items()
        for p in (ROOT / "geo" / package).rglob("*.py")
        if _geo_packages(p) & banned
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


# --- the rooms of api/ (ARCHITECTURE.md) -------------------------------------------------------


def _api_imports(path: Path) -> set[str]:
    """The api rooms a module imports from ("schema", "web", "fast", "cli", "settings")."""
    rooms: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "api" and len(parts) > 1:
                rooms.add(parts[1])
            elif parts == ["api"]:
                rooms |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            rooms |= {a.name.split(".")[1] for a in node.names if a.name.startswith("api.")}
    return rooms


def _room(path: Path) -> str:
    relative = path.relative_to(ROOT / "api")
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


#: Which rooms each room may import (besides its own). The web app never imports the circle
#: command (its cluster manager, seeding); the schema knows nothing of HTTP.
MAY_IMPORT = {
    "settings": set(),
    "schema": {"settings"},
    "fast": {"schema", "settings"},
    "web": {"schema", "fast", "settings"},
    "cli": {"web", "schema", "settings"},  # `circle serve` serves the app
    "__main__": {"cli"},
    "__init__": set(),
}


def test_api_rooms_import_only_downwards() -> None:
    offenders = {}
    for path in (ROOT / "api").rglob("*.py"):
        room, name = _room(path), str(path.relative_to(ROOT))
        allowed = MAY_IMPORT[room] | {room}
        if extra := _api_imports(path) - allowed:
            offenders[name] = sorted(extra)
    assert offenders == {}


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "api").rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|starlette\.config", p.read_text())
    ]
    assert readers == ["api/settings.py"]


def test_the_rooms_are_the_documented_ones() -> None:
    rooms = {p.name for p in (ROOT / "api").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == {"schema", "web", "fast", "cli"}
    documented = (ROOT / "ARCHITECTURE.md").read_text()
    for room in rooms:
        assert f"api/{room}/" in documented, room
