"""Case mutations: reportCase (anyone) and actOnCase (every workflow action, one mutation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from api.schema.cases.enums import CaseStatusType, RoutingReasonType
from api.schema.cases.errors import (
    ActionNotPermittedError,
    CaseVersionConflictError,
    ChannelNotAllowedError,
    EvaluationPendingError,
    IdempotencyKeyReusedError,
    IllegalTransitionError,
    InvalidCaseInputError,
    MergeTargetInvalidError,
    NoteRequiredError,
    SatisfactionRequiredError,
    UnknownCaseCategoryError,
    UnknownUnitError,
)
from api.schema.cases.inputs import ActOnCaseInput, ReportCaseInput
from api.schema.cases.types import Case, CaseEvent
from api.schema.common import InvalidCoordinateError
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, RateLimitedError
from api.schema.limits import spend
from api.schema.permissions import Permission, case_visibility, require
from api.schema.places.errors import NotFoundError
from geo.cases import queries, reporting
from geo.cases.errors import CaseNotFound, InvalidCaseInput
from geo.cases.reporting import DuplicateCandidate, ReportResult
from geo.cases.routing import RoutingReason
from geo.cases.transitions import act
from geo.cases.workflow import ActionNotPermitted
from geo.grids.queries import get_grid

EXPLAINED = {
    RoutingReason.MICRO_GRID_WORKER: "Sent to the covering micro-grid's own worker.",
    RoutingReason.ACCURACY_CIRCLE_L3: "The accuracy circle crosses micro-grids but lies "
    "wholly in one L3 grid: sent to the L3 grid's worker.",
    RoutingReason.ACCURACY_CIRCLE_L2: "The accuracy circle crosses L3 grids but lies wholly "
    "in one L2 grid: sent to the L2 grid's worker.",
    RoutingReason.ACCURACY_CIRCLE_L1: "The accuracy circle crosses L2 grids but lies wholly "
    "in one L1 grid: sent to the L1 grid's agent.",
    RoutingReason.NO_WORKER_FALLBACK_L3: "The micro-grid has no worker: sent to its L3 grid's.",
    RoutingReason.NO_WORKER_FALLBACK_L2: "No worker below L2: sent to the L2 grid's worker.",
    RoutingReason.NO_WORKER_FALLBACK_L1: "No worker below L1: sent to the L1 grid's agent.",
    RoutingReason.NO_WORKER_DISTRICT_QUEUE: "Nobody staffs this grid's path: district queue.",
    RoutingReason.OUTSIDE_COVERAGE: "No grid covers the point: district agents' queue.",
    RoutingReason.COARSE_LOCATION: "The location is too coarse: its accuracy circle lies in "
    "no single L1 grid; the district agents confirm it from their queue.",
    RoutingReason.CONFIRMED_BY_AGENT: "An agent confirmed the grid when accepting.",
}


@strawberry.type(description="An open case of the same category nearby (within 50 m, 72 h).")
class PossibleDuplicate:
    id: int
    number: str
    status: CaseStatusType  # type: ignore[valid-type]
    distance_m: float
    reported_at: datetime


@strawberry.type(description="The case, stored and routed (or found again by its key).")
class CaseReported:
    case: Case
    created: bool = strawberry.field(description="False: a retry with a known key; no change.")
    routing_reason: RoutingReasonType  # type: ignore[valid-type]
    routing_explanation: str
    routing_details: JSON | None = strawberry.field(
        description="Routing facts (grid, distances, worker); null on a retry."
    )
    similar_cases_nearby: bool = strawberry.field(
        description="Whether open cases of the same category were reported within 50 m in "
        "the last 72 h: everyone learns this much."
    )
    possible_duplicates: list[PossibleDuplicate] = strawberry.field(
        description="Those cases, the ones the caller may see (staff of their grid or unit, "
        "their reporter): empty for anonymous callers (api.schema.permissions)."
    )
    follow_code: str | None = strawberry.field(
        default=None,
        description="Anonymous reports only, and only in this answer (a retry gets null): the "
        "private code that, with the case number, follows the case (followedCase) and "
        "evaluates it (evaluateCase). Only its hash is kept; keep it safe.",
    )

    @classmethod
    async def from_result(cls, info: Info, r: ReportResult) -> CaseReported:
        reason = RoutingReason(r.case.routing_reason)
        return cls(
            case=Case.from_model(r.case),
            created=r.created,
            routing_reason=reason,
            routing_explanation=EXPLAINED[reason],
            routing_details=({"reason": reason.value} | r.routing.details) if r.routing else None,
            similar_cases_nearby=bool(r.possible_duplicates),
            possible_duplicates=[
                PossibleDuplicate(
                    id=d.case_id,
                    number=d.number,
                    status=d.status,
                    distance_m=d.distance_m,
                    reported_at=d.reported_at,
                )
                for d in await _visible(info, r.possible_duplicates)
            ],
            follow_code=r.follow_code,
        )


async def _visible(
    info: Info, duplicates: Sequence[DuplicateCandidate]
) -> list[DuplicateCandidate]:
    """The duplicates the caller may see (none for anonymous callers, no query either)."""
    actor = info.context.actor
    if actor is None or not duplicates:
        return []
    async with info.context.read() as session:
        scopes = await queries.case_scopes(session, [d.case_id for d in duplicates])
    rule = case_visibility(actor)
    return [d for d in duplicates if d.case_id in scopes and rule.admits(scopes[d.case_id])]


@strawberry.type(
    description="A retry with the key of a report already received, by a caller who cannot "
    "be told apart from a stranger (anonymous): what the first answer said of the report, "
    "and nothing the case became since. Follow it with its follow code (followedCase)."
)
class CaseAlreadyReported:
    number: str = strawberry.field(description="The case's public number.")
    reported_at: datetime


async def answer(info: Info, result: ReportResult) -> CaseReported | CaseAlreadyReported:
    """The answer to a report: the case, unless this is a retry by someone other than its
    signed-in reporter (api.schema.permissions)."""
    actor, case = info.context.actor, result.case
    reporter = actor is not None and actor.user_id == case.reporter_user_id
    if result.created or reporter:
        return await CaseReported.from_result(info, result)
    return CaseAlreadyReported(number=case.number, reported_at=case.reported_at)


@strawberry.type(description="The action was taken: the case at its new version, and its event.")
class CaseActed:
    case: Case
    event: CaseEvent


ReportCaseResult = Annotated[
    CaseReported
    | CaseAlreadyReported
    | InvalidCoordinateError
    | UnknownCaseCategoryError
    | InvalidCaseInputError
    | ChannelNotAllowedError
    | IdempotencyKeyReusedError
    | RateLimitedError,
    strawberry.union("ReportCaseResult"),
]
ActOnCaseResult = Annotated[
    CaseActed
    | IllegalTransitionError
    | ActionNotPermittedError
    | CaseVersionConflictError
    | NoteRequiredError
    | SatisfactionRequiredError
    | EvaluationPendingError
    | MergeTargetInvalidError
    | InvalidCaseInputError
    | UnknownUnitError
    | NotFoundError
    | AuthenticationRequiredError,
    strawberry.union("ActOnCaseResult"),
]


async def report(info: Info, input: ReportCaseInput, **overrides: Any) -> ReportResult:
    """geo.cases.reporting.report_case for the input, in the mutation's transaction."""
    point = input.location.to_wgs84()
    async with info.context.write() as session:
        return await reporting.report_case(
            session,
            actor=info.context.actor,
            category=input.category,
            description=input.description,
            point=point,
            location_source=input.location_source,
            channel=input.channel,
            accuracy_m=input.location.accuracy_m,
            address=input.address,
            photo_urls=input.photo_urls,
            reporter_contact=input.reporter_contact,
            idempotency_key=input.idempotency_key,
        )


