"""Case statistics: the evaluation indicators of digital urban management, defined here.

The definitions are the schema's documentation (geo.cases.stats computes them in SQL).
"""

from __future__ import annotations

import strawberry

from api.schema.cases.types import CaseCategory
from api.schema.context import Info
from api.schema.grids.types import Grid
from geo.cases.stats import CaseStats as StatsRow
from geo.cases.stats import GroupBy

POPULATION = (
    "Population: cases reported in [from, to) whose grid lies in the grid's subtree (the "
    "whole district, queued cases included, without a grid), of the category when given. A "
    "subtree holds every level below it, so a figure rolls up through the grid levels. "
    "Closing, being due and deadlines are judged at min(to, now)."
)

GroupByType = strawberry.enum(
    GroupBy,
    name="CaseStatsGroupBy",
    description="CHILD_GRID: one row per grid one level below the grid (without a grid: "
    "below the district, its subdistricts), cases of the grid itself or without a grid in a "
    "row whose childGrid is null; CATEGORY; MONTH (Zhengzhou time).",
)


@strawberry.type(description="The indicators of one group. " + POPULATION)
class CaseStatsRow:
    row: strawberry.Private[StatsRow]
    reported: int = strawberry.field(description="Every report, registered or not.")
    received: int = strawberry.field(
        description="受理/立案数: registered cases (accepted at some point) not merged into "
        "another; a rejected report was never registered."
    )
    due: int = strawberry.field(
        description="应结案数: received cases that should be closed by now: closed, postponed "
        "or shelved, or whose handling deadline or running deadline has passed."
    )
    closed: int = strawberry.field(description="结案数: received cases closed.")
    closed_on_time: int = strawberry.field(
        description="按期结案数: closed, never postponed, reported handled no later than the "
        "handling deadline (extensions move it)."
    )
    self_handled: int = strawberry.field(
        description="自处置: closed cases the reporting grid worker fixed on the spot "
        "(HANDLE_ON_SITE), verified by someone else; inside closed, never evaluated."
    )
    postponed: int = strawberry.field(description="Due cases postponed (缓办) at some point.")
    evaluated: int = strawberry.field(description="Evaluations (a reopened case counts twice).")
    satisfied: int = strawberry.field(description="Evaluations satisfied or basically satisfied.")
    reworked: int = strawberry.field(description="Due cases sent back by a failed check (返工).")
    extended: int = strawberry.field(description="Due cases whose deadline was extended (延期).")
    closure_rate: float | None = strawberry.field(
        description="结案率 = closed / due, a fraction (0.9988 is 99.88 %); null when nothing "
        "is due. Due, not received: that is how the evaluations compute it."
    )
    on_time_closure_rate: float | None = strawberry.field(
        description="按期结案率 = closedOnTime / (due − postponed): postponed cases leave the "
        "denominator, their deadline having been suspended with approval."
    )
    satisfaction_rate: float | None = strawberry.field(
        description="满意率 = satisfied / evaluated, over every evaluation."
    )
    rework_rate: float | None = strawberry.field(description="返工率 = reworked / due.")
    extension_rate: float | None = strawberry.field(description="延期率 = extended / due.")
    mean_hours_to_close: float | None = strawberry.field(
        description="Mean working hours from report to close, closed cases only."
    )
    p90_hours_to_close: float | None = strawberry.field(
        description="90th percentile of working hours from report to close."
    )
    month: str | None = strawberry.field(description="MONTH groups: 'YYYY-MM'.")

    @classmethod
    def from_stats(cls, s: StatsRow) -> CaseStatsRow:
        return cls(
            row=s,
            reported=s.reported,
            received=s.received,
            due=s.due,
            closed=s.closed,
            closed_on_time=s.closed_on_time,
            self_handled=s.self_handled,
            postponed=s.postponed,
            evaluated=s.evaluated,
            satisfied=s.satisfied,
            reworked=s.reworked,
            extended=s.extended,
            closure_rate=s.closure_rate,
            on_time_closure_rate=s.on_time_closure_rate,
            satisfaction_rate=s.satisfaction_rate,
            rework_rate=s.rework_rate,
            extension_rate=s.extension_rate,
            mean_hours_to_close=s.mean_hours_to_close,
            p90_hours_to_close=s.p90_hours_to_close,
            month=s.month.strftime("%Y-%m") if s.month else None,
        )

    @strawberry.field(description="CHILD_GRID groups: the child grid.")
    async def child_grid(self, info: Info) -> Grid | None:
        if self.row.child_grid_id is None:
            return None
        row = await info.context.loaders.grid.load(self.row.child_grid_id)
        return Grid.from_row(row) if row else None

    @strawberry.field(description="CATEGORY groups: the category.")
    def category(self) -> CaseCategory | None:
        return CaseCategory.of(self.row.category) if self.row.category else None


@strawberry.type(description="Case statistics, one row per group (one row when ungrouped).")
class CaseStatsReport:
    grid: Grid | None = strawberry.field(description="The subtree; null: the whole district.")
    group_by: GroupByType | None  # type: ignore[valid-type]
    rows: list[CaseStatsRow]
