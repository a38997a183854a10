"""Who may do what: the one place where the API's access rules live.

The case workflow keeps its own rules where they are enforced, in one table: which roles may
take each action, from which status, and in which relation to the case (geo.cases.workflow's
TRANSITIONS, scopes resolved by geo.accounts.actor). Everything else is decided here.

=========================  ====================================================================
operation                  who
=========================  ====================================================================
reportCase                 anyone, anonymous included (staff-only channels: geo.cases.reporting)
followedCase,              anyone holding the case's number and follow code (an anonymous
evaluateCase               reporter's; geo.cases.follow): evaluating as that case's reporter
case, caseTrail            a signed-in user who may see the case (:func:`case_visibility`)
cases, grid.cases          a signed-in user; the list holds the cases of their scope only
actOnCase                  a signed-in user; the workflow table decides, and an actor who may
                           not even see the case is told it was not found
caseStats, grid.caseStats  staff (grid workers, agents, handlers, administrators); grid workers
                           and subdistrict seats for grids in their own subtree only
ledgerItems,               staff of the grid or above it, and district seats
recordLedgerItem,          (geo.cases.ledger.may_keep_ledger); an item outside the caller's
convertLedgerItem,         grids answers NotFound
settleLedgerItem
viewer, caseCategories     anyone
grids, gridAt, merchants,  anyone, anonymous included (public information; lists are paged
nearby*, serviceCircle,    and capped, see api.web.cost for the cost limit)
circle, merchant, ...
importGrids                administrators
create/update/close        administrators
merchants, service points
create/retireCircleCode    administrators
users, createUser,         administrators
deactivateUser,
issueToken, revokeToken
workingCalendar            anyone, anonymous included
setWorkingCalendarYear     administrators (and `circle calendar set`)
=========================  ====================================================================

Writes are rate-limited: anonymous reports per client address, signed-in writes per
account (api.schema.limits, one budget across server processes).

Grid workers' names and phones are for the grid a caller asks about: a resident finds the
worker of the grid at a point (gridAt) or of a code (grid(code)). Staff (grid workers,
agents, handlers, administrators) see ``Grid.workers`` on every grid; anyone else only on a
grid they looked up, at most :data:`WORKER_LOOKUPS_PER_REQUEST` a request (aliases are no
way round), and an empty list on grids reached through lists (grids, children, ancestors,
a case's or a merchant's grid). A reporter reads the worker their own case was routed to.

Possible duplicates of a report: everyone learns whether similar open cases are nearby
(``similarCasesNearby``); the cases themselves (id, number, status) are listed only to
callers who may see them (:func:`case_visibility`), so never to anonymous callers.

An idempotent retry of a report answers the full case only to its signed-in reporter; a
caller who cannot be told apart from a stranger (anonymous) gets ``CaseAlreadyReported``,
the number and time of the report the first answer gave, and nothing the case became since.

Administrators read every case but take no workflow action and keep no ledger: they manage
the system, the case staff handle the cases (tests/api/test_permission_matrix.py has the
whole role x operation table).

Case visibility: the account that reported a case sees it; district seats and administrators
see every case; subdistrict seats and grid workers the cases in their grids' subtrees;
department seats and handlers the cases dispatched to their unit, as lead or co-handler
(co-handlers read; the workflow table lets only the lead unit act); residents only their own.
Lists apply the same rule as the single read (:class:`CaseVisibility`, one rule in two
forms): a staff member's own reports outside their scope are listed too.

The reporter's contact is private: only staff of the case's grid (grid workers and agents
whose grids hold it, district seats) and the reporter see it; everyone else reads null.

Refusals are typed errors that never tell whether an object exists: a case the caller may
not see answers exactly as a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from api.schema.context import Context, Info
from geo.accounts.actor import Actor, CaseScope
from geo.accounts.models import Role, Seat
from geo.cases.ledger import may_keep_ledger
from geo.errors import DomainError

STAFF = frozenset({Role.GRID_WORKER, Role.AGENT, Role.HANDLER, Role.ADMIN})
#: Looked-up grids a request may show the workers of, to callers who are not staff.
WORKER_LOOKUPS_PER_REQUEST = 2


class Permission(StrEnum):
    REPORT_CASE = "cases:report"
    READ_CASES = "cases:read"
    ACT_ON_CASES = "cases:act"
    READ_CASE_STATS = "cases:stats"
    KEEP_LEDGER = "ledger:keep"
    WRITE_GRIDS = "grids:write"
    WRITE_PLACES = "places:write"  # merchants and service points
    WRITE_CIRCLE_CODES = "circle_codes:write"
    MANAGE_USERS = "users:manage"
    WRITE_CALENDAR = "calendar:write"  # enter a year's State Council holiday notice


ADMINS = frozenset({Role.ADMIN})

#: Roles allowed to call an operation at all (None: anyone, anonymous included). Object
#: rules (which case, which grid) come on top, in the functions below. Every Permission is
#: listed (a test checks); asking for anything else is a programming error (KeyError), so a
#: forgotten entry fails closed.
ROLES: dict[Permission, frozenset[Role] | None] = {
    Permission.REPORT_CASE: None,
    Permission.READ_CASES: frozenset(Role),
    Permission.ACT_ON_CASES: frozenset(Role),  # the workflow table names the roles per action
    Permission.READ_CASE_STATS: STAFF,
    Permission.KEEP_LEDGER: STAFF,
    Permission.WRITE_GRIDS: ADMINS,
    Permission.WRITE_PLACES: ADMINS,
    Permission.WRITE_CIRCLE_CODES: ADMINS,
    Permission.MANAGE_USERS: ADMINS,
    Permission.WRITE_CALENDAR: ADMINS,
}


class AuthenticationRequired(DomainError):
    def __init__(self) -> None:
        super().__init__("this needs an account: send 'Authorization: Bearer <token>'")


class NotPermitted(DomainError):
    def __init__(self, message: str = "your role or your grids do not allow this") -> None:
        super().__init__(message)


def refusal(actor: Actor | None, permission: Permission) -> DomainError | None:
    """Why ``actor`` may not call ``permission``'s operations, or None when it may."""
    roles = ROLES[permission]
    if roles is None:
        return None
    if actor is None:
        return AuthenticationRequired()
    return None if actor.role in roles else NotPermitted()


