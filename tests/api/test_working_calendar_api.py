"""The working calendar through the API and the command line: anyone reads it, an
administrator enters a year's notice, and the open cases' deadlines follow.

The notice used here is made up for the test (the State Council's 2027 notice is not out):
Spring Festival bridged with 9-11 February 2027 off, Saturday 13 February worked.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.schema.context import Context
from geo.calendar import days, service
from geo.cases.worktime import is_workday
from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

CST = timezone(timedelta(hours=8))
CIRCLE = str(Path(__file__).parents[2] / ".venv" / "bin" / "circle")

CALENDAR = """query ($from: Date!, $to: Date!) {
  workingCalendar(from: $from, to: $to) { __typename
    ... on WorkingCalendar { days { date working holiday adjusted confirmed } }
    ... on InvalidArgumentError { message argument } } }"""
SET_YEAR = """mutation ($input: WorkingCalendarYearInput!) { setWorkingCalendarYear(input: $input) {
  __typename
  ... on WorkingCalendarYearSet { year confirmed changedDays recomputedCases }
  ... on InvalidArgumentError { argument }
  ... on Error { message } } }"""
REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  ... on CaseReported { case { id } } } }"""
CASE = """query ($id: Int!) { case(id: $id) {
  ... on Case { deadline handleDeadline deadlineProvisional } } }"""

#: Independently known: the 2027 statutory holidays that fall on weekdays.
WEEKDAY_HOLIDAYS_2027 = {
    "2027-01-01": "元旦",
    "2027-02-05": "春节",  # 除夕
    "2027-02-08": "春节",  # 初三
    "2027-04-05": "清明节",
    "2027-06-09": "端午节",
    "2027-09-15": "中秋节",
    "2027-10-01": "国庆节",
}

NOTICE_2027 = {
    "year": 2027,
    "reference": "测试用通知",
    "days": [
        {"date": "2027-02-09", "working": False, "name": "春节"},
        {"date": "2027-02-10", "working": False, "name": "春节"},
        {"date": "2027-02-11", "working": False, "name": "春节"},
        {"date": "2027-02-13", "working": True, "name": "春节"},
    ],
}


@pytest.fixture(autouse=True)
def no_entered_notices() -> Iterator[None]:
    """The notices are process-wide: none before the test, none left after it."""
    days.install({})
    yield
    days.install({})


async def calendar(client: httpx.AsyncClient, first: str, last: str) -> list[dict[str, Any]]:
    answer = (await gql(client, CALENDAR, **{"from": first, "to": last}))["workingCalendar"]
    assert answer["__typename"] == "WorkingCalendar", answer
    return answer["days"]  # type: ignore[no-any-return]


async def test_anyone_reads_2027_with_its_statutory_holidays(client: httpx.AsyncClient) -> None:
    year = await calendar(client, "2027-01-01", "2027-12-31")
    assert len(year) == 365
    assert not any(day["confirmed"] or day["adjusted"] for day in year)
    by_date = {day["date"]: day for day in year}
    for when, name in WEEKDAY_HOLIDAYS_2027.items():
        assert (by_date[when]["working"], by_date[when]["holiday"]) == (False, name), when
    off_weekdays = {
        d["date"] for d in year if not d["working"] and date.fromisoformat(d["date"]).weekday() < 5
    }
    assert off_weekdays == set(WEEKDAY_HOLIDAYS_2027)
    assert by_date["2027-02-06"] == {
        "date": "2027-02-06",
        "working": False,
        "holiday": "春节",
        "adjusted": False,
        "confirmed": False,
    }


async def test_2026_comes_confirmed_with_its_adjusted_days(client: httpx.AsyncClient) -> None:
    feb = {d["date"]: d for d in await calendar(client, "2026-02-13", "2026-02-24")}
    assert feb["2026-02-14"] == {
        "date": "2026-02-14",
        "working": True,
        "holiday": "春节",
        "adjusted": True,
        "confirmed": True,
    }
    assert [feb[f"2026-02-{d}"]["working"] for d in range(15, 25)] == [False] * 9 + [True]
    assert feb["2026-02-17"]["holiday"] == "春节" and not feb["2026-02-17"]["adjusted"]
    assert feb["2026-02-23"]["adjusted"]  # a Monday off that the law does not give


