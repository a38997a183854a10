"""Imports every model module so that Base.metadata knows every table (alembic, tests)."""