def signed_in(info: Info) -> Actor:
    """The caller; raises AuthenticationRequired for an anonymous one."""
    if info.context.actor is None:
        raise AuthenticationRequired
    return info.context.actor


def require(info: Info, permission: Permission) -> Actor:
    """The caller, signed in and allowed ``permission``'s operations; raises the refusal (a
    typed error of the operation's result) otherwise."""
    if refused := refusal(info.context.actor, permission):
        raise refused
    return signed_in(info)


@dataclass(frozen=True, slots=True)
class CaseVisibility:
    """Which cases an actor sees, as a predicate and as list criteria (one rule, two forms)."""

    everything: bool = False
    grid_ids: tuple[int, ...] = ()
    department: str | None = None
    reporter_user_id: int | None = None

    def admits(self, case: CaseScope) -> bool:
        if self.reporter_user_id is not None and case.reporter_user_id == self.reporter_user_id:
            return True
        if self.everything:
            return True
        if self.department is not None:
            return case.department == self.department or self.department in case.co_handlers
        return not set(case.grid_path).isdisjoint(self.grid_ids)

    def criteria(self) -> dict[str, Any] | None:
        """geo.cases.queries.CaseFilter fields admitting what :meth:`admits` admits;
        None: no case at all."""
        if self.everything:
            return {}
        scope: dict[str, Any] = {}
        if self.department is not None:
            scope = {"department": self.department}
        elif self.grid_ids:
            scope = {"grid_ids": self.grid_ids}
        if self.reporter_user_id is None:
            return scope or None
        if not scope:
            return {"reporter_user_id": self.reporter_user_id}
        return scope | {"also_reported_by": self.reporter_user_id}


def case_visibility(actor: Actor | None) -> CaseVisibility:
    """The cases ``actor`` may read (see the module docstring)."""
    if actor is None:
        return CaseVisibility()
    own = actor.user_id
    if actor.role in (Role.ADMIN, Role.SYSTEM) or actor.is_district_seat:
        return CaseVisibility(everything=True, reporter_user_id=own)
    if actor.role is Role.HANDLER or actor.seat is Seat.DEPARTMENT:
        return CaseVisibility(department=actor.department or "", reporter_user_id=own)
    if actor.role in (Role.GRID_WORKER, Role.AGENT):
        return CaseVisibility(grid_ids=actor.grid_ids, reporter_user_id=own)
    return CaseVisibility(reporter_user_id=own)


def workers_visible(context: Context, *, looked_up: bool) -> bool:
    """Whether a grid's workers are shown to the caller (see the module docstring); counts
    the looked-up grids shown so far in this request."""
    actor = context.actor
    if actor is not None and actor.role in STAFF:
        return True
    if not looked_up:
        return False
    context.worker_lookups += 1
    return context.worker_lookups <= WORKER_LOOKUPS_PER_REQUEST


def contact_visible(actor: Actor | None, case: CaseScope) -> bool:
    """Whether ``actor`` may read the reporter's contact of ``case``."""
    if actor is None:
        return False
    if case.reporter_user_id is not None and case.reporter_user_id == actor.user_id:
        return True
    if actor.role not in (Role.GRID_WORKER, Role.AGENT) or actor.seat is Seat.DEPARTMENT:
        return False
    return actor.is_district_seat or actor.covers(case.grid_path)


def stats_refusal(actor: Actor | None, grid_path: Sequence[int] | None) -> DomainError | None:
    """Why ``actor`` may not read statistics of the grid with ``grid_path`` (None: the whole
    district), or None."""
    refused = refusal(actor, Permission.READ_CASE_STATS)
    if refused is not None or actor is None:
        return refused
    bound = actor.role is Role.GRID_WORKER or actor.seat is Seat.SUBDISTRICT
    if bound and (grid_path is None or not actor.covers(grid_path)):
        return NotPermitted("statistics of grids outside your own are not yours to read")
    return None


def ledger_refusal(actor: Actor | None, grid_path: Sequence[int]) -> DomainError | None:
    """Why ``actor`` may not keep or read the ledger of the grid with ``grid_path``, or None."""
    refused = refusal(actor, Permission.KEEP_LEDGER)
    if refused is not None or actor is None:
        return refused
    return None if may_keep_ledger(actor, grid_path) else NotPermitted()
