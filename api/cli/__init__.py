"""The `circle` command: the embedded database, migrations, demo data, imports and the server."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli.data import DataError
from api.cli.localdb import Cluster, missing_packages
from api.cli.replica import register as register_replica
from api.settings import (
    DatabaseUnavailable,
    Settings,
    TrailKeyUnavailable,
    hand_to_workers,
    load_settings,
)

if TYPE_CHECKING:
    from api.cli.roles import RoleFacts


class CliError(Exception):
    """A failure reported to the user as one sentence, exit status 1."""


def _cluster(settings: Settings) -> Cluster:
    if settings.database_url:
        raise CliError("DATABASE_URL is set: the embedded database is not used.")
    return Cluster(settings.data_dir)


def db_up(settings: Settings, args: argparse.Namespace) -> None:
    from api.cli.trail import ensure_key_file

    for line in _cluster(settings).up():
        print(f"db: {line}")
    if created := ensure_key_file(settings):
        print(f"db: created the case trail's key ring in {created} (keep it out of backups)")


def db_down(settings: Settings, args: argparse.Namespace) -> None:
    print(f"db: {_cluster(settings).down()}")


def db_status(settings: Settings, args: argparse.Namespace) -> None:
    if settings.database_url:
        print("db: using DATABASE_URL (external database)")
        return
    print(f"db: {_cluster(settings).status()}")


def db_url(settings: Settings, args: argparse.Namespace) -> None:
    if args.owner:
        print(settings.owner_database())
    elif args.reader:
        print(settings.read_database())
    else:
        print(settings.database())


def db_packages(settings: Settings, args: argparse.Namespace) -> None:
    """Prints the Debian packages still missing (nothing when all is installed)."""
    print(" ".join(missing_packages()))


def migrate(settings: Settings, args: argparse.Namespace) -> None:
    """Upgrades as the owner, then seals the trails written before seals existed."""
    from api.cli import dbadmin
    from api.cli.trail import seal_now

    url = settings.owner_database()
    before = dbadmin.current_revision(url)
    dbadmin.upgrade(url, args.revision)
    after = dbadmin.current_revision(url)
    if before == after:
        print(f"migrate: already at {after}")
    else:
        print(f"migrate: {before or 'empty'} -> {after}")
    if not dbadmin.has_unsealed_trails(url):
        return
    try:
        report = seal_now(settings)
    except TrailKeyUnavailable as error:
        print(f"migrate: trails written before seals are not sealed yet: {error}")
        return
    print(f"migrate: sealed {report.sealed} trails written before seals existed")
    if report.refused:
        print(f"migrate: {len(report.refused)} trails do not verify: see 'circle trail verify'")


def seed(settings: Settings, args: argparse.Namespace) -> None:
    from api.cli.seeding import run_seed
    from api.cli.trail import trail_keys

    url = settings.owner_database()
    cases = not args.no_cases
    keys = trail_keys(settings) if cases else None
    for line in run_seed(
        url,
        only_if_empty=args.if_empty,
        public_url=settings.public_url,
        cases=cases,
        trail_keys=keys,
    ):
        print(f"seed: {line}")


def serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from api.web.logs import configure_logging
    from api.web.slow import DeadlineProtocol

    configure_logging(settings.log_level)
    print(f"serve: {_roles_said(settings)}")
    # The app is built in each server process from the environment (app_factory): the
    # address actually served goes there, so that PUBLIC_URL's default follows --port.
    handed = {"HOST": args.host, "PORT": str(args.port)}
    with _metrics_folder(settings, args.workers) as metrics_dir:
        if metrics_dir is not None:
            handed["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        hand_to_workers(handed)
        print(f"serve: http://{args.host}:{args.port}/graphql (Ctrl-C stops)")
        _run_uvicorn(uvicorn, args, DeadlineProtocol)


@contextmanager
def _metrics_folder(settings: Settings, workers: int) -> Iterator[Path | None]:
    """With several workers, the folder where they share their metrics (emptied at start:
    files of an earlier run would be counted again); a fresh temporary one unless
    PROMETHEUS_MULTIPROC_DIR names one."""
    if workers <= 1:
        yield settings.metrics_dir
        return
    if settings.metrics_dir is not None:
        shutil.rmtree(settings.metrics_dir, ignore_errors=True)
        settings.metrics_dir.mkdir(parents=True)
        yield settings.metrics_dir
        return
    with tempfile.TemporaryDirectory(prefix="circle-metrics-") as folder:
        yield Path(folder)


def _run_uvicorn(uvicorn: Any, args: argparse.Namespace, protocol: type) -> None:
    uvicorn.run(
        "api.web.app:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        # X-Forwarded-For is read by api.web.ratelimit, from TRUSTED_PROXIES only; uvicorn's
        # own handling would trust any proxy on 127.0.0.1 and rewrite the client first.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
        http=protocol,  # slow clients are dropped (api.web.slow.DeadlineProtocol)
    )


def _roles_said(settings: Settings) -> str:
    """Who the service will connect as, checked before it starts: never a superuser, an
    owner of the tables, or a holder of the server's files and programs."""
    import psycopg

    from api.cli.roles import role_facts
    from api.cli.trail import trail_keys

    trail_keys(settings)  # no key, no service: say so now
    roles = []
    for url in (settings.database(), settings.read_database()):
        roles.append(_allowed_role(role_facts(url)))
    app, reader = roles
    said = f"connected as {app}, reads as {reader}: neither a superuser nor an owner"
    if settings.read_database_url:
        try:
            replica = _allowed_role(role_facts(settings.read_database_url))
        except psycopg.Error:  # a replica away at start is no reason not to serve
            return f"{said}; the replica does not answer yet (reads on the primary)"
        said += f"; the replica's reads as {replica}"
    return said


