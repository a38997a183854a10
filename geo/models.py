"""Imports every model module so that Base.metadata knows every table (alembic, tests)."""

from geo.grids import models as grids  # noqa: F401
