"""The case workflow: statuses, actions, who may act, as one table (:data:`TRANSITIONS`).

GB/T 30428's closed loop — 立案 register → 派遣 dispatch → 处置 handle → 反馈 report back →
核查 verify → 结案 close → 评价 evaluate — in the order DESIGN.md draws it: as in the seed,
the reporter evaluates once the fix is verified and *before* the case closes, and an
unsatisfied answer sends the case back to dispatch.

Decisions
---------
* One :class:`Transition` per :class:`Action`. ``target=None`` keeps the status (EXTEND).
* EVALUATE has an ``unsatisfied_target``: SATISFIED / BASICALLY_SATISFIED → EVALUATED,
  UNSATISFIED → DISPATCHED (the case is reopened for the same unit, with a new deadline).
* CLOSE from EVALUATED at once, or from VERIFIED once the reporter's evaluation window
  (:data:`EVALUATION_WINDOW_DAYS` working days after verification) has passed without an
  answer — the case then closes *unevaluated*; no satisfaction is invented for the reporter.
* Permission is checked before the status, so an actor who may not act learns nothing about
  the case (:class:`ActionNotPermitted` names only the action).
* ADMIN manages users and grids, not cases: no transition lists it. SYSTEM is never out of
  scope; it only closes cases whose evaluation window has passed.
* The escalated path (三跨, 一办三协同): ESCALATE hands the case to the district centre, which
  then DISPATCHes it to a lead department and co-handlers; that dispatch needs DISTRICT
  scope (``scope_overrides``), every other dispatch GRID scope.
* POSTPONE (缓办) and RESUME are approved by an agent; a resumed case goes back to
  DISPATCHED, its handling deadline moved by the working time it spent postponed (earlier
  extensions kept). SHELVE (挂账) needs a district seat, and a shelved case comes back only
  through REOPEN → ACCEPTED, to be dispatched again.

Separation of duties (GB/T 30428: 核查 is independent of 处置)
------------------------------------------------------------
* ``excludes`` names the :class:`Duty` whose holder may not take the action: the account
  that reported a case handled (REPORT_HANDLED, HANDLE_ON_SITE) never verifies it, and
  nobody who handled or verified it evaluates it. EVALUATE is the reporting resident's (or,
  for a report made without an account, an agent's recording the call-back, or the
  anonymous reporter's with the case's follow code); a grid worker's patrol find has no
  resident to evaluate it and closes unevaluated after the window.
* VERIFY is the case's L3 grid worker's, or a supervising seat's (SUPERVISOR: a district
  seat, or a subdistrict seat over the grid) — so a case without a grid, or one the L3
  worker handled himself, is still verified, by someone else. A department seat does not
  verify its own unit's work.
* HANDLE_ON_SITE (自行处置, "found and fixed"): the grid worker who reported the case, within
  his grids, reports it handled at once with a note; it is counted apart in the statistics
  (``self_handled``) and verified like any other case — by the L3 grid's other staff or a
  supervising seat. Chosen over sampled spot checks: every case is verified, as 结案 needs.

No dead ends
------------
* RETURN is also the seat's in GRID scope (a recall, 撤回): a case sent to a registered unit
  that has no handler account yet comes back to be dispatched again.
* REROUTE (改派网格) moves a routed case before dispatch, with a note, by a SUPERVISOR seat
  whose scope holds the new grid, which must cover the case's point (a district seat: any
  grid, its note the stated reason); ACCEPT with a grid is for queued cases only.
* tests/geo/test_case_loop_model.py explores every reachable (status, case shape, account)
  and checks that some account can always move the case on and that CLOSED stays reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from geo.accounts.actor import Actor, CaseScope, Duty, Scope
from geo.accounts.models import Role
from geo.cases.worktime import add_working_days
from geo.errors import DomainError


class CaseStatus(StrEnum):
    REPORTED = "reported"  # 上报: received, not yet registered
    ACCEPTED = "accepted"  # 立案: registered, waiting to be dispatched
    DISPATCHED = "dispatched"  # 已派遣: sent to a department or grid team, deadline running
    IN_PROGRESS = "in_progress"  # 处置中: the handler has started
    HANDLED = "handled"  # 已反馈: handler reported back, waiting for on-site verification
    VERIFIED = "verified"  # 已核查: fix confirmed on site, waiting for the reporter's evaluation
    EVALUATED = "evaluated"  # 已评价: reporter satisfied or basically satisfied
    CLOSED = "closed"  # 结案
    REJECTED = "rejected"  # 不予立案: not a case for the platform
    MERGED = "merged"  # 合并: duplicate of another case
    ESCALATED = "escalated"  # 三跨升级: district centre leads, waiting for its dispatch
    POSTPONED = "postponed"  # 缓办: handling deferred with approval, clock stopped
    SHELVED = "shelved"  # 挂账: cannot be solved now, kept on the ledger


class Action(StrEnum):
    ACCEPT = "accept"  # 立案
    REJECT = "reject"  # 不予立案
    MERGE = "merge"  # 合并 into another case (details: the surviving case)
    DISPATCH = "dispatch"  # 派遣 (details: unit, co-handlers; sets the deadline)
    RETURN = "return"  # 退回: "not ours"
    START = "start"  # 开始处置
    REPORT_HANDLED = "report_handled"  # 处置反馈
    VERIFY_OK = "verify_ok"  # 核查通过
    VERIFY_FAILED = "verify_failed"  # 核查不通过, 返工
    EXTEND = "extend"  # 延期 (approved by an agent)
    POSTPONE = "postpone"  # 缓办
    RESUME = "resume"  # 恢复办理
    SHELVE = "shelve"  # 挂账
    REOPEN = "reopen"  # 重新启动 a shelved case
    ESCALATE = "escalate"  # 三跨升级
    EVALUATE = "evaluate"  # 评价
    CLOSE = "close"  # 结案
    HANDLE_ON_SITE = "handle_on_site"  # 自行处置: the reporting grid worker fixed it on patrol
    REROUTE = "reroute"  # 改派网格: the case moves to another grid (details: from, to)


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


TERMINAL: Final = frozenset({CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.MERGED})
EVALUATION_WINDOW_DAYS: Final = 3


@dataclass(frozen=True)
class Transition:
    """One row of the workflow table.

    ``scope_overrides`` replaces ``scope`` for the listed sources; ``unsatisfied_target``
    replaces ``target`` for an UNSATISFIED evaluation; from a status in
    ``after_evaluation_window`` the action needs the evaluation window to have passed.
    ``counts_as`` names the statistic an event of this action feeds. ``role_scopes`` gives a
    role a scope of its own (``scope`` is everyone else's); ``excludes`` lists the duties
    (:class:`Duty`) whose holder may not take the action: separation of duties.
    """

    action: Action
    sources: frozenset[CaseStatus]
    target: CaseStatus | None
    roles: frozenset[Role]
    scope: Scope
    needs_note: bool = False
    counts_as: str | None = None
    scope_overrides: tuple[tuple[CaseStatus, Scope], ...] = ()
    unsatisfied_target: CaseStatus | None = None
    after_evaluation_window: frozenset[CaseStatus] = frozenset()
    role_scopes: tuple[tuple[Role, Scope], ...] = ()
    excludes: frozenset[Duty] = frozenset()


def _t(
    action: Action, sources: str, target: str | None, roles: str, scope: Scope, **kw: Any
) -> Transition:
    """Table shorthand: statuses and roles as space-separated member names."""
    return Transition(
        action=action,
        sources=frozenset(CaseStatus[s] for s in sources.split()),
        target=CaseStatus[target] if target else None,
        roles=frozenset(Role[r] for r in roles.split()),
        scope=scope,
        **kw,
    )


_A, _S, _G, _R, _D = Action, CaseStatus, Scope, Role, Duty
_WORKERS = "HANDLER GRID_WORKER"
#: A worker handles, a seat recalls (撤回): a case sent to a unit nobody staffs comes back.
_RETURNERS = "HANDLER GRID_WORKER AGENT"
_SEATS_RECALL = ((_R.AGENT, _G.GRID),)
#: On-site verification: the case's L3 grid worker, or a supervising seat; never its handler.
_VERIFIERS = "GRID_WORKER AGENT"
_VERIFY_SCOPES = ((_R.AGENT, _G.SUPERVISOR),)
_NOT_HANDLER = frozenset({_D.HANDLED})

TRANSITIONS: Final[Mapping[Action, Transition]] = MappingProxyType({
    t.action: t
    for t in (
        _t(_A.ACCEPT, "REPORTED", "ACCEPTED", "AGENT", _G.GRID),
        _t(_A.REJECT, "REPORTED", "REJECTED", "AGENT", _G.GRID, needs_note=True),
        _t(_A.MERGE, "REPORTED ACCEPTED", "MERGED", "AGENT", _G.GRID),
        _t(_A.DISPATCH, "ACCEPTED ESCALATED", "DISPATCHED", "AGENT", _G.GRID,
           scope_overrides=((_S.ESCALATED, _G.DISTRICT),)),
        _t(_A.RETURN, "DISPATCHED", "ACCEPTED", _RETURNERS, _G.DEPARTMENT, needs_note=True,
           counts_as="return", role_scopes=_SEATS_RECALL),
        _t(_A.START, "DISPATCHED", "IN_PROGRESS", _WORKERS, _G.DEPARTMENT),
        _t(_A.REPORT_HANDLED, "IN_PROGRESS", "HANDLED", _WORKERS, _G.DEPARTMENT,
           needs_note=True),
        _t(_A.VERIFY_OK, "HANDLED", "VERIFIED", _VERIFIERS, _G.L3_GRID,
           role_scopes=_VERIFY_SCOPES, excludes=_NOT_HANDLER),
        _t(_A.VERIFY_FAILED, "HANDLED", "DISPATCHED", _VERIFIERS, _G.L3_GRID,
           needs_note=True, counts_as="rework", role_scopes=_VERIFY_SCOPES,
           excludes=_NOT_HANDLER),
        _t(_A.EXTEND, "DISPATCHED IN_PROGRESS", None, "AGENT", _G.GRID, needs_note=True,
           counts_as="extension"),
        _t(_A.POSTPONE, "DISPATCHED IN_PROGRESS", "POSTPONED", "AGENT", _G.GRID,
           needs_note=True, counts_as="postponement"),
        _t(_A.RESUME, "POSTPONED", "DISPATCHED", "AGENT", _G.GRID),
        _t(_A.SHELVE, "ESCALATED DISPATCHED IN_PROGRESS POSTPONED", "SHELVED", "AGENT",
           _G.DISTRICT, needs_note=True, counts_as="shelving"),
        _t(_A.REOPEN, "SHELVED", "ACCEPTED", "AGENT", _G.DISTRICT, needs_note=True),
        _t(_A.ESCALATE, "ACCEPTED DISPATCHED IN_PROGRESS", "ESCALATED", "AGENT", _G.GRID,
           needs_note=True, counts_as="escalation"),
        _t(_A.EVALUATE, "VERIFIED", "EVALUATED", "RESIDENT AGENT", _G.REPORTER,
           unsatisfied_target=_S.DISPATCHED, excludes=frozenset({_D.HANDLED, _D.VERIFIED})),
        _t(_A.CLOSE, "EVALUATED VERIFIED", "CLOSED", "AGENT SYSTEM", _G.GRID,
           after_evaluation_window=frozenset({_S.VERIFIED})),
        _t(_A.HANDLE_ON_SITE, "REPORTED", "HANDLED", "GRID_WORKER", _G.PATROL,
           needs_note=True, counts_as="self_handled"),
        _t(_A.REROUTE, "REPORTED ACCEPTED", None, "AGENT", _G.SUPERVISOR, needs_note=True,
           counts_as="reroute"),
    )
})  # fmt: skip


class IllegalTransition(DomainError):
    """The action exists and the actor may take it, but not from the case's status."""

    def __init__(self, status: CaseStatus, action: Action, allowed: list[Action]) -> None:
        names = ", ".join(_words(a) for a in allowed) or "nothing"
        super().__init__(
            f"cannot {_words(action)} a case that is {_words(status)}; allowed now: {names}"
        )
        self.status, self.action, self.allowed = status, action, allowed


class ActionNotPermitted(DomainError):
    """The actor's role, or its relation to the case, does not allow the action."""

    def __init__(self, role: Role, action: Action, allowed_roles: frozenset[Role]) -> None:
        super().__init__(f"you may not {_words(action)} this case")
        self.role, self.action, self.allowed_roles = role, action, allowed_roles


class DutiesSeparated(ActionNotPermitted):
    """The actor played a part in the case that bars this action (separation of duties)."""

    def __init__(
        self, role: Role, action: Action, allowed_roles: frozenset[Role], duty: Duty
    ) -> None:
        super().__init__(role, action, allowed_roles)
        self.duty = duty
        self.args = (
            f"you may not {_words(action)} this case: you {duty.value} it, and someone "
            "else must certify that work",
        )


class NoteRequired(DomainError):
    """The action needs a non-blank note explaining it."""

    def __init__(self, action: Action) -> None:
        super().__init__(f"{_words(action)} needs a note explaining why")
        self.action = action


class SatisfactionRequired(DomainError):
    """An evaluation without a satisfaction level."""

    def __init__(self) -> None:
        super().__init__("evaluate needs a satisfaction level")


class EvaluationPending(DomainError):
    """Closing a verified case while the reporter may still evaluate it."""

    def __init__(self) -> None:
        super().__init__("cannot close yet: the reporter's evaluation window is still open")


def _words(value: StrEnum) -> str:
    return value.value.replace("_", " ")


def allowed_actions(status: CaseStatus, role: Role | None = None) -> list[Action]:
    """Actions the table allows from ``status`` (for ``role``, or any role), in Action order.

    Scope is not considered: the list says what the role could do to a case in its scope.
    """
    return [
        t.action
        for t in TRANSITIONS.values()
        if status in t.sources and (role is None or role in t.roles)
    ]


def scope_for(action: Action, status: CaseStatus, role: Role | None = None) -> Scope:
    """The scope an actor of ``role`` must satisfy to take ``action`` on a case that is
    ``status``: the role's own scope, else the status override, else the row's scope."""
    transition = TRANSITIONS[action]
    if role is not None and (own := dict(transition.role_scopes).get(role)) is not None:
        return own
    return dict(transition.scope_overrides).get(status, transition.scope)


def may(actor: Actor, action: Action, status: CaseStatus, case: CaseScope) -> bool:
    """Whether the table lets ``actor`` take ``action`` on ``case`` now: role, the role's
    scope for the status (``Actor.in_scope``), and no barring duty (notes and versions
    aside)."""
    row = TRANSITIONS[action]
    if status not in row.sources or actor.role not in row.roles:
        return False
    if actor.role is not Role.SYSTEM and not actor.in_scope(
        scope_for(action, status, actor.role), case
    ):
        return False
    return not (row.excludes & actor.duties(case))


def target_for(
    action: Action, status: CaseStatus, satisfaction: Satisfaction | None = None
) -> CaseStatus:
    """The status after ``action`` from ``status``; raises IllegalTransition if not a source.

    EVALUATE needs ``satisfaction`` (SatisfactionRequired); other actions must not get one.
    """
    transition = TRANSITIONS[action]
    if status not in transition.sources:
        raise IllegalTransition(status, action, allowed_actions(status))
    if transition.unsatisfied_target is None:
        if satisfaction is not None:
            raise ValueError(f"{action} takes no satisfaction level")
        return transition.target or status
    if satisfaction is None:
        raise SatisfactionRequired
    if satisfaction is Satisfaction.UNSATISFIED:
        return transition.unsatisfied_target
    return transition.target or status


def check_permission(
    action: Action, role: Role, *, in_scope: bool, duties: frozenset[Duty] = frozenset()
) -> None:
    """Raises ActionNotPermitted unless ``role`` is in the action's row and (except for
    SYSTEM) ``in_scope``, and DutiesSeparated when the actor holds a duty (``duties``: what
    the actor did on this case) that the row excludes; the first check of
    :func:`check_transition`, usable on its own."""
    transition = TRANSITIONS[action]
    if role not in transition.roles or not (in_scope or role is Role.SYSTEM):
        raise ActionNotPermitted(role, action, transition.roles)
    if barred := transition.excludes & duties:
        raise DutiesSeparated(role, action, transition.roles, min(barred))


def check_transition(
    status: CaseStatus,
    action: Action,
    role: Role,
    *,
    note: str | None,
    in_scope: bool,
    satisfaction: Satisfaction | None = None,
    evaluation_expired: bool = False,
) -> CaseStatus:
    """Returns the new status, or raises the first failure in this order.

    ActionNotPermitted (role not in the row, or ``in_scope`` false for a non-SYSTEM actor;
    ``in_scope`` must answer :func:`scope_for`), IllegalTransition (status not a source),
    NoteRequired (blank note where needed), EvaluationPending (closing a VERIFIED case
    before ``evaluation_expired``), SatisfactionRequired (EVALUATE without a level).
    """
    check_permission(action, role, in_scope=in_scope)
    transition = TRANSITIONS[action]
    if status not in transition.sources:
        raise IllegalTransition(status, action, allowed_actions(status, role))
    if transition.needs_note and not (note and note.strip()):
        raise NoteRequired(action)
    if status in transition.after_evaluation_window and not evaluation_expired:
        raise EvaluationPending
    return target_for(action, status, satisfaction)


def evaluation_expires_at(verified_at: datetime) -> datetime:
    """End of the reporter's evaluation window: EVALUATION_WINDOW_DAYS working days, UTC."""
    return add_working_days(verified_at, EVALUATION_WINDOW_DAYS)


def waits_for_evaluation(
    action: Action, status: CaseStatus, verified_at: datetime | None, now: datetime
) -> bool:
    """True when ``action`` from ``status`` must wait for the reporter's evaluation window
    (opened at ``verified_at``) to pass: what check_transition refuses as EvaluationPending."""
    if status not in TRANSITIONS[action].after_evaluation_window or verified_at is None:
        return False
    return now < evaluation_expires_at(verified_at)


def table_markdown() -> str:
    """The transition table as a Markdown table, one row per action in Action order."""
    rows = [
        "| action | from | to | roles | scope | note | counts as |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows += [_markdown_row(t) for t in TRANSITIONS.values()]
    return "\n".join(rows) + "\n"


def _markdown_row(t: Transition) -> str:
    sources = ", ".join(
        s + (" (after evaluation window)" if s in t.after_evaluation_window else "")
        for s in CaseStatus
        if s in t.sources
    )
    target = t.target or "(unchanged)"
    if t.unsatisfied_target:
        target = f"{target}; unsatisfied: {t.unsatisfied_target}"
    scope = t.scope + "".join(f"; from {s}: {g}" for s, g in t.scope_overrides)
    scope += "".join(f"; {r}: {g}" for r, g in t.role_scopes)
    scope += "".join(f"; not who {d}" for d in Duty if d in t.excludes)
    roles = ", ".join(r for r in Role if r in t.roles)
    cells = (t.action, sources, target, roles, scope, "yes" if t.needs_note else "", t.counts_as)
    return "| " + " | ".join(c or "" for c in cells) + " |"
