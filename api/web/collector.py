"""Python's cyclic garbage collector, kept out of the request tails.

Why: under load a full collection came about once a second and walked every object the
process holds (~147,000 after start-up: the schema, graphql-core's types, SQLAlchemy's
compiled statements, modules), 86-117 ms each, freezing every request in flight: p99 was
75-125 ms against a p50 of about 12 ms (issue 17, measured with a probe; the pauses are now
in ``/metrics`` as ``circle_gc_pause_seconds``).

What is done, once the application has started (:func:`settle`):

* everything allocated so far is collected once, then frozen (``gc.freeze``): moved to a
  permanent generation that no collection walks. What start-up builds lives as long as the
  process, so walking it again and again only cost time;
* the young generation's threshold goes from 700 to :data:`YOUNG_THRESHOLD` allocations: a
  request allocates a few thousand objects that reference counting frees, so collections
  ran every few requests to find next to nothing.

Memory is not left to grow: cyclic garbage is still collected, by the same generations, and
objects created after start-up are walked as before.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Final

from prometheus_client import CollectorRegistry, Histogram

#: Allocations (net of frees) between young collections (Python's default: 700).
YOUNG_THRESHOLD: Final = 20_000

_started: list[float] = [0.0]
_pauses: Histogram | None = None


def settle(registry: CollectorRegistry) -> None:
    """Collect and freeze what start-up built, raise the young threshold, time every pause."""
    global _pauses
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if _pauses is None:
        _pauses = Histogram(
            "circle_gc_pause_seconds",
            "Pauses of Python's cyclic garbage collector, by generation.",
            ["generation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=registry,
        )
        gc.callbacks.append(_time)


def _time(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
    elif _pauses is not None:
        _pauses.labels(str(info["generation"])).observe(time.perf_counter() - _started[0])
