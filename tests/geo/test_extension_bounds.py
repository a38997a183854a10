"""EXTEND on an overdue case: the new deadline lies after now, not merely after the old one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.errors import InvalidCaseInput
from geo.cases.workflow import Action, CaseStatus
from tests.builders.cases import case_in, make_cast, take

pytestmark = pytest.mark.anyio


async def test_an_overdue_case_cannot_be_extended_into_the_past(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.DISPATCHED)
    deadline = case.handle_deadline
    assert deadline is not None
    later = deadline + timedelta(days=3)  # the case is overdue by then
    between = deadline + timedelta(days=1)  # after the old deadline, before now
    with pytest.raises(InvalidCaseInput, match="after now"):
        await take(db, cast, case, Action.EXTEND, extend_to=between, now=later)
    extended = await take(db, cast, case, Action.EXTEND, now=later)
    assert extended.case.handle_deadline is not None and extended.case.handle_deadline > later
