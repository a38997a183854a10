"""Imports every model module so that Base.metadata knows every table (alembic, tests)."""

from geo import limits  # noqa: F401
from geo.accounts import models as accounts  # noqa: F401
from geo.calendar import models as calendar  # noqa: F401
from geo.cases import models as cases  # noqa: F401
from geo.circles import models as circles  # noqa: F401
from geo.grids import models as grids  # noqa: F401
from geo.merchants import models as merchants  # noqa: F401
from geo.service_points import models as service_points  # noqa: F401
