"""The garbage collector settled for serving (api.web.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from api.web import collector


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if collector._time in gc.callbacks:
        gc.callbacks.remove(collector._time)
    collector._pauses = None


def test_settle_freezes_start_up_and_times_each_pause(restored: None) -> None:
    registry = CollectorRegistry()
    assert gc.get_freeze_count() == 0
    collector.settle(registry)
    # what start-up built is out of every collection's way ...
    assert gc.get_freeze_count() > 1000
    assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
    # ... and what comes later is still collected, each pause in /metrics by generation
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect(0) >= 1
    gc.collect(2)
    text = generate_latest(registry).decode()
    assert 'circle_gc_pause_seconds_count{generation="0"}' in text
    assert 'circle_gc_pause_seconds_count{generation="2"}' in text
