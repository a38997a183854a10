"""Prometheus metrics: requests and latency per GraphQL operation, database pool use, the
scheduled jobs, and the process.

Label values come from bounded sets only, so that no client can grow the server's memory or
the scrape: the outcome is one of a few words, and the operation is ``anonymous``, a name the
server has seen in a document it parsed and validated (the first :data:`MAX_OPERATIONS`
such names, process-wide), or ``other``. A name the client merely sends as
``operationName`` is never a label. Measured: 20,000 requests with distinct names used to add
20,000 series each (111 MiB, a 30 MB scrape); now they add at most MAX_OPERATIONS.

With several workers (`circle serve --workers N`) each process writes its metrics to a shared
folder (prometheus_client's multiprocess mode, switched on by PROMETHEUS_MULTIPROC_DIR before
any metric exists) and /metrics, whichever worker answers, reads them all: counters and
histograms summed, pool gauges summed over live workers, process gauges one series per
worker."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "circle_graphql_requests",
    "GraphQL requests by operation name and outcome.",
    ["operation", "outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "circle_graphql_request_seconds",
    "GraphQL request latency by operation name.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)


#: Operation names that may become label values (see the module docstring).
MAX_OPERATIONS = 64
OUTCOMES = frozenset({"ok", "errors", "rejected", "request_error", "unavailable"})


class OperationNames:
    """The operation names allowed as label values: learnt from validated documents, first
    come, at most ``limit``; every other name is "other"."""

    def __init__(self, limit: int = MAX_OPERATIONS) -> None:
        self.limit = limit
        self._known: set[str] = set()

    def learn(self, name: str | None) -> None:
        if name is not None and len(self._known) < self.limit:
            self._known.add(name[:64])

    def label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        return name if name in self._known else "other"


OPERATIONS = OperationNames()


def observe_request(operation: str | None, outcome: str, seconds: float) -> None:
    label = OPERATIONS.label(operation)
    REQUESTS.labels(label, outcome if outcome in OUTCOMES else "other").inc()
    LATENCY.labels(label).observe(seconds)


class PoolGauges:
    """The pools' use, read into gauges by ``sample`` (each process, every few seconds and at
    scrape time): gauges, not a collector read at scrape time, because with several workers
    only what a process writes to the shared folder is seen by the one scraped."""

    def __init__(self) -> None:
        self.engine: AsyncEngine | None = None
        self.read_pool: AsyncConnectionPool | None = None
        self.read = {
            key: Gauge(
                f"circle_db_read_{key}",
                f"Read pool (psycopg): {key.replace('_', ' ')}.",
                multiprocess_mode="livesum",
                registry=REGISTRY,
            )
            for key in ("pool_size", "pool_available", "requests_waiting")
        }
        self.checked_out = Gauge(
            "circle_db_pool_checked_out",
            "Database connections in use.",
            multiprocess_mode="livesum",
            registry=REGISTRY,
        )
        self.idle = Gauge(
            "circle_db_pool_idle",
            "Idle database connections in the pool.",
            multiprocess_mode="livesum",
            registry=REGISTRY,
        )
        self.size = Gauge(
            "circle_db_pool_size",
            "Configured pool size.",
            multiprocess_mode="livesum",
            registry=REGISTRY,
        )

    def sample(self) -> None:
        if self.read_pool is not None:
            stats = self.read_pool.get_stats()
            for key, gauge in self.read.items():
                gauge.set(stats.get(key, 0))
        pool = self.engine.sync_engine.pool if self.engine else None
        if isinstance(pool, QueuePool):
            self.checked_out.set(pool.checkedout())
            self.idle.set(pool.checkedin())
            self.size.set(pool.size())


POOL = PoolGauges()
#: One process: prometheus_client's own process metrics (with several, ProcessGauges).
ProcessCollector(registry=REGISTRY)

SWEEP_ROUNDS = Counter(
    "circle_sweep_rounds",
    "Sweep rounds run (by the one process leading the scheduled jobs).",
    registry=REGISTRY,
)
LEADER = Gauge(
    "circle_scheduler_leader",
    "1 in the process that leads the scheduled jobs, 0 in the others.",
    multiprocess_mode="liveall",
    registry=REGISTRY,
)

REPLICA_LAG = Gauge(
    "circle_db_replica_lag_seconds",
    "How far the read replica is behind the primary (-1: unknown, it does not answer).",
    multiprocess_mode="livemax",
    registry=REGISTRY,
)
REPLICA_IN_USE = Gauge(
    "circle_db_replica_in_use",
    "1 while reads go to the replica, 0 while the primary serves them (lag, replica away).",
    multiprocess_mode="livemin",
    registry=REGISTRY,
)
REPLICA_READS = Counter(
    "circle_db_replica_reads",
    "Requests whose reads the replica served.",
    registry=REGISTRY,
)


class ProcessGauges:
    """Memory, CPU and open files of this process, written where every worker's are seen
    (prometheus_client's ProcessCollector reads only the process it runs in, and a
    collector's values do not reach the shared folder): one series per worker (label
    ``pid``), CPU seconds summed."""

    def __init__(self) -> None:
        self._reader = ProcessCollector(registry=None)
        self._cpu_seen = 0.0
        self.cpu = Counter(
            "process_cpu_seconds", "User and system CPU time, every process.", registry=None
        )
        self.gauges = {
            name: Gauge(name, text, multiprocess_mode="liveall", registry=None)
            for name, text in (
                ("process_resident_memory_bytes", "Resident memory size in bytes."),
                ("process_virtual_memory_bytes", "Virtual memory size in bytes."),
                ("process_open_fds", "Number of open file descriptors."),
                ("process_max_fds", "Maximum number of open file descriptors."),
                ("process_start_time_seconds", "Start time of the process (Unix seconds)."),
            )
        }

    def sample(self) -> None:
        for family in self._reader.collect():
            value = family.samples[0].value if family.samples else None
            if value is None:
                continue
            if family.name == "process_cpu_seconds":
                self.cpu.inc(max(0.0, value - self._cpu_seen))
                self._cpu_seen = value
            elif family.name in self.gauges:
                self.gauges[family.name].set(value)


class Exposition:
    """What /metrics answers: this process's registry, or, with several workers
    (``metrics_dir``, PROMETHEUS_MULTIPROC_DIR), every worker's metrics summed from the
    shared folder plus each worker's process metrics."""

    def __init__(self, metrics_dir: Path | None) -> None:
        self.metrics_dir = metrics_dir
        self.process = ProcessGauges() if metrics_dir else None

    def sample(self) -> None:
        """Brings this process's gauges up to date (periodically, and before a scrape)."""
        POOL.sample()
        if self.process is not None:
            self.process.sample()

    def render(self) -> bytes:
        self.sample()
        if self.metrics_dir is None:
            return generate_latest(REGISTRY)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.metrics_dir))
        return generate_latest(registry)

    def process_exits(self) -> None:
        """Removes this process's live gauges from the shared folder (a worker stopping)."""
        if self.metrics_dir is not None:
            mark_process_dead(os.getpid(), path=str(self.metrics_dir))