async def _grid_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None:
        return None
    row = await get_grid(session, code)
    if row is None:
        raise InvalidCaseInput("grid", "no grid has this code")
    return row.id


async def _hidden_or(info: Info, case_id: int, refused: ActionNotPermitted) -> Exception:
    """The refusal, or CaseNotFound when the caller may not even see the case: a refusal
    must not tell that a case exists."""
    async with info.context.read() as session:
        scope = await queries.case_scope(session, case_id)
    if scope is None or not case_visibility(info.context.actor).admits(scope):
        return CaseNotFound(case_id)
    return refused


@strawberry.type
class CaseMutation:
    @strawberry.mutation(
        description="Reports a case (anyone may, without an account). It is routed at once to "
        "the micro-grid covering its point and that grid's named worker, falling back up the "
        "levels, or to the district agents' queue with the reason."
    )
    async def report_case(self, info: Info, input: ReportCaseInput) -> ReportCaseResult:
        if limited := await spend(info):
            return limited
        return await answer(info, await report(info, input))

    @strawberry.mutation(
        description="Takes one workflow action on a case, as the signed-in caller. Exactly one "
        "of concurrent actions on the same version wins; the others get CaseVersionConflictError."
    )
    async def act_on_case(self, info: Info, input: ActOnCaseInput) -> ActOnCaseResult:
        actor = require(info, Permission.ACT_ON_CASES)
        params = input.params()
        try:
            async with info.context.write() as session:
                grid_id = await _grid_id(session, input.grid)
                done = await act(session, actor=actor, grid_id=grid_id, **params)
        except ActionNotPermitted as refused:
            raise await _hidden_or(info, input.case_id, refused) from None
        case = Case.from_model(done.case)
        return CaseActed(case=case, event=CaseEvent.from_model(done.event, case))
