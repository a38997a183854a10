"""The Starlette application: GraphQL at /graphql, /healthz, /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from api.schema import schema
from api.schema.context import Context
from api.settings import Settings, load_settings
from api.web.access import AccessLog, request_record
from api.web.auth import authenticate_request
from api.web.collector import settle
from api.web.compression import Gzip
from api.web.exports import grids_geojson
from api.web.http import RETRY_AFTER_S, GraphQLEndpoint
from api.web.logs import configure_logging
from api.web.metrics import POOL, REGISTRY, Exposition
from api.web.pages import page_routes
from api.web.ratelimit import client_address
from api.web.replica import ReplicaWatch
from api.web.sweeping import start_sweeper
from geo.calendar.service import load_calendar, watch_calendar
from geo.cases.seal import TrailKeys
from geo.db import Queryable, conninfo, make_engine, make_read_pool, make_sessionmaker
from geo.outages import is_unavailable


class Resources:
    """What the lifespan owns: the engine and its session factory, the read pool, and with a
    streaming replica its pool and its watch."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_pool: AsyncConnectionPool
    replica_pool: AsyncConnectionPool | None = None
    replica: ReplicaWatch | None = None


def create_app(settings: Settings) -> Starlette:
    resources = Resources()
    trail_keys = TrailKeys.parse(settings.trail_key_text())  # no key, no app: fail at once
    exposition = Exposition(settings.metrics_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url, read_url = settings.database(), settings.read_database()
        timeout = settings.statement_timeout_ms
        engine = make_engine(url, statement_timeout_ms=timeout, pool_size=settings.pool_size)
        read_pool = make_read_pool(read_url, size=settings.pool_size, statement_timeout_ms=timeout)
        await read_pool.open(wait=False)
        resources.engine = engine
        resources.sessionmaker = make_sessionmaker(engine, trail_keys=trail_keys)
        resources.read_pool = read_pool
        POOL.engine, POOL.read_pool = engine, read_pool
        await _load_calendar(resources.sessionmaker)
        tasks = [
            asyncio.create_task(watch_calendar(resources.sessionmaker)),
            asyncio.create_task(_sample_forever(exposition)),
        ]
        if settings.read_database_url:  # a streaming replica serves the read pool's reads
            replica_pool = make_read_pool(
                settings.read_database_url, size=settings.pool_size, statement_timeout_ms=timeout
            )
            await replica_pool.open(wait=False)
            resources.replica_pool = POOL.read_pool = replica_pool
            watch = ReplicaWatch(
                conninfo(read_url), conninfo(settings.read_database_url), settings.replica_max_lag_s
            )
            resources.replica = watch
            await watch.check()  # reads may go there from the first request
            tasks.append(asyncio.create_task(watch.watch_forever()))
        sweeper = start_sweeper(resources.sessionmaker, conninfo(url), settings.sweep_interval_s)
        tasks += [sweeper] if sweeper is not None else []
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            POOL.engine, POOL.read_pool = None, None
            exposition.process_exits()
            await read_pool.close()
            if resources.replica_pool is not None:
                await resources.replica_pool.close()
            await engine.dispose()

    async def make_context(request: Request) -> Context:
        actor = await authenticate_request(request, resources.sessionmaker)
        record = request_record(request.scope)
        if record is not None and actor is not None:
            record.account = actor.user_id
        address = record.client if record else client_address(request, settings.trusted_proxies)
        context = Context(
            request,
            settings,
            resources.engine,
            resources.sessionmaker,
            resources.read_pool,
            actor=actor,
            address=address,
        )
        replica = resources.replica
        if replica is not None and replica.usable:  # the replica, until the request writes
            context.replica, context.read_pool = replica, resources.replica_pool
        return context

    def read_connection() -> AbstractAsyncContextManager[Queryable]:
        """A read connection for the pages: the replica's while it is fit, else the primary's."""
        if resources.replica is not None and resources.replica.usable:
            assert resources.replica_pool is not None
            return resources.replica_pool.connection()
        return resources.read_pool.connection()

    async def healthz(request: Request) -> Response:
        try:
            async with resources.engine.connect() as conn:
                postgis = await conn.scalar(text("SELECT postgis_lib_version()"))
        except Exception as error:  # any failure means "not healthy"; say which
            reason = type(error).__name__
            retry = {"Retry-After": str(RETRY_AFTER_S)}
            body = {"status": "unavailable", "reason": reason}
            return JSONResponse(body, status_code=503, headers=retry)
        answer: dict[str, Any] = {"status": "ok", "postgis": postgis}
        if (replica := resources.replica) is not None:  # reads fall back to the primary
            answer["replica"] = {"state": replica.state, "lag_s": replica.lag_s}
        return JSONResponse(answer)

    async def metrics(request: Request) -> Response:
        return Response(exposition.render(), media_type=CONTENT_TYPE_LATEST)

    graphql = GraphQLEndpoint(schema, settings, make_context)
    routes: list[Any] = [
        Route("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/grids.geojson", grids_geojson(lambda: resources.sessionmaker)),
        *page_routes(settings, read_connection),
    ]
    return CircleApp(
        graphql,
        lambda app: AccessLog(cors(Gzip(app), settings.cors_origins), settings.trusted_proxies),
        debug=settings.debug,
        routes=routes,
        lifespan=lifespan,
        exception_handlers=dict.fromkeys(DATABASE_ERRORS, _unavailable),
    )


def cors(app: ASGIApp, origins: tuple[str, ...]) -> ASGIApp:
    """Browsers on ``origins`` (CORS_ORIGINS) may call the API with a bearer token; every
    other origin's preflight is refused (400), as all are with no origins listed.

    With no origins listed no answer depends on the Origin header, so only preflights
    (OPTIONS) go through the middleware: it wrapped every response's ``send`` to add
    ``Vary: Origin``, 8 % of a gridAt's server CPU (py-spy, bench_peer's load)."""
    middleware = CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=("GET", "POST"),
        allow_headers=("authorization", "content-type", "accept", "x-request-id"),
        expose_headers=("x-request-id", "retry-after"),
        max_age=600,
    )
    if origins:
        return middleware

    async def preflights_only(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await middleware(scope, receive, send)
        else:
            await app(scope, receive, send)

    return preflights_only


#: What a page, an image or an export may raise when the database is away (geo.outages).
DATABASE_ERRORS = (SQLAlchemyError, psycopg.Error, PoolTimeout, ConnectionError)


async def _unavailable(request: Request, error: Exception) -> Response:
    """503 with Retry-After for a database that is away; anything else stays a 500."""
    if not is_unavailable(error):
        raise error
    retry = {"Retry-After": str(RETRY_AFTER_S)}
    return PlainTextResponse("The database is unavailable; try again shortly.", 503, retry)


#: Seconds between samples of the pools and the process into the metrics (and at each scrape).
SAMPLE_S = 2.0


async def _sample_forever(exposition: Exposition) -> None:
    while True:
        exposition.sample()
        await asyncio.sleep(SAMPLE_S)


async def _load_calendar(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The State Council notices administrators entered (geo.calendar.service says how
    several processes stay in step). A database not up yet is no reason not to start: the
    watch loads them once it answers."""
    try:
        async with sessionmaker() as session:
            await load_calendar(session)
    except Exception:
        logging.getLogger("circle.calendar").warning("calendar not loaded", exc_info=True)


class CircleApp(Starlette):
    """The Starlette app, with requests to /graphql handed straight to their endpoint.

    Starlette's middleware stack (error page, exception handlers, router) wraps the
    endpoint and every ``send`` of its response in three layers of closures: 5 % of a
    nearby search's server CPU (py-spy, under the benchmark's load). The GraphQL endpoint
    handles its own errors; an exception escaping it still reaches the server, which logs
    it and answers 500, as the error middleware would. Other paths, and the lifespan, take
    the full stack; /graphql stays in the routes for anything that lists them.

    What every request goes through, /graphql included, is ``edge`` (the access log, CORS,
    compression), built around this routing.
    """

    def __init__(
        self, graphql: GraphQLEndpoint, edge: Callable[[ASGIApp], ASGIApp], **options: Any
    ) -> None:
        super().__init__(**options)
        self.graphql = graphql
        self.edge = edge(self._route)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.edge(scope, receive, send)

    async def _route(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql" and not scope.get("root_path"):
            scope["app"] = self
            await self.graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def app_factory() -> Starlette:
    """Entry point for `uvicorn --factory api.web.app:app_factory` (`circle serve`): the
    app, with what start-up built frozen out of the garbage collector's way
    (api.web.collector; not in tests, which build many apps in one process). Each server
    process (every worker of `circle serve --workers N`) sets up its own logging."""
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    settle(REGISTRY)
    return app
