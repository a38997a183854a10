"""Planning the demo year: which cases, when, where, by whom, and how each one lives.

Exact figures by construction: ``count`` received cases of which ``closed`` are closed; the
open rest split as synth_data.OPEN_SPLIT (the seed's 28 = 8 still in time + 20 due); the
unsatisfied evaluations sized so that the satisfaction rate rounds to the seed's 99.34 %.

Routing is the service's own: every report is first drafted (place, channel, location
source and accuracy), then all drafts are routed at once by ``route_case`` (a
:class:`Router`), and only then lived. A case goes where the API would have sent it: to its
micro-grid, or to the L3, L2 or L1 grid that holds its whole accuracy circle, with that
grid's worker and reason; one in the agents' queue (COARSE_LOCATION: a NETWORK fix, or a
circle no L1 grid holds) is confirmed by the accepting agent to the grid holding its point
(``route_to_grid``), and lives on from there.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from geo.accounts.actor import Actor
from geo.cases.categories import Channel, LocationSource, Stage, get_case_category
from geo.cases.effects import Lookups
from geo.cases.models import Case
from geo.cases.routing import Routing, RoutingReason
from geo.cases.synth_data import (
    AWAITING,
    CATEGORY_WEIGHTS,
    CHANNEL_WEIGHTS,
    CLOSED_VARIANTS,
    DESCRIPTIONS,
    MERGED_SHARE,
    NETWORK_SHARE,
    OPEN_SPLIT,
    PATROL_CHANNELS,
    REJECTED_SHARE,
    SATISFACTION_TARGET,
    SELF_HANDLED_SHARE,
)
from geo.cases.synth_people import People
from geo.cases.synth_sim import Place, Sim
from geo.cases.synth_story import live_closed, live_merged, live_open, live_rejected
from geo.cases.workflow import CaseStatus
from geo.cases.worktime import SHANGHAI
from geo.coords import LonLat
from geo.points import ewkt

STAFF_CHANNELS = {Channel.COURTYARD_VOICE, Channel.DEPUTY_PROPOSAL, Channel.MEETING_LEDGER}


@dataclass
class Draft:
    """A report before it is lived: where, by which channel, how it was located, and, once
    routed, what ``route_case`` answered for it (and, for a case in the agents' queue that
    will be accepted, what ``route_to_grid`` answers for the grid the agent confirms)."""

    place: Place
    category: str
    channel: Channel
    source: LocationSource
    accuracy_m: float
    routing: Routing | None = None
    confirm: Lookups | None = None


class Router(Protocol):
    """The service's own routing, for many reports at once (geo.cases.synth runs it)."""

    async def route(self, asks: Sequence[tuple[LonLat, float, LocationSource]]) -> list[Routing]:
        """``route_case`` for each (point, accuracy in metres, location source)."""
        ...

    async def confirm(self, grid_codes: Sequence[str]) -> list[Routing]:
        """``route_to_grid`` for each grid: an agent confirming a queued case's grid."""
        ...


