"""`circle calendar show YEAR` and `circle calendar set YEAR FILE.json`: the working calendar.

`show` prints where the year's 调休 come from and every day that is not an ordinary one
(holidays, days the notice moved). `set` enters the year's State Council notice from a JSON
file, either a list of days or an object with them::

    {"reference": "国办发明电〔2026〕N号",
     "days": [{"date": "2027-02-09", "working": false, "name": "春节"},
              {"date": "2027-02-20", "working": true, "name": "春节"}]}

Running servers pick the notice up within geo.calendar.service.POLL_SECONDS.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from api.cli.data import DataError
from api.cli.users import say
from api.settings import Settings
from geo.calendar import days, service
from geo.calendar.days import NoticeDay, Source
from geo.db import make_engine, make_sessionmaker

WEEKDAYS = "一二三四五六日"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calendar = commands.add_parser("calendar", help="the working calendar (holidays, 调休)")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", required=True)
    show = calendar_commands.add_parser("show", help="a year's holidays and adjusted days")
    show.add_argument("year", type=int)
    show.set_defaults(handler=_handler(_show))
    enter = calendar_commands.add_parser(
        "set", help="enter a year's State Council notice (recomputes open cases' deadlines)"
    )
    enter.add_argument("year", type=int)
    enter.add_argument("file", type=Path, metavar="FILE.json")
    enter.set_defaults(handler=_handler(_set))


def _handler(work: Any) -> Any:
    def handler(settings: Settings, args: argparse.Namespace) -> None:
        asyncio.run(work(settings.owner_database(), args))

    return handler


async def _show(url: str, args: argparse.Namespace) -> None:
    year: int = args.year
    if not 1901 <= year <= 2099:
        raise DataError("the calendar covers 1901-2099")
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await service.load_calendar(session)
    finally:
        await engine.dispose()
    origin = {
        Source.ADMINISTRATOR: "the notice entered by an administrator",
        Source.PACKAGE: "the notice shipped by chinesecalendar",
        Source.NONE: "no notice yet: statutory holidays and weekends only (provisional)",
    }[days.source(year)]
    say(f"calendar {year}: {origin}")
    shown = days.days_between(date(year, 1, 1), date(year, 12, 31))
    for day in shown:
        if day.holiday is None and not day.adjusted:
            continue
        state = "worked" if day.working else "off"
        adjusted = "  调休" if day.adjusted else ""
        weekday = f"周{WEEKDAYS[day.date.weekday()]}"
        say(f"{day.date} {weekday}  {state:<6} {day.holiday or '-'}{adjusted}")
    say(f"working days: {sum(d.working for d in shown)} of {len(shown)}")


def _read_notice(path: Path) -> tuple[list[NoticeDay], str | None]:
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    except orjson.JSONDecodeError as error:
        raise DataError(f"{path} is not JSON: {error}") from None
    reference = None
    if isinstance(data, dict):
        reference = data.get("reference")
        data = data.get("days")
    if not isinstance(data, list) or (reference is not None and not isinstance(reference, str)):
        raise DataError(f'{path}: expected a list of days or {{"reference": ..., "days": [...]}}')
    listed = []
    for i, entry in enumerate(data):
        try:
            name = entry.get("name")
            if not isinstance(entry["working"], bool) or not isinstance(name, str | None):
                raise TypeError
            listed.append(NoticeDay(date.fromisoformat(entry["date"]), entry["working"], name))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise DataError(
                f'{path}: day {i + 1} is not {{"date": "YYYY-MM-DD", "working": true|false, '
                '"name": ...}'
            ) from None
    return listed, reference


async def _set(url: str, args: argparse.Namespace) -> None:
    listed, reference = _read_notice(args.file)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            entered = await service.enter_notice(
                session,
                args.year,
                listed,
                entered_by="circle calendar set",
                reference=reference,
            )
    except service.InvalidNotice as error:
        raise DataError(f"{args.file}: {error.argument}: {error}") from None
    finally:
        await engine.dispose()
    changed = ", ".join(str(d) for d in entered.changed) or "none"
    say(f"calendar {entered.year}: notice entered, {entered.days} days listed")
    say(f"days changed: {changed}")
    say(f"open cases recomputed: {entered.recomputed}")
    say(f"running servers reload it within {service.POLL_SECONDS:.0f} s")
