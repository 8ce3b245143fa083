"""End to end against the real mock queue (tutorial_kit.mock.start): a task's whole life
through this client, the worker's part signed with claimWork's temporary credentials."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tutorial_kit.client import (ArtifactError, AsyncQueue, Queue, TaskclusterAuthError,
                                 TaskclusterError, fromNowJSON, slugid)

mock_server = pytest.importorskip("tutorial_kit.mock.server")

TASK_QUEUE = "client-tests/e2e"  # served by nobody; only the lifecycle test claims from it
OTHER_QUEUE = "client-tests/e2e-unclaimed"
WORKER = {"workerGroup": "tests", "workerId": "client-e2e"}


@pytest.fixture(scope="module")
def mock():
    with mock_server.start(workers=False, claim_wait=0.5) as m:
        yield m


def _task(group: str | None = None, task_queue: str = OTHER_QUEUE) -> dict:
    task = {
        "taskQueueId": task_queue,
        "created": fromNowJSON("0 seconds"),
        "deadline": fromNowJSON("1 hour"),
        "expires": fromNowJSON("1 day"),
        "payload": {},
        "metadata": {"name": "client e2e", "description": "tutorial-kit client test",
                     "owner": "tests@example.com", "source": "https://example.com/tests"},
    }
    if group:
        task["taskGroupId"] = group
    return task


def _claim(queue: Queue, task_id: str) -> dict:
    for _ in range(20):  # bounded: each empty claimWork waits claim_wait (0.5 s)
        claims = queue.claimWork(TASK_QUEUE, {"tasks": 1, **WORKER})["tasks"]
        if claims:
            assert claims[0]["status"]["taskId"] == task_id
            return claims[0]
    raise AssertionError("the task was never claimed")


def test_task_lifecycle_and_artifact_download(mock, tmp_path):
    with Queue({"rootUrl": mock.root_url, "credentials": mock.credentials}) as queue:
        task_id = slugid()
        created = queue.createTask(task_id, _task(task_queue=TASK_QUEUE))
        assert created["status"]["state"] == "pending"
        assert queue.status(task_id)["status"]["runs"][0]["state"] == "pending"

        claim = _claim(queue, task_id)
        run_id = claim["runId"]
        # the worker's calls use the temporary credentials (certificate in Hawk ext)
        with Queue({"rootUrl": mock.root_url, "credentials": claim["credentials"]}) as worker:
            data = b"hello from the client test\n" * 1000
            answer = worker.createArtifact(task_id, run_id, "public/hello.txt", {
                "storageType": "s3", "contentType": "text/plain", "expires": fromNowJSON("12 hours")})
            assert answer["storageType"] == "s3"
            put = httpx.put(answer["putUrl"], content=data, headers={"Content-Type": "text/plain"})
            assert put.status_code < 300
            worker.createArtifact(task_id, run_id, "public/missing.txt", {
                "storageType": "error", "reason": "file-missing-on-worker",
                "message": "not produced", "expires": fromNowJSON("12 hours")})
            done = worker.reportCompleted(task_id, run_id)
            assert done["status"]["state"] == "completed"

        names = sorted(a["name"] for a in queue.iterArtifacts(task_id, limit=1))
        assert names == ["public/hello.txt", "public/missing.txt"]
        redirect = queue.getLatestArtifact(task_id, "public/hello.txt")
        assert redirect["storageType"] == "s3" and redirect["url"].startswith("http")

        progress = []
        got = queue.downloadLatestArtifact(task_id, "public/hello.txt",
                                           progress=lambda n, t: progress.append((n, t)))
        assert got == data and progress[-1][0] == len(data)
        assert queue.downloadArtifact(task_id, run_id, "public/hello.txt",
                                      file=tmp_path / "hello.txt") == len(data)
        assert (tmp_path / "hello.txt").read_bytes() == data
        with pytest.raises(ArtifactError) as info:
            queue.downloadLatestArtifact(task_id, "public/missing.txt")
        assert info.value.reason == "file-missing-on-worker"

    # public artifacts need no credentials
    with Queue(rootUrl=mock.root_url) as anonymous:
        assert anonymous.downloadLatestArtifact(task_id, "public/hello.txt") == data
        with pytest.raises(TaskclusterAuthError) as denied:
            anonymous.createTask(slugid(), _task())
        assert denied.value.status_code == 403


def test_errors_and_signed_urls_from_the_mock(mock):
    with Queue({"rootUrl": mock.root_url, "credentials": mock.credentials}) as queue:
        with pytest.raises(TaskclusterError) as info:
            queue.status(slugid())
        assert info.value.code == "ResourceNotFound" and info.value.status_code == 404
        assert info.value.requestInfo["method"] == "status"
        with pytest.raises(TaskclusterError) as bad:
            queue.createTask(slugid(), {"payload": {}})
        assert bad.value.code == "InputValidationError"
        task_id = slugid()
        queue.createTask(task_id, _task())
        # a bewit-signed URL works with any HTTP client, no Authorization header
        signed = queue.buildSignedUrl("status", task_id)
        assert httpx.get(signed).json()["status"]["taskId"] == task_id
    with Queue({"rootUrl": mock.root_url,
                "credentials": {**mock.credentials, "accessToken": "wrong"}},
               maxRetries=0) as wrong:
        with pytest.raises(TaskclusterAuthError) as auth:
            wrong.status(task_id)
        assert auth.value.code == "AuthenticationFailed"


def test_task_group_pagination_on_the_mock(mock):
    group = slugid()
    with Queue({"rootUrl": mock.root_url, "credentials": mock.credentials}) as queue:
        ids = {slugid() for _ in range(5)}
        for task_id in ids:
            queue.createTask(task_id, _task(group))
        pages = list(queue.paginate("listTaskGroup", group, query={"limit": 2}))
        assert len(pages) >= 3
        assert {t["status"]["taskId"] for t in queue.iterTaskGroup(group, limit=2)} == ids


def test_async_client_on_the_mock(mock):
    async def main():
        async with AsyncQueue({"rootUrl": mock.root_url, "credentials": mock.credentials}) as q:
            task_id = slugid()
            await q.createTask(task_id, _task())
            status = await q.status(task_id)
            with pytest.raises(TaskclusterError) as info:
                await q.task(slugid())
            return task_id, status, info.value
    task_id, status, err = asyncio.run(asyncio.wait_for(main(), timeout=30))
    assert status["status"]["taskId"] == task_id and err.code == "ResourceNotFound"
