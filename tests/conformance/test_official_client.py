"""The official ``taskcluster`` Python client, unchanged, drives the mock queue end to end.

Everything goes through ``taskcluster.optionsFromEnvironment()`` with the mock's three
variables, as a learner's code against a real deployment would.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import taskcluster

WORKER = {"workerGroup": "conformance-wg", "workerId": "conformance-worker"}


@pytest.fixture
def env(mock_queue, monkeypatch) -> dict[str, str]:
    variables = mock_queue.env() if hasattr(mock_queue, "env") else {
        "TASKCLUSTER_ROOT_URL": mock_queue.root_url,
        "TASKCLUSTER_CLIENT_ID": mock_queue.credentials["clientId"],
        "TASKCLUSTER_ACCESS_TOKEN": mock_queue.credentials["accessToken"],
    }
    monkeypatch.delenv("TASKCLUSTER_CERTIFICATE", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


@pytest.fixture
def queue(env) -> taskcluster.Queue:
    return taskcluster.Queue(taskcluster.optionsFromEnvironment())


@pytest.fixture
def task_queue_id() -> str:
    # A fresh task queue per test: claimWork only ever sees this test's tasks.
    return f"conformance-{secrets.token_hex(4)}/official-client"


def definition(task_queue_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "taskQueueId": task_queue_id,
        "created": taskcluster.fromNowJSON("0 seconds"),
        "deadline": taskcluster.fromNowJSON("1 day"),
        "payload": {},
        "metadata": {"name": "official client", "description": "conformance test",
                     "owner": "conformance@example.com", "source": "https://example.com/conformance"},
        **extra,
    }


def claim_one(queue: taskcluster.Queue, task_queue_id: str) -> dict[str, Any]:
    claims = queue.claimWork(task_queue_id, {"tasks": 1, **WORKER})["tasks"]
    assert len(claims) == 1, claims
    return claims[0]


def worker_queue(env: dict[str, str], claim: dict[str, Any]) -> taskcluster.Queue:
    """A client holding the temporary credentials of a claim, as a worker would."""
    return taskcluster.Queue({"rootUrl": env["TASKCLUSTER_ROOT_URL"], "credentials": claim["credentials"]})


def test_create_status_and_definition(queue, task_queue_id):
    task_id = taskcluster.slugId()
    status = queue.createTask(task_id, definition(task_queue_id))["status"]
    assert status["taskId"] == task_id and status["state"] == "pending"
    assert status["runs"] == [{"runId": 0, "state": "pending", "reasonCreated": "scheduled",
                               "scheduled": status["runs"][0]["scheduled"]}]
    assert queue.status(task_id)["status"] == status
    task = queue.task(task_id)
    assert task["taskQueueId"] == task_queue_id
    assert (task["provisionerId"], task["workerType"]) == tuple(task_queue_id.split("/"))
    assert (task["priority"], task["retries"], task["schedulerId"], task["taskGroupId"]) == \
        ("lowest", 5, "-", task_id)


def test_unknown_task_raises_the_documented_error(queue):
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        queue.status(taskcluster.slugId())
    assert info.value.status_code == 404
    assert info.value.body["code"] == "ResourceNotFound"


def test_worker_flow_with_artifacts(queue, env, task_queue_id):
    task_id = taskcluster.slugId()
    queue.createTask(task_id, definition(task_queue_id))
    claim = claim_one(queue, task_queue_id)
    assert claim["status"]["taskId"] == task_id and claim["runId"] == 0
    worker = worker_queue(env, claim)

    reclaimed = worker.reclaimTask(task_id, 0)
    assert reclaimed["status"]["runs"][0]["state"] == "running"
    worker = taskcluster.Queue({"rootUrl": env["TASKCLUSTER_ROOT_URL"], "credentials": reclaimed["credentials"]})

    expires = taskcluster.fromNowJSON("2 hours")
    uploads = {"public/hello.txt": b"hello from the official client\n",
               "private/secret.txt": b"only with credentials\n"}
    for name, data in uploads.items():
        created = worker.createArtifact(task_id, 0, name,
                                        {"storageType": "s3", "contentType": "text/plain", "expires": expires})
        assert created["storageType"] == "s3"
        put = httpx.put(created["putUrl"], content=data, headers={"Content-Type": "text/plain"}, timeout=10)
        assert put.status_code == 200, put.text

    names = sorted(a["name"] for a in queue.listLatestArtifacts(task_id)["artifacts"])
    assert names == sorted(uploads)

    # buildUrl: what the tutorial prints and downloads with any HTTP client (following the 303).
    public_url = queue.buildUrl("getLatestArtifact", task_id, "public/hello.txt")
    assert public_url == f"{env['TASKCLUSTER_ROOT_URL']}/api/queue/v1/task/{task_id}/artifacts/public%2Fhello.txt"
    download = httpx.get(public_url, follow_redirects=True, timeout=10)
    assert download.status_code == 200 and download.content == uploads["public/hello.txt"]
    assert download.headers["content-type"].startswith("text/plain")

    # A private artifact: refused without credentials, served through a signed URL.
    private_url = queue.buildUrl("getLatestArtifact", task_id, "private/secret.txt")
    assert httpx.get(private_url, timeout=10).status_code == 403
    signed = queue.buildSignedUrl("getLatestArtifact", task_id, "private/secret.txt")
    assert "bewit=" in signed
    download = httpx.get(signed, follow_redirects=True, timeout=10)
    assert download.status_code == 200 and download.content == uploads["private/secret.txt"]

    completed = worker.reportCompleted(task_id, 0)["status"]
    assert completed["state"] == "completed"
    assert completed["runs"][0]["reasonResolved"] == "completed"

    rerun = queue.rerunTask(task_id)["status"]
    assert [(r["runId"], r["state"], r["reasonCreated"]) for r in rerun["runs"]] == \
        [(0, "completed", "scheduled"), (1, "pending", "rerun")]


def test_cancel_pending_task(queue, task_queue_id):
    task_id = taskcluster.slugId()
    queue.createTask(task_id, definition(task_queue_id))
    status = queue.cancelTask(task_id)["status"]
    assert status["state"] == "exception"
    assert (status["runs"][0]["reasonCreated"], status["runs"][0]["reasonResolved"]) == ("scheduled", "canceled")


def test_worker_shutdown_is_retried(queue, env, task_queue_id):
    task_id = taskcluster.slugId()
    queue.createTask(task_id, definition(task_queue_id, retries=2))
    worker = worker_queue(env, claim_one(queue, task_queue_id))
    status = worker.reportException(task_id, 0, {"reason": "worker-shutdown"})["status"]
    assert status["state"] == "pending" and status["retriesLeft"] == 1
    assert [(r["state"], r["reasonCreated"], r.get("reasonResolved")) for r in status["runs"]] == \
        [("exception", "scheduled", "worker-shutdown"), ("pending", "retry", None)]
    # The retry is claimable by the next worker, with credentials for run 1.
    claim = claim_one(queue, task_queue_id)
    assert claim["runId"] == 1
    assert worker_queue(env, claim).reportCompleted(task_id, 1)["status"]["state"] == "completed"


def test_list_task_group_paginates(queue, task_queue_id):
    group = taskcluster.slugId()
    task_ids = sorted(taskcluster.slugId() for _ in range(5))
    for task_id in task_ids:
        queue.createTask(task_id, definition(task_queue_id, taskGroupId=group))

    # By hand: limit=2 gives pages of at most 2 with a token until the end.
    seen, query, pages = [], {"limit": "2"}, 0
    while pages < 10:
        page = queue.listTaskGroup(group, query=query)
        pages += 1
        assert len(page["tasks"]) <= 2
        seen += [t["status"]["taskId"] for t in page["tasks"]]
        if "continuationToken" not in page:
            break
        query = {"limit": "2", "continuationToken": page["continuationToken"]}
    assert seen == task_ids and pages >= 3

    # With the client's own pagination loop.
    collected: list[str] = []
    queue.listTaskGroup(group, paginationHandler=lambda r: collected.extend(t["status"]["taskId"] for t in r["tasks"]),
                        paginationLimit=2)
    assert collected == task_ids
