"""Hawk, attacked: every forgery is refused with the real code, and the genuine call passes.

Each refusal is paired with the same request done right, so a test cannot pass because the
server refuses everything.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest

from tutorial_kit.client.hawk import bewit
from tutorial_kit.client.options import Credentials
from tutorial_kit.mock import MockQueue
from tutorial_kit.mock.security.auth import issue_temporary_credentials

from .fuzzing import setup_world
from .support import Wire, assert_still_serves, check_error, new_task_id, task_definition


def refused(answer, code: str = "AuthenticationFailed", method: str | None = None) -> None:
    body = check_error(answer, method=method)
    assert body is not None and body["code"] == code, body


def test_wrong_key_is_401_and_the_right_key_passes(mock: MockQueue, wire: Wire) -> None:
    task_id = new_task_id()
    forged = {"clientId": mock.credentials["clientId"], "accessToken": "A" * 44}
    refused(wire.api("PUT", f"/task/{task_id}", json_body=task_definition(), credentials=forged),
            method="createTask")
    refused(wire.api("GET", f"/task/{task_id}/status", credentials=forged), method="status")
    assert wire.api("PUT", f"/task/{task_id}", json_body=task_definition(),
                    credentials=mock.credentials).status == 200


def test_unknown_client_is_401(wire: Wire) -> None:
    refused(wire.api("PUT", f"/task/{new_task_id()}", json_body=task_definition(),
                     credentials={"clientId": "nobody-knows-me", "accessToken": "x" * 44}))


def test_tampered_path_is_401(mock: MockQueue, wire: Wire) -> None:
    signed_for, sent_to = new_task_id(), new_task_id()
    body = json.dumps(task_definition()).encode()
    header = wire.sign(mock.credentials, "PUT", f"/api/queue/v1/task/{signed_for}", body,
                       "application/json")
    refused(wire.send("PUT", f"/api/queue/v1/task/{sent_to}", body=body,
                      content_type="application/json", authorization=header))
    # a query string added after signing is a different target too
    header = wire.sign(mock.credentials, "GET", f"/api/queue/v1/task/{signed_for}/status")
    refused(wire.send("GET", f"/api/queue/v1/task/{signed_for}/status?limit=1",
                      authorization=header))


def test_tampered_body_is_401(mock: MockQueue, wire: Wire) -> None:
    task_id = new_task_id()
    good = task_definition()
    evil = dict(good, scopes=["queue:*"])
    header = wire.sign(mock.credentials, "PUT", f"/api/queue/v1/task/{task_id}",
                       json.dumps(good).encode(), "application/json")
    refused(wire.send("PUT", f"/api/queue/v1/task/{task_id}", body=json.dumps(evil).encode(),
                      content_type="application/json", authorization=header))
    # a changed content type changes the payload hash as well
    header = wire.sign(mock.credentials, "PUT", f"/api/queue/v1/task/{task_id}",
                       json.dumps(good).encode(), "text/plain")
    refused(wire.send("PUT", f"/api/queue/v1/task/{task_id}", body=json.dumps(good).encode(),
                      content_type="application/json", authorization=header))
    assert wire.api("GET", f"/task/{task_id}/status").status == 404  # nothing was created


@pytest.mark.parametrize("skew", [-3600, -61 - 5, 61 + 5, 86400])
def test_timestamp_outside_the_window_is_401(mock: MockQueue, wire: Wire, skew: int) -> None:
    target = f"/api/queue/v1/task/{new_task_id()}"
    body = json.dumps(task_definition()).encode()
    header = wire.sign(mock.credentials, "PUT", target, body, "application/json",
                       ts=int(time.time()) + skew)
    refused(wire.send("PUT", target, body=body, content_type="application/json",
                      authorization=header))


def test_timestamp_inside_the_window_passes(mock: MockQueue, wire: Wire) -> None:
    target = f"/api/queue/v1/task/{new_task_id()}"
    body = json.dumps(task_definition()).encode()
    header = wire.sign(mock.credentials, "PUT", target, body, "application/json",
                       ts=int(time.time()) - 30)
    assert wire.send("PUT", target, body=body, content_type="application/json",
                     authorization=header).status == 200


def test_replayed_nonce_is_401(mock: MockQueue, wire: Wire) -> None:
    target = f"/api/queue/v1/task/{new_task_id()}"
    body = json.dumps(task_definition()).encode()
    header = wire.sign(mock.credentials, "PUT", target, body, "application/json")
    first = wire.send("PUT", target, body=body, content_type="application/json",
                      authorization=header)
    assert first.status == 200, first.text
    refused(wire.send("PUT", target, body=body, content_type="application/json",
                      authorization=header), method="createTask")


def test_garbled_headers_are_401(mock: MockQueue, wire: Wire) -> None:
    target = f"/api/queue/v1/task/{new_task_id()}/status"
    good = wire.sign(mock.credentials, "GET", target)
    for header in ["Hawk", "Hawk id=", 'Hawk id="tutorial"', "Bearer abc", good + ', id="x"',
                   good.replace('mac="', 'mac="AAAA'), good.replace("Hawk ", "Hawk junk ")]:
        refused(wire.send("GET", target, authorization=header), method="status")
    assert wire.send("GET", target, authorization=good).status == 404  # authenticated, no task


@pytest.fixture(scope="module")
def private_artifact(mock: MockQueue, wire: Wire) -> str:
    """The URL path of an artifact only the credentials' holder may read."""
    world = setup_world(wire, mock.credentials)
    name = "private/secret.txt"
    made = wire.api("POST", f"/task/{world.task_id}/runs/0/artifacts/private%2Fsecret.txt",
                    credentials=mock.credentials,
                    json_body={"storageType": "reference", "expires": task_definition()["deadline"],
                               "contentType": "text/plain", "url": "https://example.com/s"})
    assert made.status == 200, made.text
    return f"/api/queue/v1/task/{world.task_id}/runs/0/artifacts/{name.replace('/', '%2F')}"


