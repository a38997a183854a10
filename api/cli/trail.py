"""`circle trail`: the case trail's key ring and seals (geo.cases.seal).

    circle trail keygen [--id ID]   new signing key, first in TRAIL_KEY_FILE (older keys stay,
                                    to verify what they sealed)
    circle trail seal [--all]       seal the trails that have no seal (after an upgrade);
                                    --all: re-seal every trail not under the current key
                                    (after keygen; then the old key may leave the ring)
    circle trail verify             check every case's chain, head and seal

They run as the database's owner (DATABASE_OWNER_URL, else DATABASE_URL, else the embedded
cluster's), and never print a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

from api.cli.data import DataError
from api.cli.users import say
from api.settings import Settings
from geo.cases.audit import SealReport, TrailAudit, audit_trails, seal_trails
from geo.cases.seal import TrailKeys, new_key_line
from geo.db import make_engine, make_sessionmaker

#: Broken trails printed at most (the count is always printed).
SHOWN = 20


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trail = commands.add_parser("trail", help="the case trail's keys and seals")
    trail_commands = trail.add_subparsers(dest="trail_command", required=True)
    keygen = trail_commands.add_parser("keygen", help="add a signing key (rotation)")
    keygen.add_argument("--id", dest="key_id", help="the key's id (default: today's date)")
    keygen.set_defaults(handler=keygen_command)
    seal = trail_commands.add_parser("seal", help="seal unsealed trails (--all: re-seal)")
    seal.add_argument("--all", action="store_true", help="re-seal under the current key")
    seal.set_defaults(handler=seal_command)
    trail_commands.add_parser("verify", help="check every case's trail").set_defaults(
        handler=verify_command
    )


def ensure_key_file(settings: Settings) -> Path | None:
    """Creates the key file with a first key when there is none and TRAIL_KEYS is unset;
    returns its path when it was created."""
    path = settings.key_file()
    if settings.trail_keys or path.exists():
        return None
    _write_first(path, _default_id())
    return path


def keygen_command(settings: Settings, args: argparse.Namespace) -> None:
    if settings.trail_keys:
        raise DataError("TRAIL_KEYS is set: add the new key there, first in the list")
    path = settings.key_file()
    kid = args.key_id or _default_id()
    try:
        line = new_key_line(kid)
    except ValueError as error:
        raise DataError(str(error)) from None
    if not path.exists():
        _write_first(path, kid, line)
        say(f"trail: created {path} with key {kid}")
        return
    old = TrailKeys.parse(path.read_text())
    if kid in old.secrets:
        raise DataError(f"the ring already has a key {kid}: choose another --id")
    path.write_text(line + "\n" + path.read_text())
    say(
        f"trail: key {kid} signs from now on ({path}); {len(old.secrets)} older kept to verify. "
        "Restart the servers, then 'circle trail seal --all' before retiring an old key."
    )


def seal_command(settings: Settings, args: argparse.Namespace) -> None:
    report = seal_now(settings, reseal=args.all)
    say(f"trail: sealed {report.sealed} trails")
    if report.refused:
        shown = ", ".join(report.refused[:SHOWN]) + (", ..." if len(report.refused) > SHOWN else "")
        raise DataError(f"{len(report.refused)} trails do not verify and were not sealed: {shown}")


def verify_command(settings: Settings, args: argparse.Namespace) -> None:
    audit = asyncio.run(_audit(settings.owner_database(), trail_keys(settings)))
    for number, reason in audit.broken[:SHOWN]:
        say(f"trail: {number}: {reason}")
    if audit.broken:
        raise DataError(f"{len(audit.broken)} of {audit.checked} trails do not verify")
    say(f"trail: all {audit.checked} trails verify")


def seal_now(settings: Settings, *, reseal: bool = False) -> SealReport:
    return asyncio.run(_seal(settings.owner_database(), trail_keys(settings), reseal))


def trail_keys(settings: Settings) -> TrailKeys:
    """The key ring of the settings; a missing or malformed one is one sentence."""
    try:
        return TrailKeys.parse(settings.trail_key_text())
    except ValueError as error:
        raise DataError(str(error)) from None


async def _seal(url: str, keys: TrailKeys, reseal: bool) -> SealReport:
    engine = make_engine(url, statement_timeout_ms=600_000)
    try:
        async with make_sessionmaker(engine, trail_keys=keys).begin() as session:
            return await seal_trails(session, reseal=reseal)
    finally:
        await engine.dispose()


async def _audit(url: str, keys: TrailKeys) -> TrailAudit:
    engine = make_engine(url, statement_timeout_ms=600_000)
    try:
        async with make_sessionmaker(engine, trail_keys=keys)() as session:
            return await audit_trails(session)
    finally:
        await engine.dispose()


def _default_id() -> str:
    return datetime.now(UTC).strftime("k%Y%m%d")


def _write_first(path: Path, kid: str, line: str | None = None) -> None:
    """A new key file, readable by its owner only (created so, never widened)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(
            "# The case trail's key ring (geo.cases.seal): '<id> <hex>', the first signs.\n"
            "# Keep it out of the database and its backups.\n"
            f"{line or new_key_line(kid)}\n"
        )