@pytest.mark.parametrize(
    ("first", "last", "argument"),
    [
        ("2028-01-01", "2029-01-01", "to"),  # 367 days: a leap year and a day
        ("2027-03-01", "2027-02-01", "to"),
        ("1900-12-31", "1901-01-02", "from"),
        ("2099-12-30", "2100-01-01", "to"),
    ],
)
async def test_a_range_it_will_not_answer(
    client: httpx.AsyncClient, first: str, last: str, argument: str
) -> None:
    answer = (await gql(client, CALENDAR, **{"from": first, "to": last}))["workingCalendar"]
    assert answer["__typename"] == "InvalidArgumentError"
    assert answer["argument"] == argument and answer["message"]


async def test_a_leap_year_is_one_call(client: httpx.AsyncClient) -> None:
    assert len(await calendar(client, "2028-01-01", "2028-12-31")) == 366


async def test_only_administrators_enter_a_notice(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await gql(client, SET_YEAR, input=NOTICE_2027)
    assert anonymous["setWorkingCalendarYear"]["__typename"] == "AuthenticationRequiredError"
    for part in ("resident", "district_agent", "l3_worker", "handler"):
        answer = await gql(client, SET_YEAR, getattr(world, part), input=NOTICE_2027)
        assert answer["setWorkingCalendarYear"]["__typename"] == "NotPermittedError", part
    assert not (await calendar(client, "2027-02-13", "2027-02-13"))[0]["confirmed"]


async def _report(client: httpx.AsyncClient, world: World, category: str) -> int:
    report = {"category": category, "description": "测试", "location": point(),
              "locationSource": "GPS"}  # fmt: skip
    answer = await gql(client, REPORT, world.resident, input=report)
    return int(answer["reportCase"]["case"]["id"])


async def _running_deadline(engine: AsyncEngine, case_id: int, due: datetime) -> None:
    """Dispatched, its handling deadline at ``due`` (as if counted before the notice)."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE cases SET status = 'dispatched', deadline = :due, handle_deadline = :due"
                " WHERE id = :id"
            ),
            {"due": due, "id": case_id},
        )


async def _case(client: httpx.AsyncClient, world: World, case_id: int) -> dict[str, Any]:
    return (await gql(client, CASE, world.district_agent, id=case_id))["case"]  # type: ignore[no-any-return]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_entering_a_notice_confirms_the_year_and_moves_open_deadlines(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    # Friday 12 February 2027, 17:00: from Tuesday 9 February (the first day the notice
    # changes) that is 3 days and 6.5 h of working time, which the notice puts at Tuesday
    # 16 February 17:00 (12th: 7 h, Saturday 13th: 7 h, Monday 15th: 7 h, 16th: 6.5 h).
    due = datetime(2027, 2, 12, 17, 0, tzinfo=CST)
    vending = await _report(client, world, "street_vending")
    fire = await _report(client, world, "fire_safety")  # around the clock: no calendar
    for case_id in (vending, fire):
        await _running_deadline(engine, case_id, due)
    before = await _case(client, world, vending)
    assert before["deadlineProvisional"] is True
    assert (await _case(client, world, fire))["deadlineProvisional"] is False

    answer = (await gql(client, SET_YEAR, world.admin, input=NOTICE_2027))["setWorkingCalendarYear"]
    assert answer == {
        "__typename": "WorkingCalendarYearSet",
        "year": 2027,
        "confirmed": True,
        "changedDays": ["2027-02-09", "2027-02-10", "2027-02-11", "2027-02-13"],
        "recomputedCases": 1,
    }
    saturday = (await calendar(client, "2027-02-13", "2027-02-13"))[0]
    assert saturday == {
        "date": "2027-02-13",
        "working": True,
        "holiday": "春节",
        "adjusted": True,
        "confirmed": True,
    }
    after = await _case(client, world, vending)
    moved = datetime(2027, 2, 16, 17, 0, tzinfo=CST)
    assert _instant(after["deadline"]) == moved
    assert _instant(after["handleDeadline"]) == moved
    assert after["deadlineProvisional"] is False
    untouched = await _case(client, world, fire)
    assert _instant(untouched["deadline"]) == due

    # Entering the same notice again changes nothing; withdrawing a day moves it back.
    again = (await gql(client, SET_YEAR, world.admin, input=NOTICE_2027))["setWorkingCalendarYear"]
    assert (again["changedDays"], again["recomputedCases"]) == ([], 0)
    fewer = {**NOTICE_2027, "days": NOTICE_2027["days"][:3]}  # Saturday 13th not worked
    less = (await gql(client, SET_YEAR, world.admin, input=fewer))["setWorkingCalendarYear"]
    assert (less["changedDays"], less["recomputedCases"]) == (["2027-02-13"], 1)
    assert _instant((await _case(client, world, vending))["deadline"]) == datetime(
        2027, 2, 17, 17, 0, tzinfo=CST
    )


@pytest.mark.parametrize(
    ("notice", "argument"),
    [
        ({"year": 2026, "days": []}, "input.year"),  # chinesecalendar ships it
        ({"year": 2100, "days": []}, "input.year"),
        ({"year": 2027, "days": [{"date": "2027-10-01", "working": True}]}, "input.days[0]"),
        ({"year": 2027, "days": [{"date": "2028-01-02", "working": False}]}, "input.days[0]"),
        (
            {"year": 2027, "days": [{"date": "2027-02-09", "working": False}] * 2},
            "input.days[1]",
        ),
        (
            {"year": 2027, "days": [{"date": "2027-02-09", "working": False, "name": "春" * 21}]},
            "input.days[0]",
        ),
    ],
)
async def test_notices_it_refuses(
    client: httpx.AsyncClient, world: World, notice: dict[str, Any], argument: str
) -> None:
    answer = (await gql(client, SET_YEAR, world.admin, input=notice))["setWorkingCalendarYear"]
    assert (answer["__typename"], answer["argument"]) == ("InvalidArgumentError", argument)
    assert not days.is_confirmed(2027)


async def test_a_notice_entered_by_another_process_is_picked_up(context: Context) -> None:
    async with context.sessionmaker() as session:
        assert await service.load_calendar(session) == 0
        assert await service.refresh_calendar(session) is False  # nothing new
    async with context.engine.begin() as conn:  # another server, or `circle calendar set`
        await conn.execute(
            text(
                "INSERT INTO calendar_years (year, entered_at, entered_by)"
                " VALUES (2027, now(), 'x')"
            )
        )
        await conn.execute(
            text("INSERT INTO calendar_days VALUES ('2027-02-13', 2027, true, '春节')")
        )
    assert not days.is_confirmed(2027)
    async with context.sessionmaker() as session:
        assert await service.refresh_calendar(session) is True  # what watch_calendar runs
        assert await service.refresh_calendar(session) is False
    assert days.is_confirmed(2027) and is_workday(date(2027, 2, 13))


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def circle(database_url: str) -> Iterator[Any]:
    env = {**os.environ, "DATABASE_URL": database_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CIRCLE, *args], env=env, capture_output=True, text=True)

    yield run
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE calendar_years CASCADE")


def test_circle_calendar_show_and_set(circle: Any, tmp_path: Path) -> None:
    shown = circle("calendar", "show", "2027")
    assert shown.returncode == 0, shown.stderr
    assert "calendar 2027: no notice yet" in shown.stdout
    assert "2027-02-05 周五  off    春节" in shown.stdout
    assert "working days: 254 of 365" in shown.stdout  # 261 weekdays, 7 holidays among them

    notice = tmp_path / "2027.json"
    notice.write_bytes(orjson.dumps({k: NOTICE_2027[k] for k in ("reference", "days")}))
    entered = circle("calendar", "set", "2027", str(notice))
    assert entered.returncode == 0, entered.stderr
    assert "days changed: 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-13" in entered.stdout
    shown = circle("calendar", "show", "2027")
    assert "the notice entered by an administrator" in shown.stdout
    assert "2027-02-13 周六  worked 春节  调休" in shown.stdout
    assert "working days: 252 of 365" in shown.stdout  # 3 more off, a Saturday worked

    notice.write_bytes(orjson.dumps([{"date": "2027-05-01", "working": True}]))
    refused = circle("calendar", "set", "2027", str(notice))
    assert refused.returncode == 1
    assert "days[0]: 2027-05-01 is 劳动节, a statutory holiday" in refused.stderr
    notice.write_text("[{")
    assert "is not JSON" in circle("calendar", "set", "2027", str(notice)).stderr
    assert "Traceback" not in refused.stderr
