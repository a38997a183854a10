"""Account subcommands of `circle`: user add/list, token issue/revoke, unit add/list/retire.

Tokens are printed once, when issued; the database keeps only their hash. A token is named
by its public prefix (the 10 hex digits after `circle_`), which `token issue` and `user list`
show and `token revoke` takes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.cli.data import DataError
from api.settings import Settings
from geo.accounts.models import Role, Seat
from geo.accounts.service import create_user, list_users
from geo.accounts.tokens import MAX_TOKEN_TTL, issue_token, revoke_token
from geo.accounts.units import list_units, register_units, retire_unit
from geo.db import make_engine, make_sessionmaker
from geo.errors import DomainError
from geo.grids.queries import get_grid

ROLES = [r.name for r in Role if r is not Role.SYSTEM]
SEATS = [s.name for s in Seat]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="users with a workflow role")
    users = user.add_subparsers(dest="user_command", required=True)
    add = users.add_parser("add", help="create a user")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES, type=str.upper)
    add.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="CODE",
        help="a grid the user is bound to (repeatable): its subtree is the scope",
    )
    add.add_argument("--department", help="the unit of a HANDLER or of a DEPARTMENT seat")
    add.add_argument("--seat", choices=SEATS, type=str.upper, help="an AGENT's seat")
    add.add_argument("--phone")
    add.set_defaults(handler=_run(_add_user))
    users.add_parser("list", help="list users").set_defaults(handler=_run(_list_users))

    token = commands.add_parser("token", help="API bearer tokens")
    tokens = token.add_subparsers(dest="token_command", required=True)
    issue = tokens.add_parser("issue", help="issue a token for a user (printed once)")
    issue.add_argument("user", type=int, metavar="USER_ID")
    issue.add_argument(
        "--days", type=float, default=30.0, help=f"lifetime in days (at most {MAX_TOKEN_TTL.days})"
    )
    issue.add_argument("--label", help="what the token is for")
    issue.set_defaults(handler=_run(_issue))
    revoke = tokens.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token", metavar="TOKEN_ID", help="the token's prefix (or the token)")
    revoke.set_defaults(handler=_run(_revoke))

    unit = commands.add_parser("unit", help="registered units (departments cases go to)")
    units = unit.add_subparsers(dest="unit_command", required=True)
    add_unit = units.add_parser("add", help="register units (or reactivate retired ones)")
    add_unit.add_argument("names", nargs="+", metavar="NAME")
    add_unit.set_defaults(handler=_run(_add_units))
    listed = units.add_parser("list", help="list units")
    listed.add_argument("--all", action="store_true", help="retired ones too")
    listed.set_defaults(handler=_run(_list_units))
    retire = units.add_parser("retire", help="retire a unit: no new dispatch to it")
    retire.add_argument("name", metavar="NAME")
    retire.set_defaults(handler=_run(_retire_unit))


def _run(
    work: Callable[[AsyncSession, argparse.Namespace], Awaitable[None]],
) -> Callable[[Settings, argparse.Namespace], None]:
    """A handler running ``work`` in one committed transaction; domain refusals are one line."""

    async def once(url: str, args: argparse.Namespace) -> None:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine).begin() as session:
                await work(session, args)
        except DomainError as error:
            raise DataError(str(error)) from None
        finally:
            await engine.dispose()

    def handler(settings: Settings, args: argparse.Namespace) -> None:
        asyncio.run(once(settings.owner_database(), args))

    return handler


async def _add_user(session: AsyncSession, args: argparse.Namespace) -> None:
    grid_ids = []
    for code in args.grid:
        row = await get_grid(session, code)
        if row is None:
            raise DataError(f"no grid has the code {code}")
        grid_ids.append(row.id)
    user = await create_user(
        session,
        name=args.name,
        role=Role[args.role],
        phone=args.phone,
        department=args.department,
        seat=Seat[args.seat] if args.seat else None,
        grid_ids=grid_ids,
    )
    scope = f"; grids {', '.join(args.grid)}" if args.grid else ""
    say(f"user: {user.id} {user.name} ({_role(user.role, user.seat, user.department)}{scope})")


async def _list_users(session: AsyncSession, args: argparse.Namespace) -> None:
    rows = await list_users(session)
    for row in rows:
        u = row.user
        grids = ",".join(row.grid_codes) or "-"
        state = "active" if u.active else "inactive"
        role = _role(u.role, u.seat, u.department)
        say(f"{u.id:>6}  {u.name:<20} {role:<32} grids {grids}  {state}, {row.live_tokens} tokens")
    say(f"users: {len(rows)}")


async def _issue(session: AsyncSession, args: argparse.Namespace) -> None:
    days = args.days
    if not 0 < days <= MAX_TOKEN_TTL.days:
        raise DataError(f"--days must be more than 0 and at most {MAX_TOKEN_TTL.days}")
    plaintext, token = await issue_token(
        session, user_id=args.user, ttl=timedelta(days=days), label=args.label
    )
    say(f"token: {plaintext}")
    expires = token.expires_at.isoformat(timespec="seconds")
    say(f"token id {token.prefix} for user {args.user}, expires {expires}")
    say("Shown once: only its hash is stored. Send it as 'Authorization: Bearer <token>'.")


async def _revoke(session: AsyncSession, args: argparse.Namespace) -> None:
    given: str = args.token
    prefix = given.split("_")[1] if given.startswith("circle_") and given.count("_") >= 2 else given
    token = await revoke_token(session, prefix=prefix)
    revoked = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "?"
    say(f"token {token.prefix} revoked ({revoked})")


def _role(role: str, seat: str | None, department: str | None) -> str:
    return role + (f", {seat} seat" if seat else "") + (f", {department}" if department else "")


async def _add_units(session: AsyncSession, args: argparse.Namespace) -> None:
    for registered in await register_units(session, args.names):
        say(f"unit: {registered.name}")


async def _list_units(session: AsyncSession, args: argparse.Namespace) -> None:
    found = await list_units(session, include_retired=args.all)
    for listed in found:
        say(f"{listed.name}{'' if listed.active else '  (retired)'}")
    say(f"units: {len(found)}")


async def _retire_unit(session: AsyncSession, args: argparse.Namespace) -> None:
    retired = await retire_unit(session, args.name)
    say(f"unit {retired.name} retired")
