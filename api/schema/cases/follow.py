"""An anonymous reporter's own case: followedCase (read it by number and follow code) and
evaluateCase (evaluate it with them). Codes and their checks: geo.cases.follow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.schema.cases.enums import CaseStatusType, RoleType, SatisfactionType
from api.schema.cases.errors import (
    ActionNotPermittedError,
    CaseVersionConflictError,
    IllegalTransitionError,
    InvalidCaseInputError,
    NoteRequiredError,
)
from api.schema.cases.types import CaseCategory
from api.schema.common import CoordSystemType, Point
from api.schema.context import Info
from api.schema.grids.types import Grid
from api.schema.places.errors import NotFoundError
from geo.accounts.models import Role
from geo.cases.follow import evaluate_followed, followed_case
from geo.cases.models import Case as CaseModel
from geo.cases.models import CaseEvent as EventModel
from geo.cases.queries import case_location, is_overdue
from geo.cases.workflow import CaseStatus, Satisfaction, evaluation_expires_at
from geo.coords import CoordSystem

FOLLOW_HELP = (
    "The case number and the follow code reportCase answered (once) to the anonymous "
    "reporter; a wrong code answers exactly as an unknown number (NotFoundError)."
)


@strawberry.type(description="One step of a followed case: no names, no contact details.")
class FollowedCaseEvent:
    seq: int
    action: str = strawberry.field(description="'reported', or a CaseAction in lower case.")
    from_status: CaseStatusType | None  # type: ignore[valid-type]
    to_status: CaseStatusType  # type: ignore[valid-type]
    actor_role: RoleType | None = strawberry.field(  # type: ignore[valid-type]
        description="Who acted, as a role; null for the anonymous reporter's report."
    )
    note: str | None
    occurred_at: datetime

    @classmethod
    def from_model(cls, e: EventModel) -> FollowedCaseEvent:
        return cls(
            seq=e.seq,
            action=e.action,
            from_status=CaseStatus(e.from_status) if e.from_status else None,
            to_status=CaseStatus(e.to_status),
            actor_role=Role(e.actor_role) if e.actor_role else None,
            note=e.note,
            occurred_at=e.occurred_at,
        )


@strawberry.type(
    description="A case as its anonymous reporter follows it: what was reported, where it "
    "stands and what was done, without staff names or the reporter's contact."
)
class FollowedCase:
    model: strawberry.Private[CaseModel]
    number: str
    status: CaseStatusType  # type: ignore[valid-type]
    version: int = strawberry.field(description="Send it back as expectedVersion to evaluate.")
    description: str
    address: str | None
    photo_urls: list[str]
    department: str | None = strawberry.field(description="The unit handling it, if any.")
    deadline: datetime | None = strawberry.field(description="Deadline of the running stage.")
    overdue: bool
    satisfaction: SatisfactionType | None  # type: ignore[valid-type]
    reported_at: datetime
    accepted_at: datetime | None
    handled_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    evaluation_open_until: datetime | None = strawberry.field(
        description="While VERIFIED: the end of the reporter's evaluation window; an "
        "unevaluated case closes by itself afterwards, with no satisfaction recorded."
    )

    @classmethod
    def from_model(cls, m: CaseModel) -> FollowedCase:
        verified = m.status == CaseStatus.VERIFIED and m.verified_at is not None
        return cls(
            model=m,
            number=m.number,
            status=CaseStatus(m.status),
            version=m.version,
            description=m.description,
            address=m.address,
            photo_urls=list(m.photo_urls),
            department=m.department,
            deadline=m.deadline,
            overdue=is_overdue(m),
            satisfaction=Satisfaction(m.satisfaction) if m.satisfaction else None,
            reported_at=m.reported_at,
            accepted_at=m.accepted_at,
            handled_at=m.handled_at,
            verified_at=m.verified_at,
            closed_at=m.closed_at,
            evaluation_open_until=(
                evaluation_expires_at(m.verified_at) if verified and m.verified_at else None
            ),
        )

    @strawberry.field
    def category(self) -> CaseCategory:
        return CaseCategory.of(self.model.category)

    @strawberry.field(description="Where the problem is, in the system asked for.")
    def location(
        self,
        system: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> Point:
        return Point.from_wgs84(case_location(self.model), CoordSystem(system))

    @strawberry.field(description="The grid the case was routed to; null: the district queue.")
    async def grid(self, info: Info) -> Grid | None:
        if self.model.grid_id is None:
            return None
        row = await info.context.loaders.grid.load(self.model.grid_id)
        return Grid.from_row(row) if row else None

    @strawberry.field(description="Every step, oldest first.")
    async def events(self, info: Info) -> list[FollowedCaseEvent]:
        events = await info.context.loaders.cases.events.load(self.model.id)
        return [FollowedCaseEvent.from_model(e) for e in events]


@strawberry.type(description="The evaluation was recorded.")
class CaseEvaluated:
    case: FollowedCase


@strawberry.input(description="The anonymous reporter's evaluation of their case.")
class EvaluateCaseInput:
    number: str
    follow_code: str
    satisfaction: SatisfactionType  # type: ignore[valid-type]
    expected_version: int = strawberry.field(description="The version the reporter read.")
    note: str | None = None


FollowedCaseResult = Annotated[FollowedCase | NotFoundError, strawberry.union("FollowedCaseResult")]
EvaluateCaseResult = Annotated[
    CaseEvaluated
    | IllegalTransitionError
    | CaseVersionConflictError
    | ActionNotPermittedError
    | NoteRequiredError
    | InvalidCaseInputError
    | NotFoundError,
    strawberry.union("EvaluateCaseResult"),
]


@strawberry.type
class FollowQuery:
    @strawberry.field(description="A case as its anonymous reporter follows it. " + FOLLOW_HELP)
    async def followed_case(self, info: Info, number: str, code: str) -> FollowedCaseResult:
        async with info.context.read() as session:
            case = await followed_case(session, number, code)
        return FollowedCase.from_model(case)


@strawberry.type
class FollowMutation:
    @strawberry.mutation(
        description="The anonymous reporter evaluates their verified case (UNSATISFIED sends "
        "it back to be handled again). " + FOLLOW_HELP
    )
    async def evaluate_case(self, info: Info, input: EvaluateCaseInput) -> EvaluateCaseResult:
        async with info.context.write() as session:
            done = await evaluate_followed(
                session,
                number=input.number,
                code=input.follow_code,
                satisfaction=input.satisfaction,
                expected_version=input.expected_version,
                note=input.note,
            )
        return CaseEvaluated(case=FollowedCase.from_model(done.case))
