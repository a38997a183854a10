"""/metrics stays small whatever names clients send (api.web.metrics)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.web.metrics import MAX_OPERATIONS

pytestmark = pytest.mark.anyio


def operation_labels(exposition: str) -> set[str]:
    return {
        sample.labels["operation"]
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if "operation" in sample.labels
    }


async def test_thousands_of_distinct_operation_names_add_a_bounded_set_of_series(
    client: httpx.AsyncClient,
) -> None:
    for i in range(1500):
        # A valid document with a name of its own, and a name no document holds.
        named = {"query": f"query q{i} {{ __typename }}"}
        assert (await client.post("/graphql", json=named)).status_code == 200
        bogus = {"query": "{ __typename }", "operationName": f"nothing{i}"}
        assert (await client.post("/graphql", json=bogus)).status_code == 400
    exposition = (await client.get("/metrics")).text
    labels = operation_labels(exposition)
    assert "other" in labels
    assert not any(label.startswith("nothing") for label in labels)
    assert len(labels) <= MAX_OPERATIONS + 2  # the learnt names, "anonymous", "other"
    assert len(exposition) < 200_000
