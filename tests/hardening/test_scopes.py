"""Scopes, per method as QUEUE-FACTS lists them.

For every method that needs more than the anonymous role, three callers try the same request:
one holding no scopes and one holding the right scopes for a *different* resource are both
refused 403 ``InsufficientScopes`` (and change nothing); one holding exactly the listed scopes
gets through. The scope strings are written out here from the facts, not taken from the mock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from tutorial_kit.mock import MockQueue

from .support import (Answer, Wire, assert_still_serves, check_error, new_task_id,
                      task_definition, unique_queue, when)

REFERENCE = {"storageType": "reference", "expires": when(3600), "contentType": "text/plain",
             "url": "https://example.com/r"}


@dataclass
class Fresh:
    """A task of its own (in its own group and task queue), set up by the tutorial client."""

    task_id: str
    group: str
    queue: str
    other: str  # an id of the same shape that is not this task's

    @property
    def q(self) -> str:
        return self.queue.replace("/", "%2F")

    @property
    def prov(self) -> str:
        return self.queue.split("/")[0]

    @property
    def wt(self) -> str:
        return self.queue.split("/")[1]

    def fill(self, text: str) -> str:
        return text.format(T=self.task_id, G=self.group, Q=self.queue, q=self.q, P=self.prov,
                           W=self.wt, O=self.other)


def make_fresh(wire: Wire, creds: dict[str, str], *, claim: bool, seal: bool = False,
               private: bool = False) -> Fresh:
    fresh = Fresh(new_task_id(), new_task_id(), unique_queue(), new_task_id())
    made = wire.api("PUT", f"/task/{fresh.task_id}", credentials=creds,
                    json_body=task_definition(fresh.queue, task_group_id=fresh.group))
    assert made.status == 200, made.text
    if claim:
        got = wire.api("POST", f"/claim-work/{fresh.q}", credentials=creds,
                       json_body={"workerGroup": "wg", "workerId": "wi", "tasks": 1})
        assert got.status == 200 and got.json()["tasks"], got.text
    if private:
        art = wire.api("POST", f"/task/{fresh.task_id}/runs/0/artifacts/private%2Fx",
                       credentials=creds, json_body=REFERENCE)
        assert art.status == 200, art.text
    if seal:
        assert wire.api("POST", f"/task-group/{fresh.group}/seal",
                        credentials=creds).status == 200
    return fresh


# name, verb, route, body, setup (claim, seal, private), scopes that suffice, the same for
# another resource, the statuses a permitted call answers with.
ROWS: list[tuple[str, str, str, Any, tuple[bool, bool, bool], list[str], list[str], set[int]]] = [
    ("createTask", "PUT", "/task/{O}", "task", (False, False, False),
     ["queue:create-task:project:none", "queue:scheduler-id:-", "queue:create-task:lowest:{Q}"],
     ["queue:create-task:project:none", "queue:scheduler-id:-",
      "queue:create-task:lowest:{P}/other"], {200}),
    ("scheduleTask", "POST", "/task/{T}/schedule", None, (False, False, False),
     ["queue:schedule-task:-/{G}/{T}"], ["queue:schedule-task:-/{G}/{O}"], {200}),
    ("rerunTask", "POST", "/task/{T}/rerun", None, (False, False, False),
     ["queue:rerun-task:-/{G}/{T}"], ["queue:rerun-task:other/{G}/{T}"], {200, 409}),
    ("cancelTask", "POST", "/task/{T}/cancel", None, (True, False, False),
     ["queue:cancel-task:-/{G}/{T}"], ["queue:cancel-task:-/{O}/{T}"], {200}),
    ("changeTaskPriority", "POST", "/task/{T}/priority", {"newPriority": "high"},
     (False, False, False), ["queue:change-task-priority:{T}"],
     ["queue:change-task-priority:{O}", "queue:change-task-priority-in-queue:{P}/other"], {200}),
    ("changeTaskGroupPriority", "POST", "/task-group/{G}/priority", {"newPriority": "high"},
     (False, False, False), ["queue:change-task-group-priority:-/{G}"],
     ["queue:change-task-group-priority:-/{O}"], {200}),
    ("sealTaskGroup", "POST", "/task-group/{G}/seal", None, (False, False, False),
     ["queue:seal-task-group:-/{G}"], ["queue:seal-task-group:other/{G}"], {200}),
    ("cancelTaskGroup", "POST", "/task-group/{G}/cancel", None, (False, True, False),
     ["queue:cancel-task-group:-/{G}"], ["queue:cancel-task-group:-/{O}"], {200}),
    ("claimWork", "POST", "/claim-work/{q}", {"workerGroup": "wg", "workerId": "wi"},
     (False, False, False), ["queue:claim-work:{Q}", "queue:worker-id:wg/wi"],
     ["queue:claim-work:{Q}", "queue:worker-id:wg/other"], {200}),
    ("claimTask", "POST", "/task/{T}/runs/0/claim", {"workerGroup": "wg", "workerId": "wi"},
     (False, False, False), ["queue:claim-task:{Q}", "queue:worker-id:wg/wi"],
     ["queue:claim-task:{P}/other", "queue:worker-id:wg/wi"], {200}),
    ("reclaimTask", "POST", "/task/{T}/runs/0/reclaim", None, (True, False, False),
     ["queue:reclaim-task:{T}/0"], ["queue:reclaim-task:{T}/1"], {200}),
    ("reportCompleted", "POST", "/task/{T}/runs/0/completed", None, (True, False, False),
     ["queue:resolve-task:{T}/0"], ["queue:resolve-task:{O}/0"], {200}),
    ("reportFailed", "POST", "/task/{T}/runs/0/failed", None, (True, False, False),
     ["queue:resolve-task:{T}/0"], ["queue:resolve-task:{T}/1"], {200}),
    ("reportException", "POST", "/task/{T}/runs/0/exception", {"reason": "malformed-payload"},
     (True, False, False), ["queue:resolve-task:{T}/0"], ["queue:resolve-task:{O}/0"], {200}),
    ("createArtifact", "POST", "/task/{T}/runs/0/artifacts/public%2Fa", REFERENCE,
     (True, False, False), ["queue:create-artifact:{T}/0"], ["queue:create-artifact:{O}/0"],
     {200}),
    ("finishArtifact", "PUT", "/task/{T}/runs/0/artifacts/private%2Fx",
     {"uploadId": "{O}"}, (True, False, True), ["queue:create-artifact:{T}/0"],
     ["queue:create-artifact:{T}/1"], {204, 400, 409}),
    ("getArtifact", "GET", "/task/{T}/runs/0/artifacts/private%2Fx", None, (True, False, True),
     ["queue:get-artifact:private/x"], ["queue:get-artifact:private/y"], {303}),
    ("getLatestArtifact", "GET", "/task/{T}/artifacts/private%2Fx", None, (True, False, True),
     ["queue:get-artifact:private/x"], ["queue:get-artifact:public/*"], {303}),
    ("artifact", "GET", "/task/{T}/runs/0/artifact-content/private%2Fx", None,
     (True, False, True), ["queue:get-artifact:private/*"], ["queue:get-artifact:privat"],
     {200}),
    ("latestArtifact", "GET", "/task/{T}/artifact-content/private%2Fx", None,
     (True, False, True), ["queue:get-artifact:private/x"], ["queue:get-artifact:private/x2"],
     {200}),
    ("listPendingTasks", "GET", "/task-queues/{q}/pending", None, (False, False, False),
     ["queue:pending-list:{Q}"], ["queue:pending-list:{P}/other"], {200}),
    ("listClaimedTasks", "GET", "/task-queues/{q}/claimed", None, (True, False, False),
     ["queue:claimed-list:{Q}"], ["queue:claimed-list:{P}/other"], {200}),
    ("taskQueueCounts", "GET", "/task-queues/{q}/counts", None, (True, False, False),
     ["queue:claimed-count:{Q}"], ["queue:claimed-count:{P}/other"], {200}),
    ("taskQueueCountsBatch", "POST", "/task-queues/counts", {"taskQueueIds": ["{Q}"]},
     (True, False, False), ["queue:claimed-count:{Q}"], ["queue:claimed-count:{P}/other"],
     {200}),
    ("listTaskQueues", "GET", "/task-queues", None, (True, False, False),
     ["queue:list-task-queues"], ["queue:list-task-queue"], {200}),
    ("getTaskQueue", "GET", "/task-queues/{q}", None, (True, False, False),
     ["queue:get-task-queue:{Q}"], ["queue:get-task-queue:{P}/other"], {200}),
    ("quarantineWorker", "PUT", "/provisioners/{P}/worker-types/{W}/workers/wg/wi",
     {"quarantineUntil": when(600)}, (True, False, False),
     ["queue:quarantine-worker:{Q}/wg/wi"], ["queue:quarantine-worker:{Q}/wg/other"], {200}),
    ("declareWorker", "PUT", "/provisioners/{P}/worker-types/{W}/wg/wi",
     {"expires": when(3600)}, (True, False, False),
     ["queue:declare-worker:{Q}/wg/wi#expires"], ["queue:declare-worker:{Q}/wg/wi#other"],
     {200}),
]


def _client(mock: MockQueue, scopes: list[str]) -> dict[str, str]:
    client_id, token = f"scoped-{secrets.token_hex(4)}", secrets.token_urlsafe(33)
    mock.app.authenticator.add_client(client_id, token, scopes)
    return {"clientId": client_id, "accessToken": token}


def _fill_body(body: Any, fresh: Fresh) -> Any:
    if body == "task":
        return task_definition(fresh.queue)
    if isinstance(body, dict):
        return {k: fresh.fill(v) if isinstance(v, str)
                else [fresh.fill(x) for x in v] if isinstance(v, list) else v
                for k, v in body.items()}
    return body


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_method_needs_exactly_its_scopes(mock: MockQueue, wire: Wire, row: tuple) -> None:
    name, verb, route, body, (claim, seal, private), good, wrong, ok = row
    fresh = make_fresh(wire, mock.credentials, claim=claim, seal=seal, private=private)
    before = wire.api("GET", f"/task/{fresh.task_id}/status").json()
    path = fresh.fill(route)
    payload = _fill_body(body, fresh)

    def call(scopes: list[str] | None) -> Answer:
        creds = _client(mock, [fresh.fill(s) for s in scopes]) if scopes is not None else None
        return wire.api(verb, path, json_body=payload, credentials=creds)

    for scopes in (None, [], wrong):
        answer = call(scopes)
        refusal = check_error(answer, method=name)
        assert answer.status == 403 and refusal["code"] == "InsufficientScopes", (scopes, refusal)
    # refusals changed nothing
    assert wire.api("GET", f"/task/{fresh.task_id}/status").json() == before
    answer = call(good)
    assert answer.status in ok, f"{name} with {good}: {answer.status} {answer.text[:400]}"


def test_every_scoped_method_is_covered() -> None:
    from tutorial_kit import api

    # Methods the anonymous role cannot call must each have a row above.
    covered = {r[0] for r in ROWS}
    needs_more = set()
    for entry in api.ENTRIES:
        if entry.scopes is None:
            continue
        probe = {"taskId": "T", "runId": "0", "name": "private/x", "taskQueueId": "p/w",
                 "provisionerId": "p", "workerType": "w", "workerGroup": "g", "workerId": "i",
                 "taskGroupId": "G", "schedulerId": "s", "projectId": "p", "taskIds": ["T"],
                 "names": ["private/x"], "properties": ["expires"], "scopes": [],
                 "routes": [], "priority": "lowest"}
        try:
            anonymous_may = _anon_ok(entry.scopes, probe)
        except ValueError:  # the probe lacks a parameter the expression needs
            anonymous_may = False
        if not anonymous_may:
            needs_more.add(entry.name)
    assert {"createTask", "cancelTask", "claimWork", "getArtifact"} <= needs_more
    assert needs_more - covered == set(), needs_more - covered


def _anon_ok(expression: Any, params: dict[str, Any]) -> bool:
    from tutorial_kit.mock.security.auth import ANONYMOUS_SCOPES
    from tutorial_kit.mock.security.scopes import expand, satisfies

    return satisfies(ANONYMOUS_SCOPES, expand(expression, params))


@pytest.mark.parametrize("route", [
    "/task/{T}", "/task/{T}/status", "/task-group/{G}/list", "/task-group/{G}",
    "/task/{T}/dependents", "/task/{T}/runs/0/artifacts", "/task/{T}/artifacts",
    "/pending/{q}", "/provisioners", "/provisioners/{P}/worker-types",
])
def test_the_anonymous_role_reads_without_credentials(mock: MockQueue, wire: Wire,
                                                      route: str) -> None:
    fresh = make_fresh(wire, mock.credentials, claim=True)
    answer = wire.api("GET", fresh.fill(route))
    assert answer.status == 200, answer.text[:300]
    assert_still_serves(wire)


def test_anonymous_may_not_write(mock: MockQueue, wire: Wire) -> None:
    fresh = make_fresh(wire, mock.credentials, claim=False)
    for verb, route, body in [("PUT", "/task/{O}", task_definition()),
                              ("POST", "/task/{T}/cancel", None),
                              ("POST", "/claim-work/{q}", {"workerGroup": "g", "workerId": "i"})]:
        answer = wire.api(verb, fresh.fill(route), json_body=body)
        refusal = check_error(answer)
        assert answer.status == 403 and refusal["code"] == "InsufficientScopes"
