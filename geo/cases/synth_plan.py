"""Planning the demo year: which cases, when, where, by whom, and how each one lives.

Exact figures by construction: ``count`` received cases of which ``closed`` are closed; the
open rest split as synth_data.OPEN_SPLIT (the seed's 28 = 8 still in time + 20 due); the
unsatisfied evaluations sized so that the satisfaction rate rounds to the seed's 99.34 %.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

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
from geo.cases.synth_people import GridInfo, People
from geo.cases.synth_sim import Sim
from geo.cases.synth_story import live_closed, live_merged, live_open, live_rejected
from geo.cases.workflow import CaseStatus
from geo.cases.worktime import SHANGHAI
from geo.grids.queries import GridRow
from geo.points import EWKT_PREFIX, ewkt

STAFF_CHANNELS = {Channel.COURTYARD_VOICE, Channel.DEPUTY_PROPOSAL, Channel.MEETING_LEDGER}


@dataclass(frozen=True, slots=True)
class Place:
    """A reportable point: its micro-grid (None outside) and its routing facts."""

    grid: GridInfo | None
    lon: float
    lat: float
    facts: dict[str, Any]  # what route_case writes besides the reason and accuracy
    worker: tuple[int, str, RoutingReason] | None  # (worker id, name, reason)


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
        crew = self.people.crew
        if channel is Channel.RESIDENT_APP:
            return self.rng.choice(crew.residents) if self.rng.random() < 0.7 else None
        if channel is Channel.HOTLINE:
            return self.rng.choice(crew.district)
        if channel in STAFF_CHANNELS:
            return crew.subdistrict[path[1]]
        return crew.l3[path[3]]

    def new_sim(
        self, place: Place, category: str, channel: Channel, at: datetime, coarse: bool
    ) -> tuple[Sim, Actor | None]:
        """A reported case at ``place`` with its REPORTED event, as report_case builds it."""
        path = place.grid.path if place.grid else ()
        reporter = self.reporter(channel, path) if place.grid else None
        source, accuracy = _source(channel, coarse)
        reason, worker_id, facts = _routing(place, coarse, accuracy)
        kind = get_case_category(category)
        case = Case(
            id=0, number="", category=category, accuracy_m=accuracy, channel=channel.value,
            description=self.rng.choice(DESCRIPTIONS[category]), location_source=source.value,
            location=ewkt(place.lon, place.lat), address=None,
            photo_urls=[self.photo()] if channel is Channel.RESIDENT_APP else [],
            reporter_user_id=reporter.user_id if reporter else None,
            reporter_contact=self.phone() if reporter is None or channel is Channel.HOTLINE
            else None,
            idempotency_key=None, status=CaseStatus.REPORTED.value, version=1,
            grid_id=None if coarse or not place.grid else place.grid.id,
            assignee_worker_id=worker_id, assignee_user_id=None, department=None,
            co_handlers=[], routing_reason=reason.value, deadline=kind.due(Stage.ACCEPT, at),
            handle_deadline=None, rework_count=0, extension_count=0, postponed=False,
            satisfaction=None, evaluation_count=0, satisfied_count=0, reported_at=at,
            merged_into_id=None, last_event_hash="", handled_by_user_id=None,
            verified_by_user_id=None, self_handled=False, postponed_at=None,
        )  # fmt: skip
        crew = self.people.crew
        if case.grid_id is None or self.rng.random() < 0.2:
            agent = self.rng.choice(crew.district)
        else:
            agent = crew.subdistrict[path[1]]
        sim = Sim(case, () if case.grid_id is None else path, crew, self.rng, agent)
        sim.report(reporter, {"routing": reason.value, **facts})
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


def _routing(
    place: Place, coarse: bool, accuracy: float
) -> tuple[RoutingReason, int | None, dict[str, Any]]:
    facts = place.facts | {"accuracy_m": round(accuracy)}
    if place.grid is None:
        return RoutingReason.OUTSIDE_COVERAGE, None, facts
    if coarse:
        return RoutingReason.COARSE_LOCATION, None, facts
    if place.worker is None:
        return RoutingReason.NO_WORKER_DISTRICT_QUEUE, None, facts
    worker_id, name, reason = place.worker
    return reason, worker_id, facts | {"worker": name}


def _confirm(place: Place) -> Lookups:
    """What route_to_grid answers when the agent confirms the place's grid."""
    grid = place.grid
    assert grid is not None
    row = GridRow(grid.id, grid.code, grid.name, grid.level, None, grid.path, {})
    worker_id, name = (place.worker[0], place.worker[1]) if place.worker else (None, None)
    details = {"grid": grid.code} | ({"worker": name} if name else {})
    return Lookups(routing=Routing(RoutingReason.CONFIRMED_BY_AGENT, row, worker_id, details))


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


