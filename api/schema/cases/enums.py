"""The enums of cases and accounts, exposed from their geo definitions (not copied)."""

from __future__ import annotations

import strawberry

from geo.accounts.models import Role, Seat
from geo.cases.categories import Channel, LocationSource
from geo.cases.routing import RoutingReason
from geo.cases.workflow import Action, CaseStatus, Satisfaction

CaseStatusType = strawberry.enum(
    CaseStatus,
    name="CaseStatus",
    description="Where a case stands in the GB/T 30428 loop: REPORTED 上报, ACCEPTED 立案, "
    "DISPATCHED 已派遣, IN_PROGRESS 处置中, HANDLED 已反馈, VERIFIED 已核查, "
    "EVALUATED 已评价, CLOSED 结案; REJECTED 不予立案, MERGED 合并, ESCALATED 三跨升级, "
    "POSTPONED 缓办, SHELVED 挂账.",
)
CaseActionType = strawberry.enum(
    Action,
    name="CaseAction",
    description="A workflow action. Which role may take it, from which status and in which "
    "relation to the case is one table (geo.cases.workflow.TRANSITIONS); see Case.allowedActions.",
)
RoleType = strawberry.enum(Role, name="Role", description="A user's workflow role.")
SeatType = strawberry.enum(Seat, name="AgentSeat", description="An agent's platform seat (座席).")
SatisfactionType = strawberry.enum(
    Satisfaction, name="Satisfaction", description="满意 / 基本满意 / 不满意."
)
ChannelType = strawberry.enum(
    Channel,
    name="CaseChannel",
    description="How the case came in. Anyone may use RESIDENT_APP; the others are entered "
    "by platform staff (hotline, patrol, quick note, courtyard voice, deputy proposal, ledger).",
)
LocationSourceType = strawberry.enum(
    LocationSource,
    name="LocationSource",
    description="Where the point came from; without accuracyM its default error radius is "
    "assumed: GPS 20 m, NETWORK (cell/Wi-Fi/WeChat fuzzy) 5 km, MAP_PICK 30 m, ADDRESS "
    "100 m, QR_BOARD 50 m.",
)
RoutingReasonType = strawberry.enum(
    RoutingReason,
    name="RoutingReason",
    description="Why the case went where it did: the micro-grid's worker, a worker of a "
    "level above (NO_WORKER_FALLBACK_L3/L2/L1), or the district agents' queue (no worker on "
    "the whole path, OUTSIDE_COVERAGE, COARSE_LOCATION: the location cannot name one "
    "micro-grid); CONFIRMED_BY_AGENT once an agent set the grid when accepting.",
)
