"""The Case type, its events and the enums of the workflow (exposed from geo, not copied)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.schema import ready
from api.schema.cases.enums import (
    CaseActionType,
    CaseStatusType,
    ChannelType,
    LocationSourceType,
    RoleType,
    RoutingReasonType,
    SatisfactionType,
)
from api.schema.common import CoordSystemType, PageInfo, Point
from api.schema.context import Info
from api.schema.grids.types import Grid, GridWorker
from api.schema.permissions import contact_visible
from geo.accounts.actor import CaseScope
from geo.accounts.models import Role, User
from geo.cases.categories import CASE_CATEGORIES, Channel, LocationSource
from geo.cases.categories import CaseCategory as CategoryModel
from geo.cases.deadlines import is_provisional
from geo.cases.models import Case as CaseModel
from geo.cases.models import CaseEvent as EventModel
from geo.cases.queries import case_location, is_overdue
from geo.cases.routing import RoutingReason
from geo.cases.workflow import CaseStatus, Satisfaction, allowed_actions, may, waits_for_evaluation
from geo.clock import utcnow
from geo.coords import CoordSystem
from geo.grids.models import GridWorker as GridWorkerModel
from geo.grids.queries import GridRow


@strawberry.type(description="A case category (the documented taxonomy) and its time limits.")
class CaseCategory:
    code: str
    zh: str
    en: str
    accept_hours: float = strawberry.field(description="Limit from report to 立案.")
    dispatch_hours: float = strawberry.field(description="Limit from 立案 to dispatch.")
    handle_hours: float | None = strawberry.field(description="Handling limit, in hours.")
    handle_days: int | None = strawberry.field(description="Handling limit, in days.")
    verify_hours: float = strawberry.field(description="Limit from report-back to 核查.")
    around_the_clock: bool = strawberry.field(
        description="True: limits run in natural time; false: in working time (weekends and "
        "China's public holidays skipped, make-up working days counted)."
    )

    @classmethod
    def of(cls, code: str) -> CaseCategory:
        c: CategoryModel = CASE_CATEGORIES[code]
        return cls(
            code=c.code,
            zh=c.zh,
            en=c.en,
            accept_hours=c.accept_hours,
            dispatch_hours=c.dispatch_hours,
            handle_hours=c.handle_hours,
            handle_days=c.handle_days,
            verify_hours=c.verify_hours,
            around_the_clock=c.around_the_clock,
        )


@strawberry.type(description="A user as others see them in a case: name and role only.")
class StaffMember:
    name: str
    role: RoleType  # type: ignore[valid-type]
    department: str | None


#: What a resident reporter is called for viewers who may not know who reported.
RESIDENT_REPORTER = "居民"


@strawberry.type(description="One action on a case: append-only and hash-chained (see caseTrail).")
class CaseEvent:
    seq: int = strawberry.field(description="1 for the report, then +1 per action.")
    action: str = strawberry.field(
        description="'reported' for the first event, otherwise a CaseAction in lower case."
    )
    from_status: CaseStatusType | None  # type: ignore[valid-type]
    to_status: CaseStatusType  # type: ignore[valid-type]
    name: strawberry.Private[str]
    case_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    #: The case the event was read through, when there is one: its scope is at hand.
    case: strawberry.Private[Case | None]
    actor_role: RoleType | None  # type: ignore[valid-type]
    note: str | None
    details: JSON = strawberry.field(description="The action's parameters (routing, unit...).")
    occurred_at: datetime
    prev_hash: str
    hash: str

    @classmethod
    def from_model(cls, e: EventModel, case: Case | None = None) -> CaseEvent:
        return cls(
            case=case,
            seq=e.seq,
            action=e.action,
            from_status=CaseStatus(e.from_status) if e.from_status else None,
            to_status=CaseStatus(e.to_status),
            name=e.actor_name,
            case_id=e.case_id,
            actor_id=e.actor_id,
            actor_role=Role(e.actor_role) if e.actor_role else None,
            note=e.note,
            details=e.details,
            occurred_at=e.occurred_at,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )

    @strawberry.field(
        description="Who acted: 'anonymous' for reports without account. A resident who "
        "reported is named only to the reporter and to staff of the case's grid (as the "
        f"contact is); everyone else reads '{RESIDENT_REPORTER}'. The hash covers the name."
    )
    def actor_name(self, info: Info) -> str:
        if self.seq != 1 or self.actor_role is not Role.RESIDENT:
            return self.name
        actor = info.context.actor
        if actor is not None and actor.user_id == self.actor_id:
            return self.name

        def shown(scope: CaseScope | None) -> str:
            visible = scope is not None and contact_visible(actor, scope)
            return self.name if visible else RESIDENT_REPORTER

        if self.case is not None:
            return ready.then(self.case.scope_now(info), shown)
        return ready.one(info.context.loaders.cases.scope, self.case_id, shown)


@strawberry.type(description="A reported problem (事件/案件) and where it stands.")
class Case:
    model: strawberry.Private[CaseModel]
    id: int
    number: str = strawberry.field(description="Public number, '<year>-<serial>'.")
    status: CaseStatusType  # type: ignore[valid-type]
    version: int = strawberry.field(description="Send it back as expectedVersion to act.")
    description: str
    address: str | None
    photo_urls: list[str]
    channel: ChannelType  # type: ignore[valid-type]
    location_source: LocationSourceType  # type: ignore[valid-type]
    accuracy_m: float = strawberry.field(description="Error radius of the location, metres.")
    routing_reason: RoutingReasonType  # type: ignore[valid-type]
    department: str | None = strawberry.field(
        description="The unit the case is dispatched to (lead unit); null: the grid team."
    )
    co_handlers: list[str] = strawberry.field(description="Co-handling units (一办三协同).")
    deadline: datetime | None = strawberry.field(
        description="Deadline of the stage whose clock runs (working time); null: none runs."
    )
    handle_deadline: datetime | None
    overdue: bool = strawberry.field(description="Derived: the running deadline has passed.")
    overdue_since: datetime | None = strawberry.field(
        description="The last stage deadline the case missed, as the sweeper recorded it (once "
        "per deadline, kept after the case moves on); null: none missed so far."
    )
    overdue_stage: str | None = strawberry.field(
        description="The stage of that deadline: accept, dispatch, handle or verify."
    )
    rework_count: int
    extension_count: int
    self_handled: bool = strawberry.field(
        description="Found and fixed on the spot by the reporting grid worker (自行处置)."
    )
    satisfaction: SatisfactionType | None  # type: ignore[valid-type]
    merged_into_id: int | None
    reported_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def from_model(cls, m: CaseModel) -> Case:
        return cls(
            model=m,
            id=m.id,
            number=m.number,
            status=CaseStatus(m.status),
            version=m.version,
            description=m.description,
            address=m.address,
            photo_urls=list(m.photo_urls),
            channel=Channel(m.channel),
            location_source=LocationSource(m.location_source),
            accuracy_m=m.accuracy_m,
            routing_reason=RoutingReason(m.routing_reason),
            department=m.department,
            co_handlers=list(m.co_handlers),
            deadline=m.deadline,
            handle_deadline=m.handle_deadline,
            overdue=is_overdue(m),
            overdue_since=m.overdue_since,
            overdue_stage=m.overdue_stage,
            rework_count=m.rework_count,
            extension_count=m.extension_count,
            self_handled=bool(m.self_handled),
            satisfaction=Satisfaction(m.satisfaction) if m.satisfaction else None,
            merged_into_id=m.merged_into_id,
            reported_at=m.reported_at,
            accepted_at=m.accepted_at,
            dispatched_at=m.dispatched_at,
            handled_at=m.handled_at,
            verified_at=m.verified_at,
            closed_at=m.closed_at,
        )

    @strawberry.field(
        description="The running deadline falls in a year whose State Council holiday notice "
        "is not known yet (see workingCalendar's confirmed): it may move when the notice is "
        "entered."
    )
    def deadline_provisional(self) -> bool:
        return is_provisional(self.model)

    @strawberry.field
    def category(self) -> CaseCategory:
        return CaseCategory.of(self.model.category)

    @strawberry.field(description="Where the problem is, in the system asked for.")
    def location(
        self,
        system: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> Point:
        return Point.from_wgs84(case_location(self.model), CoordSystem(system))

    # The relations below answer at once when the list resolver loaded them (api.schema.ready).

    @strawberry.field(description="The routed grid (its ancestors come with it); null: queue.")
    def grid(self, info: Info) -> Grid | None:
        if self.model.grid_id is None:
            return None
        return ready.one(info.context.loaders.cases.grid, self.model.grid_id, _grid)

    @strawberry.field(description="The named grid worker the case was routed to.")
    def assigned_worker(self, info: Info) -> GridWorker | None:
        if self.model.assignee_worker_id is None:
            return None
        worker_id = self.model.assignee_worker_id
        return ready.one(info.context.loaders.cases.worker, worker_id, _worker)

    @strawberry.field(description="Who is handling it (took the START action).")
    def handler(self, info: Info) -> StaffMember | None:
        if self.model.assignee_user_id is None:
            return None
        return ready.one(info.context.loaders.cases.user, self.model.assignee_user_id, _staff)

    @strawberry.field(
        description="The reporter's contact. Private: only staff of the case's grid (grid "
        "workers and agents whose grids hold it, district seats) and the reporter read it; "
        "for everyone else it is null."
    )
    async def reporter_contact(self, info: Info) -> str | None:
        if self.model.reporter_contact is None:
            return None
        if not contact_visible(info.context.actor, await self.scope(info)):
            return None
        return self.model.reporter_contact

    @strawberry.field(description="The latest event.")
    def last_event(self, info: Info) -> CaseEvent | None:
        return ready.one(info.context.loaders.cases.last_event, self.id, self._event)

    def _event(self, event: EventModel | None) -> CaseEvent | None:
        return CaseEvent.from_model(event, self) if event else None

    @strawberry.field(description="Every event, oldest first (caseTrail also verifies them).")
    async def events(self, info: Info) -> list[CaseEvent]:
        return [
            CaseEvent.from_model(e, self)
            for e in await info.context.loaders.cases.events.load(self.id)
        ]

    @strawberry.field(
        description="The actions the caller may take now (role and relation to the case, "
        "from the workflow table); notes, versions and parameters are checked when acting."
    )
    async def allowed_actions(self, info: Info) -> list[CaseActionType]:  # type: ignore[valid-type]
        actor = info.context.actor
        if actor is None:
            return []
        status, scope = CaseStatus(self.model.status), await self.scope(info)
        now, verified_at = utcnow(), self.model.verified_at
        return [
            a
            for a in allowed_actions(status, actor.role)
            if may(actor, a, status, scope)
            and not waits_for_evaluation(a, status, verified_at, now)
        ]

    async def scope(self, info: Info) -> CaseScope:
        """What the access rules need (the grid's path comes through the grid loader)."""
        return await ready.value(self.scope_now(info))

    def scope_now(self, info: Info) -> CaseScope | Awaitable[CaseScope]:
        """:meth:`scope`, at once when the case's grid is loaded (api.schema.ready)."""
        model = self.model

        def build(row: GridRow | None) -> CaseScope:
            path = row.path if row else ()
            return CaseScope(
                path,
                model.department,
                model.reporter_user_id,
                tuple(model.co_handlers or ()),
                case_id=model.id,
                handled_by=model.handled_by_user_id,
                verified_by=model.verified_by_user_id,
            )

        if model.grid_id is None:
            return build(None)
        return ready.one(info.context.loaders.cases.grid, model.grid_id, build)


@strawberry.type
class CaseEdge:
    cursor: str
    node: Case


@strawberry.type(description="A page of cases, newest report first.")
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo


@strawberry.type(description="A case's events and whether their hash chain verifies.")
class CaseTrail:
    case: Case
    events: list[CaseEvent]
    verified: bool = strawberry.field(
        description="True when every event links to the previous one, every hash matches its "
        "event and the last hash is the case's head: nothing was changed, removed or reordered."
    )
    broken_at: int | None = strawberry.field(description="Index of the first bad event.")
    reason: str | None


def _grid(row: GridRow | None) -> Grid | None:
    return Grid.from_row(row) if row else None


def _worker(worker: GridWorkerModel | None) -> GridWorker | None:
    return GridWorker.from_model(worker) if worker else None


def _staff(user: User | None) -> StaffMember | None:
    if user is None:
        return None
    return StaffMember(name=user.name, role=Role(user.role), department=user.department)