@dataclass
class Planner:
    people: People
    rng: random.Random
    until: datetime
    places: Iterator[Place]
    system: Actor
    sims: list[Sim] = field(default_factory=list)

    def moment(self, channel: Channel, days: tuple[float, float]) -> datetime:
        day = (self.until - timedelta(days=self.rng.uniform(*days))).astimezone(SHANGHAI).date()
        if channel in (Channel.PATROL, Channel.QUICK_NOTE):
            hour = self.rng.uniform(8.5, 17.5)
        elif self.rng.random() < 0.05:
            hour = self.rng.uniform(22, 31) % 24  # a few at night
        else:
            hour = self.rng.uniform(7, 22)
        local = datetime.combine(day, time(0), tzinfo=SHANGHAI) + timedelta(hours=hour)
        return min(local, self.until - timedelta(hours=2))

    def reporter(self, channel: Channel, path: tuple[int, ...]) -> Actor | None:
        """Who reports at a place with this (micro-grid) path: the patrolling worker is the
        place's L3 grid worker, a staff channel the place's subdistrict seat."""
        crew = self.people.crew
        if channel is Channel.RESIDENT_APP:
            return self.rng.choice(crew.residents) if self.rng.random() < 0.7 else None
        if channel is Channel.HOTLINE:
            return self.rng.choice(crew.district)
        if channel in STAFF_CHANNELS:
            return crew.subdistrict[path[1]]
        return crew.l3_worker(path)

    def draft(self, place: Place, category: str, channel: Channel, coarse: bool = False) -> Draft:
        source, accuracy = _source(channel, coarse)
        return Draft(place, category, channel, source, accuracy)

    async def route(
        self, router: Router, drafts: Sequence[Draft], *, accepted: Sequence[Draft] = ()
    ) -> None:
        """Routes ``drafts`` and ``accepted`` as ``route_case`` does; the ``accepted`` ones
        that land in the agents' queue also get the grid the agent will confirm: the grid
        holding their point (``point_grid`` in the routing details), as ``route_to_grid``
        answers for it."""
        every = [*accepted, *drafts]
        asks = [(LonLat(d.place.lon, d.place.lat), d.accuracy_m, d.source) for d in every]
        for draft, routing in zip(every, await router.route(asks), strict=True):
            draft.routing = routing
        queued = [d for d in accepted if d.routing and d.routing.grid is None]
        codes = [str(d.routing.details["point_grid"]) for d in queued if d.routing]
        for draft, routing in zip(queued, await router.confirm(codes), strict=True):
            draft.confirm = Lookups(routing=routing)

    def new_sim(self, draft: Draft, at: datetime) -> tuple[Sim, Actor | None]:
        """A reported case of a routed draft with its REPORTED event, as report_case builds
        it (grid, worker, reason and details are route_case's)."""
        place, routing = draft.place, draft.routing
        assert routing is not None, "route the drafts first"
        reporter = self.reporter(draft.channel, place.path) if place.path else None
        channel, category = draft.channel, draft.category
        kind = get_case_category(category)
        grid = routing.grid
        case = Case(
            id=0, number="", category=category, accuracy_m=draft.accuracy_m,
            channel=channel.value, description=self.rng.choice(DESCRIPTIONS[category]),
            location_source=draft.source.value,
            location=ewkt(place.lon, place.lat), address=None,
            photo_urls=[self.photo()] if channel is Channel.RESIDENT_APP else [],
            reporter_user_id=reporter.user_id if reporter else None,
            reporter_contact=self.phone() if reporter is None or channel is Channel.HOTLINE
            else None,
            idempotency_key=None, status=CaseStatus.REPORTED.value, version=1,
            grid_id=grid.id if grid else None, assignee_worker_id=routing.worker_id,
            assignee_user_id=None, department=None, co_handlers=[],
            routing_reason=routing.reason.value, deadline=kind.due(Stage.ACCEPT, at),
            handle_deadline=None, rework_count=0, extension_count=0, postponed=False,
            satisfaction=None, evaluation_count=0, satisfied_count=0, reported_at=at,
            merged_into_id=None, last_event_hash="", handled_by_user_id=None,
            verified_by_user_id=None, self_handled=False, postponed_at=None,
        )  # fmt: skip
        crew = self.people.crew
        if grid is None or self.rng.random() < 0.2:
            agent = self.rng.choice(crew.district)
        else:
            agent = crew.subdistrict[grid.path[1]]
        path = grid.path if grid else ()
        sim = Sim(case, path, crew, self.rng, agent, place, draft.confirm)
        sim.report(reporter, {"routing": routing.reason.value, **routing.details})
        self.sims.append(sim)
        return sim, reporter

    def photo(self) -> str:
        return f"https://oss.example.cn/circle/{self.rng.getrandbits(64):016x}.jpg"

    def phone(self) -> str:
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"


