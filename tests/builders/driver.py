"""A driver of the case API: takes actions on cases, tracking each one's version."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.clients import gql

ACT = """
mutation ($input: ActOnCaseInput!) { actOnCase(input: $input) {
  __typename
  ... on CaseActed {
    case { id status version department coHandlers reworkCount extensionCount satisfaction
           mergedIntoId deadline allowedActions }
    event { seq action fromStatus toStatus actorName actorRole note details occurredAt }
  }
  ... on Error { message }
  ... on IllegalTransitionError { status action allowedActions }
  ... on ActionNotPermittedError { action allowedRoles }
  ... on CaseVersionConflictError { expectedVersion currentVersion currentStatus }
  ... on NoteRequiredError { action }
  ... on InvalidCaseInputError { field }
} }
"""
REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  ... on CaseReported { case { id version } } } }"""


class Driver:
    """Takes actions on cases, tracking each case's version as the API reports it."""

    def __init__(self, client: httpx.AsyncClient, world: World) -> None:
        self.client, self.world = client, world
        self.versions: dict[int, int] = {}
        self.taken: set[str] = set()

    async def report(self, token: str | None = None) -> int:
        data = {"category": "street_vending", "description": "占道经营", "location": point(),
                "locationSource": "GPS"}  # fmt: skip
        case = (await gql(self.client, REPORT, token, input=data))["reportCase"]["case"]
        self.versions[case["id"]] = case["version"]
        return int(case["id"])

    async def act(self, part: str, case_id: int, action: str, **params: Any) -> dict[str, Any]:
        version = params.pop("version", self.versions.get(case_id, 1))
        payload = {"caseId": case_id, "action": action, "expectedVersion": version, **params}
        token = getattr(self.world, part) if part != "anonymous" else None
        answer = (await gql(self.client, ACT, token, input=payload))["actOnCase"]
        if answer["__typename"] == "CaseActed":
            self.versions[case_id] = answer["case"]["version"]
            self.taken.add(action)
        return answer  # type: ignore[no-any-return]

    async def ok(self, part: str, case_id: int, action: str, status: str, **params: Any) -> Any:
        answer = await self.act(part, case_id, action, **params)
        assert answer["__typename"] == "CaseActed", (action, answer)
        assert answer["case"]["status"] == status, (action, answer)
        assert answer["event"]["action"] == action.lower()
        assert answer["event"]["seq"] == answer["case"]["version"]
        return answer
