"""Tests for geo.cases.workflow: the transition table and its pure checks.

The expectations in the first half are written out by hand from DESIGN.md's diagram and the
decisions in the module docstring, not derived from TRANSITIONS, so a wrong edit of the
table fails here. The exhaustive product test then checks that check_transition agrees
with the table for every (status, action, role).
"""

import itertools
from collections import deque
from datetime import UTC, datetime, timedelta, timezone

import pytest

from geo.accounts.actor import Scope
from geo.accounts.models import Role
from geo.cases.workflow import (
    TERMINAL,
    TRANSITIONS,
    Action,
    ActionNotPermitted,
    CaseStatus,
    EvaluationPending,
    IllegalTransition,
    NoteRequired,
    Satisfaction,
    SatisfactionRequired,
    allowed_actions,
    check_transition,
    evaluation_expires_at,
    scope_for,
    table_markdown,
    target_for,
)
from geo.errors import DomainError

A, S, R = Action, CaseStatus, Role
NOTE = "现场情况说明"
CST = timezone(timedelta(hours=8))


def act(
    status: CaseStatus,
    action: Action,
    role: Role,
    *,
    note: str | None = NOTE,
    in_scope: bool = True,
    satisfaction: Satisfaction | None = None,
    expired: bool = False,
) -> CaseStatus:
    return check_transition(
        status,
        action,
        role,
        note=note,
        in_scope=in_scope,
        satisfaction=satisfaction,
        evaluation_expired=expired,
    )


# --- expectations written by hand ------------------------------------------------------------

ALLOWED_ANY_ROLE = {
    S.REPORTED: {A.ACCEPT, A.REJECT, A.MERGE, A.HANDLE_ON_SITE, A.REROUTE},
    S.ACCEPTED: {A.MERGE, A.DISPATCH, A.ESCALATE, A.REROUTE},
    S.DISPATCHED: {A.RETURN, A.START, A.EXTEND, A.POSTPONE, A.SHELVE, A.ESCALATE},
    S.IN_PROGRESS: {A.REPORT_HANDLED, A.EXTEND, A.POSTPONE, A.SHELVE, A.ESCALATE},
    S.HANDLED: {A.VERIFY_OK, A.VERIFY_FAILED},
    S.VERIFIED: {A.EVALUATE, A.CLOSE},
    S.EVALUATED: {A.CLOSE},
    S.ESCALATED: {A.DISPATCH, A.SHELVE},
    S.POSTPONED: {A.RESUME, A.SHELVE},
    S.SHELVED: {A.REOPEN},
    S.CLOSED: set(),
    S.REJECTED: set(),
    S.MERGED: set(),
}

ALLOWED_FOR_ROLE = {
    (S.REPORTED, R.AGENT): {A.ACCEPT, A.REJECT, A.MERGE, A.REROUTE},
    (S.REPORTED, R.RESIDENT): set(),
    (S.REPORTED, R.GRID_WORKER): {A.HANDLE_ON_SITE},
    (S.ACCEPTED, R.AGENT): {A.MERGE, A.DISPATCH, A.ESCALATE, A.REROUTE},
    (S.ACCEPTED, R.HANDLER): set(),
    (S.DISPATCHED, R.AGENT): {A.RETURN, A.EXTEND, A.POSTPONE, A.SHELVE, A.ESCALATE},
    (S.DISPATCHED, R.HANDLER): {A.RETURN, A.START},
    (S.DISPATCHED, R.GRID_WORKER): {A.RETURN, A.START},
    (S.IN_PROGRESS, R.HANDLER): {A.REPORT_HANDLED},
    (S.IN_PROGRESS, R.AGENT): {A.EXTEND, A.POSTPONE, A.SHELVE, A.ESCALATE},
    (S.HANDLED, R.GRID_WORKER): {A.VERIFY_OK, A.VERIFY_FAILED},
    (S.HANDLED, R.HANDLER): set(),
    (S.HANDLED, R.AGENT): {A.VERIFY_OK, A.VERIFY_FAILED},
    (S.VERIFIED, R.RESIDENT): {A.EVALUATE},
    (S.VERIFIED, R.GRID_WORKER): set(),
    (S.VERIFIED, R.AGENT): {A.EVALUATE, A.CLOSE},
    (S.VERIFIED, R.SYSTEM): {A.CLOSE},
    (S.EVALUATED, R.AGENT): {A.CLOSE},
    (S.EVALUATED, R.SYSTEM): {A.CLOSE},
    (S.EVALUATED, R.RESIDENT): set(),
    (S.ESCALATED, R.AGENT): {A.DISPATCH, A.SHELVE},
    (S.POSTPONED, R.AGENT): {A.RESUME, A.SHELVE},
    (S.POSTPONED, R.HANDLER): set(),
    (S.SHELVED, R.AGENT): {A.REOPEN},
}

