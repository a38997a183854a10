"""The case builders of tests/builders/cases.py reach every status through the service."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.workflow import CaseStatus
from tests.builders.cases import PATHS, case_in, make_cast

pytestmark = pytest.mark.anyio


async def test_builders_drive_a_case_to_every_status(db: AsyncSession) -> None:
    cast = await make_cast(db)
    for status in CaseStatus:
        case = await case_in(db, cast, status)
        assert case.status == status.value
        assert case.version == 1 + len(PATHS[status])