def _allowed_role(facts: RoleFacts) -> str:
    if refused := facts.refusal():
        raise CliError(
            f"the service does not run as {facts.name}: {refused}. Point DATABASE_URL "
            "(and DATABASE_READ_URL, READ_DATABASE_URL) at the application's roles "
            "('circle db url'; README, \"Roles\")."
        )
    return facts.name


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="circle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the embedded PostgreSQL + PostGIS cluster")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    for name, handler, text in (
        ("up", db_up, "create (first time) and start it"),
        ("down", db_down, "stop it"),
        ("status", db_status, "say whether it runs, and where"),
        ("packages", db_packages, "print the system packages still missing"),
    ):
        db_commands.add_parser(name, help=text).set_defaults(handler=handler)
    url = db_commands.add_parser("url", help="print the application's database URL")
    role = url.add_mutually_exclusive_group()
    role.add_argument("--owner", action="store_true", help="the owner's (migrations, upkeep)")
    role.add_argument("--reader", action="store_true", help="the read pool's")
    url.set_defaults(handler=db_url)
    register_replica(db_commands)

    m = commands.add_parser("migrate", help="upgrade the schema (alembic)")
    m.add_argument("revision", nargs="?", default="head")
    m.set_defaults(handler=migrate)

    s = commands.add_parser("seed", help="load the demo district")
    s.add_argument("--if-empty", action="store_true", help="load only into empty tables")
    s.add_argument("--no-cases", action="store_true", help="no demo users, tokens and cases")
    s.set_defaults(handler=seed)

    v = commands.add_parser("serve", help="serve the API")
    v.add_argument("--host", default=settings.host)
    v.add_argument("--port", type=int, default=settings.port)
    v.add_argument("--workers", type=int, default=1)
    v.set_defaults(handler=serve)
    _add_feature_commands(commands)
    return parser


def _add_feature_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Import/export commands of the features (grids, merchants) register here."""
    from api.cli.calendar import register as register_calendar
    from api.cli.cases import register as register_cases
    from api.cli.data import register
    from api.cli.trail import register as register_trail
    from api.cli.users import register as register_users

    register(commands)
    register_users(commands)
    register_trail(commands)
    register_cases(commands)
    register_calendar(commands)


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    args = build_parser(settings).parse_args(argv)
    handler: Callable[[Settings, argparse.Namespace], None] = args.handler
    try:
        handler(settings, args)
    except (CliError, DatabaseUnavailable, DataError) as error:
        print(f"circle: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last line of defence: one sentence, not a traceback
        print(f"circle: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0
