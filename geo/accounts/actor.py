"""Who is acting: the :class:`Actor` snapshot and how it answers the workflow's scopes.

Scope rules (:class:`Scope`, which the workflow's table names), decided here and nowhere else:

========== =================================================================================
GRID       a DISTRICT seat: every case, including the unrouted queue (no grid); a DEPARTMENT
           seat: cases dispatched to its department; anyone else: the case's grid lies in
           the subtree of one of the actor's grids (case path ∩ actor grid ids ≠ ∅).
L3_GRID    a grid worker bound to the case's L3 grid itself (the third-level grid worker
           verifies on site; micro-grid workers and community workers do not).
SUPERVISOR a DISTRICT seat (every case, the queue included), or a SUBDISTRICT seat whose
           grids hold the case: they verify what a grid team or a unit handled, and reroute.
PATROL     the grid worker who reported the case, when the case lies in the worker's grids
           (found and fixed on the spot, 自行处置).
DEPARTMENT a HANDLER of the unit the case is dispatched to; a GRID_WORKER when the case went
           to its grid team (no department) and lies in the worker's subtree.
DISTRICT   a DISTRICT agent seat.
REPORTER   the account that reported the case; for a case reported without an account
           (anonymous, hotline relayed for a resident) an agent in GRID scope, who records
           the reporter's answer from a call-back (回访).
ANY        everyone.
========== =================================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from geo.accounts.models import Role, Seat


class Scope(StrEnum):
    """How the actor must relate to the case; the caller resolves it into ``in_scope``."""

    ANY = "any"  # anyone holding the role (unused by the current table)
    REPORTER = "reporter"  # the account that reported the case (for a hotline call: the agent)
    GRID = "grid"  # the case's grid lies under one of the actor's grids; a district seat: all
    L3_GRID = "l3_grid"  # a grid worker whose L3 grid (or a grid under it) holds the case
    DEPARTMENT = "department"  # the case is dispatched to the actor's unit (dept or grid team)
    DISTRICT = "district"  # a district-level agent seat
    SUPERVISOR = "supervisor"  # a district seat, or a subdistrict seat over the case's grid
    PATROL = "patrol"  # the grid worker who reported the case, in whose grids it lies


class Duty(StrEnum):
    """A part an account played in a case that bars it from a later action on the case."""

    HANDLED = "handled"  # reported the case handled (处置)
    VERIFIED = "verified"  # verified the fix on site (核查)


#: Index of the L3 grid in a grid path (district, L1, L2, L3, micro).
L3_DEPTH = 3


@dataclass(frozen=True, slots=True)
class CaseScope:
    """What scope rules need to know about a case."""

    grid_path: tuple[int, ...]  # empty when the case has no grid (district queue)
    department: str | None
    reporter_user_id: int | None
    #: Units co-handling the case (一办三协同): they read it; only the lead unit acts.
    co_handlers: tuple[str, ...] = ()
    case_id: int | None = None
    #: Who reported the case handled, and who verified it (separation of duties).
    handled_by: int | None = None
    verified_by: int | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller: a user's role, seat, unit and grids at authentication time.

    ``grid_ids`` are the roots of the actor's scope; ``grid_paths`` their paths (district →
    grid), in the same order.
    """

    user_id: int | None
    name: str
    role: Role
    grid_ids: tuple[int, ...] = ()
    grid_paths: tuple[tuple[int, ...], ...] = ()
    department: str | None = None
    seat: Seat | None = None
    #: An anonymous reporter who proved the case's private follow code: the reporter of
    #: that one case and of nothing else.
    follows_case_id: int | None = None

    @classmethod
    def follower(cls, case_id: int) -> Actor:
        """The anonymous reporter of ``case_id``, once their follow code is checked."""
        return cls(user_id=None, name="reporter", role=Role.RESIDENT, follows_case_id=case_id)

    @classmethod
    def system(cls) -> Actor:
        """The scheduler: closes cases whose evaluation window has passed."""
        return cls(user_id=None, name="system", role=Role.SYSTEM)

    @property
    def is_district_seat(self) -> bool:
        return self.role is Role.AGENT and self.seat is Seat.DISTRICT

    @property
    def is_staff(self) -> bool:
        """Grid workers, agents, handlers and administrators (not residents, not anonymous)."""
        return self.role in (Role.GRID_WORKER, Role.AGENT, Role.HANDLER, Role.ADMIN)

    def covers(self, grid_path: Sequence[int]) -> bool:
        """True if the grid with this path lies in the subtree of one of the actor's grids."""
        return not set(grid_path).isdisjoint(self.grid_ids)

    def in_scope(self, scope: Scope, case: CaseScope) -> bool:
        """Whether the actor satisfies ``scope`` for ``case`` (table in the module docstring)."""
        match scope:
            case Scope.ANY:
                return True
            case Scope.GRID:
                return self._grid_scope(case)
            case Scope.L3_GRID:
                return self._l3_scope(case)
            case Scope.DEPARTMENT:
                return self._department_scope(case)
            case Scope.DISTRICT:
                return self.is_district_seat
            case Scope.SUPERVISOR:
                return self.is_district_seat or (
                    self.role is Role.AGENT
                    and self.seat is Seat.SUBDISTRICT
                    and self.covers(case.grid_path)
                )
            case Scope.PATROL:
                return (
                    self.user_id is not None
                    and case.reporter_user_id == self.user_id
                    and self.covers(case.grid_path)
                )
            case Scope.REPORTER:
                if self.follows_case_id is not None:  # only an anonymous report has one
                    return case.reporter_user_id is None and case.case_id == self.follows_case_id
                if case.reporter_user_id is not None:
                    return case.reporter_user_id == self.user_id
                return self.role is Role.AGENT and self._grid_scope(case)
        return False

    def duties(self, case: CaseScope) -> frozenset[Duty]:
        """The parts this actor played in ``case`` that bar later actions (Duty)."""
        if self.user_id is None:
            return frozenset()
        held = {Duty.HANDLED: case.handled_by, Duty.VERIFIED: case.verified_by}
        return frozenset(duty for duty, user_id in held.items() if user_id == self.user_id)

    def _grid_scope(self, case: CaseScope) -> bool:
        if self.is_district_seat:
            return True
        if self.role is Role.AGENT and self.seat is Seat.DEPARTMENT:
            return case.department is not None and case.department == self.department
        return self.covers(case.grid_path)

    def _l3_scope(self, case: CaseScope) -> bool:
        if self.role is not Role.GRID_WORKER or len(case.grid_path) <= L3_DEPTH:
            return False
        l3 = case.grid_path[L3_DEPTH]
        return any(len(p) == L3_DEPTH + 1 and p[L3_DEPTH] == l3 for p in self.grid_paths)

    def _department_scope(self, case: CaseScope) -> bool:
        if self.role is Role.HANDLER:
            return case.department is not None and case.department == self.department
        if self.role is Role.GRID_WORKER:
            return case.department is None and self.covers(case.grid_path)
        return False