def test_expired_bewit_is_401_and_a_fresh_one_passes(mock: MockQueue, wire: Wire,
                                                     private_artifact: str) -> None:
    creds = Credentials(mock.credentials["clientId"], mock.credentials["accessToken"])
    url = wire.origin + private_artifact
    refused(wire.send("GET", private_artifact), code="InsufficientScopes")  # anonymous
    stale = bewit(creds, url, expires=int(time.time()) - 5)
    refused(wire.send("GET", f"{private_artifact}?bewit={stale}"), method="getArtifact")
    fresh = bewit(creds, url, expires=int(time.time()) + 300)
    assert wire.send("GET", f"{private_artifact}?bewit={fresh}").status == 303
    # a bewit signed for one artifact does not open another
    other = private_artifact.replace("secret.txt", "other.txt")
    refused(wire.send("GET", f"{other}?bewit={fresh}"))
    # nor does a bewit with a forged key
    forged = bewit(Credentials(creds.clientId, "B" * 44), url, expires=int(time.time()) + 300)
    refused(wire.send("GET", f"{private_artifact}?bewit={forged}"))


def _temporary(mock: MockQueue, start_s: float, expiry_s: float,
               scopes: list[str]) -> dict:
    now = time.time()
    return issue_temporary_credentials(mock.credentials["clientId"],
                                       mock.credentials["accessToken"], None, scopes,
                                       (now + start_s) * 1000, (now + expiry_s) * 1000)


def _ext(credentials: dict) -> str:
    cert = json.loads(credentials["certificate"])
    return base64.urlsafe_b64encode(json.dumps({"certificate": cert}).encode()).decode()


def test_expired_temporary_credentials_are_401(mock: MockQueue, wire: Wire) -> None:
    scopes = ["queue:create-task:*", "queue:scheduler-id:*"]
    target = f"/api/queue/v1/task/{new_task_id()}"
    body = json.dumps(task_definition()).encode()
    for start_s, expiry_s, ok in [(-3600, -600, False), (3600, 7200, False), (-60, 600, True)]:
        temp = _temporary(mock, start_s, expiry_s, scopes)
        header = wire.sign(temp, "PUT", target, body, "application/json", ext=_ext(temp))
        answer = wire.send("PUT", target, body=body, content_type="application/json",
                           authorization=header)
        if ok:
            assert answer.status == 200, answer.text
        else:
            refused(answer, method="createTask")


def test_claim_credentials_expire_with_the_mock_clock(mock: MockQueue, wire: Wire) -> None:
    """claimWork's temporary credentials stop working once the (mock) clock passes expiry."""
    # a task queue of its own (setup_world's), so the claim below gets this very task
    task_id, queue = new_task_id(), setup_world(wire, mock.credentials).task_queue
    assert wire.api("PUT", f"/task/{task_id}", json_body=task_definition(queue),
                    credentials=mock.credentials).status == 200
    claim = wire.api("POST", "/claim-work/" + queue.replace("/", "%2F"),
                     credentials=mock.credentials,
                     json_body={"workerGroup": "wg", "workerId": "wi", "tasks": 1}).json()
    item = claim["tasks"][0]
    assert item["status"]["taskId"] == task_id
    temp = item["credentials"]
    target = f"/api/queue/v1/task/{item['status']['taskId']}/runs/{item['runId']}/reclaim"
    header = wire.sign(temp, "POST", target, ext=_ext(temp))
    assert wire.send("POST", target, authorization=header).status == 200
    try:
        mock.clock.advance(timedelta(days=2))
        header = wire.sign(temp, "POST", target, ext=_ext(temp))
        refused(wire.send("POST", target, authorization=header), method="reclaimTask")
    finally:
        mock.clock.reset()
    assert_still_serves(wire)


def test_authorized_scopes_cannot_exceed_the_client(mock: MockQueue, wire: Wire) -> None:
    mock.app.authenticator.add_client("narrow", "n" * 44, ["queue:status:*"])
    narrow = {"clientId": "narrow", "accessToken": "n" * 44}
    ext = base64.urlsafe_b64encode(json.dumps({"authorizedScopes": ["queue:*"]}).encode()).decode()
    target = f"/api/queue/v1/task/{new_task_id()}"
    body = json.dumps(task_definition()).encode()
    header = wire.sign(narrow, "PUT", target, body, "application/json", ext=ext)
    refused(wire.send("PUT", target, body=body, content_type="application/json",
                      authorization=header))