# (from, action, to) edges of DESIGN.md's diagram, plus the module's documented additions.
EDGES = [
    (S.REPORTED, A.ACCEPT, S.ACCEPTED),
    (S.REPORTED, A.REJECT, S.REJECTED),
    (S.REPORTED, A.MERGE, S.MERGED),
    (S.ACCEPTED, A.MERGE, S.MERGED),
    (S.ACCEPTED, A.DISPATCH, S.DISPATCHED),
    (S.ACCEPTED, A.ESCALATE, S.ESCALATED),
    (S.ESCALATED, A.DISPATCH, S.DISPATCHED),
    (S.DISPATCHED, A.START, S.IN_PROGRESS),
    (S.DISPATCHED, A.RETURN, S.ACCEPTED),
    (S.DISPATCHED, A.ESCALATE, S.ESCALATED),
    (S.IN_PROGRESS, A.ESCALATE, S.ESCALATED),
    (S.IN_PROGRESS, A.REPORT_HANDLED, S.HANDLED),
    (S.IN_PROGRESS, A.EXTEND, S.IN_PROGRESS),
    (S.DISPATCHED, A.EXTEND, S.DISPATCHED),
    (S.IN_PROGRESS, A.POSTPONE, S.POSTPONED),
    (S.DISPATCHED, A.POSTPONE, S.POSTPONED),
    (S.POSTPONED, A.RESUME, S.DISPATCHED),
    (S.DISPATCHED, A.SHELVE, S.SHELVED),
    (S.IN_PROGRESS, A.SHELVE, S.SHELVED),
    (S.POSTPONED, A.SHELVE, S.SHELVED),
    (S.ESCALATED, A.SHELVE, S.SHELVED),
    (S.SHELVED, A.REOPEN, S.ACCEPTED),
    (S.HANDLED, A.VERIFY_OK, S.VERIFIED),
    (S.HANDLED, A.VERIFY_FAILED, S.DISPATCHED),
    (S.VERIFIED, A.EVALUATE, S.EVALUATED),
    (S.EVALUATED, A.CLOSE, S.CLOSED),
    (S.VERIFIED, A.CLOSE, S.CLOSED),
    (S.REPORTED, A.HANDLE_ON_SITE, S.HANDLED),
    (S.REPORTED, A.REROUTE, S.REPORTED),
    (S.ACCEPTED, A.REROUTE, S.ACCEPTED),
]

NEEDS_NOTE = {
    A.REJECT,
    A.RETURN,
    A.REPORT_HANDLED,
    A.VERIFY_FAILED,
    A.EXTEND,
    A.POSTPONE,
    A.SHELVE,
    A.REOPEN,
    A.ESCALATE,
    A.HANDLE_ON_SITE,
    A.REROUTE,
}

SCOPES = {
    A.ACCEPT: Scope.GRID,
    A.REJECT: Scope.GRID,
    A.MERGE: Scope.GRID,
    A.DISPATCH: Scope.GRID,
    A.RETURN: Scope.DEPARTMENT,
    A.START: Scope.DEPARTMENT,
    A.REPORT_HANDLED: Scope.DEPARTMENT,
    A.VERIFY_OK: Scope.L3_GRID,
    A.VERIFY_FAILED: Scope.L3_GRID,
    A.EXTEND: Scope.GRID,
    A.POSTPONE: Scope.GRID,
    A.RESUME: Scope.GRID,
    A.SHELVE: Scope.DISTRICT,
    A.REOPEN: Scope.DISTRICT,
    A.ESCALATE: Scope.GRID,
    A.EVALUATE: Scope.REPORTER,
    A.CLOSE: Scope.GRID,
    A.HANDLE_ON_SITE: Scope.PATROL,
    A.REROUTE: Scope.SUPERVISOR,
}