def plan_year(planner: Planner, outside: list[Place], *, count: int, closed: int) -> list[Sim]:
    """Every demo case, lived; see the module docstring for what is exact."""
    rng, until = planner.rng, planner.until
    for variant, category, channel in _variants(planner, closed):
        _closed_case(planner, variant, category, channel)
    closed_sims = list(planner.sims)
    for kind in _scaled_split(count - closed):
        in_time = kind in ("accepted", "dispatched", "in_progress")
        category = _working_time_category(rng) if in_time else _pick(rng, CATEGORY_WEIGHTS)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        # In-time cases are reported 90 minutes before the end: every deadline still ahead.
        late = until - timedelta(minutes=90)
        at = late if in_time else planner.moment(channel, (20, 40))
        sim, _ = planner.new_sim(next(planner.places), category, channel, at, False)
        live_open(sim, kind, until)
    rejected = round(count * REJECTED_SHARE)
    for place in outside + [next(planner.places) for _ in range(rejected - len(outside))]:
        sim = _simple(planner, place, (3, 365))
        live_rejected(sim)
    # Duplicates are reported where a routed (not agent-confirmed) case was reported.
    routed = [t for t in closed_sims if t.case.routing_reason != RoutingReason.CONFIRMED_BY_AGENT]
    for _ in range(round(count * MERGED_SHARE)):
        _merged_case(planner, routed)
    for _ in range(AWAITING):
        at = until - timedelta(minutes=rng.uniform(5, 40))
        planner.new_sim(next(planner.places), "sanitation", Channel.RESIDENT_APP, at, False)
    return planner.sims


def _simple(planner: Planner, place: Place, days: tuple[float, float]) -> Sim:
    category = _pick(planner.rng, CATEGORY_WEIGHTS)
    at = planner.moment(Channel.RESIDENT_APP, days)
    return planner.new_sim(place, category, Channel.RESIDENT_APP, at, False)[0]


def _working_time_category(rng: random.Random) -> str:
    names = [c for c in CATEGORY_WEIGHTS if not get_case_category(c).around_the_clock]
    return rng.choice(names)


def _closed_case(planner: Planner, variant: str, category: str, channel: Channel) -> None:
    rng = planner.rng
    place = next(planner.places)
    coarse = channel is Channel.RESIDENT_APP and rng.random() < NETWORK_SHARE
    for _ in range(20):  # a case reported too late in the year to close in it: report earlier
        sim, reporter = planner.new_sim(place, category, channel,
                                        planner.moment(channel, (1, 365)), coarse)  # fmt: skip
        live_closed(sim, variant, reporter=reporter, system=planner.system,
                    confirm=_confirm(place) if coarse else None)  # fmt: skip
        if sim.clock < planner.until - timedelta(hours=1):
            return
        planner.sims.pop()
    raise AssertionError("no report time lets this case close within the year")


def _merged_case(planner: Planner, targets: list[Sim]) -> None:
    """A second report of an open case's problem, merged into it by an agent."""
    rng = planner.rng
    for _ in range(100):
        target = rng.choice(targets)
        at = target.case.reported_at + timedelta(minutes=rng.uniform(10, 60))
        sim, _ = planner.new_sim(
            _place_of(target), target.case.category, Channel.RESIDENT_APP, at, False
        )
        live_merged(sim, target)
        if target.case.closed_at is not None and target.case.closed_at > sim.clock:
            return
        planner.sims.pop()
    raise AssertionError("no open case to merge a duplicate into")


def _place_of(sim: Sim) -> Place:
    """The same spot as an existing case (a second resident reporting the same problem)."""
    facts = dict(sim.events[0]["details"])
    for key in ("routing", "accuracy_m", "worker"):
        facts.pop(key, None)
    grid = GridInfo(sim.case.grid_id or 0, facts.get("grid", ""), "", "MICRO", sim.path)
    worker = None
    if sim.case.assignee_worker_id is not None:
        reason = RoutingReason(sim.case.routing_reason)
        name = sim.events[0]["details"].get("worker", "")
        worker = (sim.case.assignee_worker_id, name, reason)
    lon, lat = (float(v) for v in sim.case.location[len(EWKT_PREFIX) : -1].split())
    return Place(grid, lon, lat, facts, worker)
