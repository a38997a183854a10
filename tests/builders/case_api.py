"""The case API over HTTP: points in tiny-district units, a report, a case read."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders.cases import at
from tests.builders.clients import gql


def point(x: float = 2.5, y: float = 2.5, **extra: Any) -> dict[str, Any]:
    """A PointInput in tiny-district units (micro-grid A by default)."""
    p = at(x, y)
    return {"longitude": p.lon, "latitude": p.lat, **extra}


REPORT = """
mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  __typename
  ... on CaseReported {
    created routingReason routingExplanation routingDetails
    similarCasesNearby possibleDuplicates { id number status distanceM }
    case { id number status version channel grid { code } assignedWorker { name }
           reporterContact deadline overdue category { code zh } }
  }
  ... on CaseAlreadyReported { number reportedAt }
  ... on Error { message }
  ... on InvalidCaseInputError { field }
  ... on UnknownCaseCategoryError { code known }
  ... on ChannelNotAllowedError { channel }
} }
"""

CASE = """
query ($id: Int!) { case(id: $id) {
  __typename
  ... on Case { id status reporterContact allowedActions grid { code ancestors { code } } }
  ... on Error { message }
} }
"""


def report_input(**overrides: Any) -> dict[str, Any]:
    """A ReportCaseInput: street vending in micro-grid A by GPS, with ``overrides``."""
    return {
        "category": "street_vending",
        "description": "公园门口占道经营",
        "location": point(),
        "locationSource": "GPS",
    } | overrides


async def report(client: httpx.AsyncClient, token: str | None = None, **overrides: Any) -> Any:
    """reportCase with report_input(**overrides), as the holder of ``token``."""
    return (await gql(client, REPORT, token, input=report_input(**overrides)))["reportCase"]