COUNTS = {
    A.VERIFY_FAILED: "rework",
    A.EXTEND: "extension",
    A.POSTPONE: "postponement",
    A.RETURN: "return",
    A.ESCALATE: "escalation",
    A.SHELVE: "shelving",
    A.HANDLE_ON_SITE: "self_handled",
    A.REROUTE: "reroute",
}


@pytest.mark.parametrize("status", list(CaseStatus))
def test_allowed_actions_any_role_by_hand(status: CaseStatus) -> None:
    assert set(allowed_actions(status)) == ALLOWED_ANY_ROLE[status]


@pytest.mark.parametrize(("status", "role"), list(ALLOWED_FOR_ROLE))
def test_allowed_actions_per_role_by_hand(status: CaseStatus, role: Role) -> None:
    assert set(allowed_actions(status, role)) == ALLOWED_FOR_ROLE[(status, role)]


def test_allowed_actions_come_in_action_order() -> None:
    assert allowed_actions(S.DISPATCHED, R.AGENT) == [
        A.RETURN,
        A.EXTEND,
        A.POSTPONE,
        A.SHELVE,
        A.ESCALATE,
    ]


def test_admin_takes_no_case_action() -> None:
    assert all(allowed_actions(status, R.ADMIN) == [] for status in CaseStatus)


@pytest.mark.parametrize(("source", "action", "target"), EDGES)
def test_diagram_edges(source: CaseStatus, action: Action, target: CaseStatus) -> None:
    satisfaction = Satisfaction.SATISFIED if action is A.EVALUATE else None
    assert target_for(action, source, satisfaction) is target


def test_edges_by_hand_are_the_whole_table() -> None:
    from_table = {
        (source, action, t.target or source)
        for action, t in TRANSITIONS.items()
        for source in t.sources
    }
    assert from_table == set(EDGES)


def test_notes_scopes_and_counts_by_hand() -> None:
    assert {a for a, t in TRANSITIONS.items() if t.needs_note} == NEEDS_NOTE
    assert {a: t.scope for a, t in TRANSITIONS.items()} == SCOPES
    assert {a: t.counts_as for a, t in TRANSITIONS.items() if t.counts_as} == COUNTS


def test_table_is_one_immutable_row_per_action() -> None:
    assert set(TRANSITIONS) == set(Action)
    assert all(t.action is a for a, t in TRANSITIONS.items())
    with pytest.raises(TypeError):
        TRANSITIONS[A.ACCEPT] = TRANSITIONS[A.REJECT]  # type: ignore[index]


def test_terminal_states_allow_nothing() -> None:
    assert {S.CLOSED, S.REJECTED, S.MERGED} == TERMINAL
    for status, action, role in itertools.product(TERMINAL, Action, Role):
        with pytest.raises((IllegalTransition, ActionNotPermitted)):
            act(status, action, role, satisfaction=_satisfaction_for(action), expired=True)


# --- paths -----------------------------------------------------------------------------------


def run(path: list[tuple[Action, Role, CaseStatus]], start: CaseStatus = S.REPORTED) -> None:
    status = start
    for action, role, expected in path:
        satisfaction = Satisfaction.SATISFIED if action is A.EVALUATE else None
        status = act(status, action, role, satisfaction=satisfaction)
        assert status is expected, (action, role)


def test_happy_path_reported_to_closed() -> None:
    run([
        (A.ACCEPT, R.AGENT, S.ACCEPTED),
        (A.DISPATCH, R.AGENT, S.DISPATCHED),
        (A.START, R.HANDLER, S.IN_PROGRESS),
        (A.REPORT_HANDLED, R.HANDLER, S.HANDLED),
        (A.VERIFY_OK, R.GRID_WORKER, S.VERIFIED),
        (A.EVALUATE, R.RESIDENT, S.EVALUATED),
        (A.CLOSE, R.SYSTEM, S.CLOSED),
    ])  # fmt: skip