def _source(channel: Channel, coarse: bool) -> tuple[LocationSource, float]:
    if coarse:
        return LocationSource.NETWORK, LocationSource.NETWORK.default_accuracy_m
    if channel in (Channel.RESIDENT_APP, Channel.PATROL, Channel.QUICK_NOTE):
        return LocationSource.GPS, LocationSource.GPS.default_accuracy_m
    return LocationSource.MAP_PICK, 10.0  # staff pick the spot on a map while entering it


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _scaled_split(total: int) -> list[str]:
    seed_total = sum(OPEN_SPLIT.values())
    kinds = [k for k, n in OPEN_SPLIT.items() for _ in range(n)]
    return [kinds[i * seed_total // total] for i in range(total)] if total else []


def _variants(planner: Planner, closed: int) -> list[tuple[str, str, Channel]]:
    """(variant, category, channel) of each closed case.

    Cases a grid worker found on patrol have no resident to evaluate them (only the
    reporting resident, or an agent calling that resident back, evaluates): they close
    unevaluated, and a share of them were fixed on the spot (``self_handled``).
    """
    rng = planner.rng
    plain = 1 - sum(CLOSED_VARIANTS.values())
    picks = [(_pick(rng, CATEGORY_WEIGHTS), _pick(rng, CHANNEL_WEIGHTS)) for _ in range(closed)]
    variants = [_pick(rng, CLOSED_VARIANTS | {"plain": plain}) for _ in range(closed)]
    for i, (_, channel) in enumerate(picks):
        plain_patrol = channel in PATROL_CHANNELS and variants[i] == "plain"
        if plain_patrol and rng.random() < SELF_HANDLED_SHARE:
            variants[i] = "self_handled"
    evaluated = [
        i
        for i, v in enumerate(variants)
        if v not in ("unevaluated", "self_handled") and picks[i][1] not in PATROL_CHANNELS
    ]
    # good / (good + unsatisfied) must round to the target; each unsatisfied case is later
    # evaluated again, satisfied, so `good` is the number of evaluated cases.
    unsatisfied = round(len(evaluated) * (1 / SATISFACTION_TARGET - 1))
    for i in rng.sample(evaluated, min(unsatisfied, len(evaluated))):
        variants[i] = "unsatisfied"
    return [(v, category, channel) for v, (category, channel) in zip(variants, picks, strict=True)]


async def plan_year(
    planner: Planner, router: Router, outside: list[Place], *, count: int, closed: int
) -> list[Sim]:
    """Every demo case, routed by the service's rule and lived; see the module docstring
    for what is exact."""
    rng, until = planner.rng, planner.until
    closing = []
    for variant, category, channel in _variants(planner, closed):
        coarse = channel is Channel.RESIDENT_APP and rng.random() < NETWORK_SHARE
        closing.append((planner.draft(next(planner.places), category, channel, coarse), variant))
    opening = []
    for kind in _scaled_split(count - closed):
        in_time = kind in ("accepted", "dispatched", "in_progress")
        category = _working_time_category(rng) if in_time else _pick(rng, CATEGORY_WEIGHTS)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        opening.append((planner.draft(next(planner.places), category, channel), kind))
    rejected = round(count * REJECTED_SHARE)
    extra = [next(planner.places) for _ in range(rejected - len(outside))]
    rejecting = [_resident_draft(planner, place) for place in outside + extra]
    awaiting = [
        planner.draft(next(planner.places), "sanitation", Channel.RESIDENT_APP)
        for _ in range(AWAITING)
    ]
    accepted = [d for d, _ in closing] + [d for d, _ in opening]
    await planner.route(router, rejecting + awaiting, accepted=accepted)

    for draft, variant in closing:
        _closed_case(planner, draft, variant)
    closed_sims = list(planner.sims)
    for draft, kind in opening:
        # In-time cases are reported 90 minutes before the end: every deadline still ahead.
        in_time = kind in ("accepted", "dispatched", "in_progress")
        at = until - timedelta(minutes=90) if in_time else planner.moment(draft.channel, (20, 40))
        sim, _ = planner.new_sim(draft, at)
        live_open(sim, kind, until)
    for draft in rejecting:
        sim, _ = planner.new_sim(draft, planner.moment(Channel.RESIDENT_APP, (3, 365)))
        live_rejected(sim)
    # Duplicates are reported where a routed (not agent-confirmed) case was reported.
    routed = [t for t in closed_sims if t.case.routing_reason != RoutingReason.CONFIRMED_BY_AGENT]
    await _merged_cases(planner, router, routed, round(count * MERGED_SHARE))
    for draft in awaiting:
        planner.new_sim(draft, until - timedelta(minutes=rng.uniform(5, 40)))
    return planner.sims


def _resident_draft(planner: Planner, place: Place) -> Draft:
    return planner.draft(place, _pick(planner.rng, CATEGORY_WEIGHTS), Channel.RESIDENT_APP)


def _working_time_category(rng: random.Random) -> str:
    names = [c for c in CATEGORY_WEIGHTS if not get_case_category(c).around_the_clock]
    return rng.choice(names)


def _closed_case(planner: Planner, draft: Draft, variant: str) -> None:
    for _ in range(20):  # a case reported too late in the year to close in it: report earlier
        sim, reporter = planner.new_sim(draft, planner.moment(draft.channel, (1, 365)))
        if variant == "self_handled" and not (reporter and reporter.covers(sim.path)):
            # Found on patrol, but routed beyond the worker's grids (a circle only an L2 or
            # L1 grid holds, or the queue): not his to fix on the spot, it goes the plain
            # way (unevaluated either way, so the figures do not move).
            variant = "plain"
        live_closed(sim, variant, reporter=reporter, system=planner.system)
        if sim.clock < planner.until - timedelta(hours=1):
            return
        planner.sims.pop()
    raise AssertionError("no report time lets this case close within the year")


async def _merged_cases(planner: Planner, router: Router, targets: list[Sim], n: int) -> None:
    """``n`` second reports of open cases' problems, each merged into its case by an agent.

    A resident reports again from the spot of the first report (GPS, so it may route
    differently from a first report picked on a map); a duplicate whose merge would come
    after its target closed is withdrawn and drawn again.
    """
    rng = planner.rng
    for _ in range(100):
        if n == 0:
            return
        picks = [rng.choice(targets) for _ in range(n)]
        drafts = [planner.draft(t.place, t.case.category, Channel.RESIDENT_APP) for t in picks]
        await planner.route(router, drafts)
        n = 0
        for target, draft in zip(picks, drafts, strict=True):
            at = target.case.reported_at + timedelta(minutes=rng.uniform(10, 60))
            sim, _ = planner.new_sim(draft, at)
            live_merged(sim, target)
            if target.case.closed_at is None or target.case.closed_at <= sim.clock:
                planner.sims.pop()
                n += 1
    raise AssertionError("no open case to merge a duplicate into")
