"""`circle cases sweep`: one sweep round now (what every server does each SWEEP_INTERVAL_S):
close the verified cases whose evaluation window has passed, mark missed deadlines."""

from __future__ import annotations

import argparse
import asyncio

from api.cli.trail import trail_keys
from api.cli.users import say
from api.settings import Settings
from api.web.sweeping import Round, sweep_round
from geo.calendar.service import load_calendar
from geo.cases.seal import TrailKeys
from geo.db import make_engine, make_sessionmaker

#: Numbers of closed cases printed at most (the count is always printed).
SHOWN = 20


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cases = commands.add_parser("cases", help="case housekeeping")
    case_commands = cases.add_subparsers(dest="cases_command", required=True)
    case_commands.add_parser(
        "sweep",
        help="close verified cases whose evaluation window has passed; mark missed deadlines",
    ).set_defaults(handler=sweep)


def sweep(settings: Settings, args: argparse.Namespace) -> None:
    keys = trail_keys(settings)
    done = asyncio.run(_round(settings.owner_database(), keys))
    if not done.led:
        say("sweep: another process is sweeping right now; nothing done here")
        return
    numbers = ", ".join(done.closed[:SHOWN]) + (", ..." if len(done.closed) > SHOWN else "")
    say(
        f"sweep: closed {len(done.closed)} unevaluated cases{': ' + numbers if numbers else ''}; "
        f"marked {done.marked_overdue} missed deadlines ({done.seconds:.2f} s)"
    )


async def _round(url: str, keys: TrailKeys) -> Round:
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine, trail_keys=keys)
    try:
        # Evaluation windows count working days: the notices administrators entered first,
        # as a server loads them when it starts.
        async with sessionmaker() as session:
            await load_calendar(session)
        return await sweep_round(sessionmaker)
    finally:
        await engine.dispose()