def test_rework_path() -> None:
    run(
        [
            (A.VERIFY_FAILED, R.GRID_WORKER, S.DISPATCHED),
            (A.START, R.GRID_WORKER, S.IN_PROGRESS),
            (A.REPORT_HANDLED, R.GRID_WORKER, S.HANDLED),
            (A.VERIFY_OK, R.GRID_WORKER, S.VERIFIED),
        ],
        start=S.HANDLED,
    )
    assert TRANSITIONS[A.VERIFY_FAILED].counts_as == "rework"


def test_escalation_postponement_shelving_paths() -> None:
    run([
        (A.ACCEPT, R.AGENT, S.ACCEPTED),
        (A.ESCALATE, R.AGENT, S.ESCALATED),
        (A.DISPATCH, R.AGENT, S.DISPATCHED),
        (A.EXTEND, R.AGENT, S.DISPATCHED),
        (A.START, R.HANDLER, S.IN_PROGRESS),
        (A.POSTPONE, R.AGENT, S.POSTPONED),
        (A.RESUME, R.AGENT, S.DISPATCHED),
        (A.SHELVE, R.AGENT, S.SHELVED),
        (A.REOPEN, R.AGENT, S.ACCEPTED),
        (A.DISPATCH, R.AGENT, S.DISPATCHED),
        (A.RETURN, R.HANDLER, S.ACCEPTED),
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("satisfaction", "target"),
    [
        (Satisfaction.SATISFIED, S.EVALUATED),
        (Satisfaction.BASICALLY_SATISFIED, S.EVALUATED),
        (Satisfaction.UNSATISFIED, S.DISPATCHED),
    ],
)
def test_evaluation_outcomes(satisfaction: Satisfaction, target: CaseStatus) -> None:
    assert act(S.VERIFIED, A.EVALUATE, R.RESIDENT, satisfaction=satisfaction) is target


def test_unsatisfied_reopens_and_can_close_after_rework() -> None:
    status = act(S.VERIFIED, A.EVALUATE, R.RESIDENT, satisfaction=Satisfaction.UNSATISFIED)
    run(
        [
            (A.START, R.HANDLER, S.IN_PROGRESS),
            (A.REPORT_HANDLED, R.HANDLER, S.HANDLED),
            (A.VERIFY_OK, R.GRID_WORKER, S.VERIFIED),
            (A.EVALUATE, R.RESIDENT, S.EVALUATED),
            (A.CLOSE, R.AGENT, S.CLOSED),
        ],
        start=status,
    )


def test_graph_every_status_reachable_and_every_open_case_closable() -> None:
    edges = {(src, dst) for src, _, dst in EDGES} | {(S.VERIFIED, S.DISPATCHED)}

    def reach(start: CaseStatus, forward: bool) -> set[CaseStatus]:
        seen, todo = {start}, deque([start])
        while todo:
            here = todo.popleft()
            for a, b in edges:
                nxt = b if forward else a
                if (a if forward else b) is here and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert reach(S.REPORTED, forward=True) == set(CaseStatus)
    assert reach(S.CLOSED, forward=False) == set(CaseStatus) - {S.REJECTED, S.MERGED}


# --- the checks' rules -----------------------------------------------------------------------


@pytest.mark.parametrize("note", [None, "", "   \n"])
def test_blank_note_refused_where_required(note: str | None) -> None:
    with pytest.raises(NoteRequired, match=r"^verify failed needs a note explaining why$"):
        act(S.HANDLED, A.VERIFY_FAILED, R.GRID_WORKER, note=note)
    assert act(S.HANDLED, A.VERIFY_OK, R.GRID_WORKER, note=note) is S.VERIFIED


def test_illegal_transition_message_names_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as caught:
        act(S.REPORTED, A.DISPATCH, R.AGENT)
    assert str(caught.value) == (
        "cannot dispatch a case that is reported; allowed now: accept, reject, merge, reroute"
    )
    assert caught.value.allowed == [A.ACCEPT, A.REJECT, A.MERGE, A.REROUTE]
    with pytest.raises(IllegalTransition, match=r"in progress; allowed now: report handled$"):
        act(S.IN_PROGRESS, A.START, R.HANDLER)


def test_not_permitted_reveals_only_the_action() -> None:
    for role, in_scope in [(R.RESIDENT, True), (R.AGENT, False)]:
        with pytest.raises(ActionNotPermitted) as caught:
            act(S.CLOSED, A.DISPATCH, role, in_scope=in_scope)
        assert str(caught.value) == "you may not dispatch this case"


def test_system_is_never_out_of_scope() -> None:
    assert act(S.EVALUATED, A.CLOSE, R.SYSTEM, in_scope=False) is S.CLOSED


def test_closing_unevaluated_needs_the_window_to_have_passed() -> None:
    with pytest.raises(EvaluationPending):
        act(S.VERIFIED, A.CLOSE, R.SYSTEM)
    assert act(S.VERIFIED, A.CLOSE, R.SYSTEM, expired=True) is S.CLOSED
    assert act(S.EVALUATED, A.CLOSE, R.AGENT, expired=False) is S.CLOSED


def test_evaluation_needs_a_level_and_only_evaluation_takes_one() -> None:
    with pytest.raises(SatisfactionRequired):
        act(S.VERIFIED, A.EVALUATE, R.RESIDENT)
    with pytest.raises(ValueError, match="takes no satisfaction"):
        act(S.REPORTED, A.ACCEPT, R.AGENT, satisfaction=Satisfaction.SATISFIED)


def test_scope_for_escalated_dispatch_is_district() -> None:
    assert scope_for(A.DISPATCH, S.ESCALATED) is Scope.DISTRICT
    assert scope_for(A.DISPATCH, S.ACCEPTED) is Scope.GRID
    assert scope_for(A.VERIFY_OK, S.HANDLED) is Scope.L3_GRID


def test_errors_are_domain_errors() -> None:
    for error in (
        IllegalTransition,
        ActionNotPermitted,
        NoteRequired,
        SatisfactionRequired,
        EvaluationPending,
    ):
        assert issubclass(error, DomainError)


def test_evaluation_window_is_three_working_days() -> None:
    # Verified Tue 2025-09-30; working days after it: Thu 10-09, Fri 10-10, Sat 10-11 (调休).
    verified = datetime(2025, 9, 30, 10, 0, tzinfo=CST)
    assert evaluation_expires_at(verified) == datetime(2025, 10, 11, 17, 30, tzinfo=CST)
    assert evaluation_expires_at(verified).tzinfo is UTC


def test_table_markdown_has_a_row_per_action() -> None:
    lines = table_markdown().splitlines()
    assert len(lines) == 2 + len(Action)
    assert (
        "| verify_failed | handled | dispatched | grid_worker, agent "
        "| l3_grid; agent: supervisor; not who handled | yes | rework |" in lines
    )
    assert any(
        line.startswith("| evaluate |") and "unsatisfied: dispatched" in line for line in lines
    )


# --- exhaustive agreement with the table -----------------------------------------------------


def _satisfaction_for(action: Action) -> Satisfaction | None:
    return Satisfaction.BASICALLY_SATISFIED if action is A.EVALUATE else None


def _expected(
    status: CaseStatus, action: Action, role: Role, note: str | None, in_scope: bool
) -> CaseStatus | type[DomainError]:
    row = TRANSITIONS[action]
    if role not in row.roles or not (in_scope or role is R.SYSTEM):
        return ActionNotPermitted
    if status not in row.sources:
        return IllegalTransition
    if row.needs_note and not note:
        return NoteRequired
    return row.target or status


@pytest.mark.parametrize(("note", "in_scope"), list(itertools.product([NOTE, None], [True, False])))
def test_every_status_action_role_agrees_with_the_table(note: str | None, in_scope: bool) -> None:
    for status, action, role in itertools.product(CaseStatus, Action, Role):
        expected = _expected(status, action, role, note, in_scope)
        call = {"note": note, "in_scope": in_scope, "expired": True}
        if isinstance(expected, CaseStatus):
            got = act(status, action, role, satisfaction=_satisfaction_for(action), **call)
            assert got is expected, (status, action, role)
            continue
        with pytest.raises(expected) as caught:
            act(status, action, role, satisfaction=_satisfaction_for(action), **call)
        if expected is IllegalTransition:
            assert caught.value.allowed == allowed_actions(status, role)
            assert action not in caught.value.allowed
