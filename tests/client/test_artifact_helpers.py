"""``tutorial_kit.upload`` / ``tutorial_kit.download`` (and their asyncio twins) against a real
mock server: every storage type, bytes equal, the official error type for ``error`` artifacts."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import pytest
import taskcluster
import taskcluster.download
from taskcluster.exceptions import TaskclusterArtifactError as OfficialArtifactError

import tutorial_kit as tk
import tutorial_kit.aio.download
import tutorial_kit.aio.upload
import tutorial_kit.download
import tutorial_kit.upload
from tutorial_kit.client.errors import TaskclusterArtifactError, TaskclusterError
from tutorial_kit.mock import start

QUEUE_ID = "proj-helpers/own-worker"
SMALL = b"small \x00 bytes"
LARGE = bytes(range(256)) * 40  # 10 KiB: putUrl


@pytest.fixture(scope="module")
def mock():
    with start(workers=False, claim_wait=0.2, check_output=True) as m:
        yield m


@pytest.fixture(scope="module")
def queue(mock):
    return tk.Queue(rootUrl=mock.root_url, credentials=dict(mock.credentials), maxRetries=0)


def running_task(queue) -> tuple[str, dict]:
    task_id = tk.slugid()
    queue.createTask(task_id, {
        "taskQueueId": QUEUE_ID, "created": tk.fromNowJSON("0 seconds"),
        "deadline": tk.fromNowJSON("1 day"), "payload": {},
        "metadata": {"name": "helpers", "description": "d", "owner": "t@example.com",
                     "source": "https://example.com/helpers"}})
    (task,) = queue.claimWork(QUEUE_ID, {"workerGroup": "wg", "workerId": "w1",
                                         "tasks": 1})["tasks"]
    assert task["status"]["taskId"] == task_id
    return task_id, task["credentials"]


def object_artifact(mock, task_id: str, creds: dict, name: str, data: bytes) -> None:
    worker = tk.Queue(rootUrl=mock.root_url, credentials=creds, maxRetries=0)
    created = worker.createArtifact(task_id, 0, name, {
        "storageType": "object", "contentType": "application/x-test",
        "expires": tk.fromNowJSON("1 day")})
    objects = tk.Object(rootUrl=mock.root_url, credentials=created["credentials"], maxRetries=0)
    tutorial_kit.upload.uploadFromBuf(
        projectId=created["projectId"], name=created["name"], contentType="application/x-test",
        contentLength=len(data), expires=created["expires"], uploadId=created["uploadId"],
        data=data, objectService=objects, maxRetries=0)
    worker.finishArtifact(task_id, 0, name, {"uploadId": created["uploadId"]})


def other_artifacts(mock, task_id: str, creds: dict) -> None:
    worker = tk.Queue(rootUrl=mock.root_url, credentials=creds, maxRetries=0)
    expires = tk.fromNowJSON("1 day")
    s3 = worker.createArtifact(task_id, 0, "public/s3.txt", {
        "storageType": "s3", "contentType": "text/plain", "expires": expires})
    assert httpx.put(s3["putUrl"], content=b"s3 bytes",
                     headers={"Content-Type": "text/plain"}).status_code == 200
    worker.createArtifact(task_id, 0, "public/ref.txt", {
        "storageType": "reference", "contentType": "text/plain", "expires": expires,
        "url": worker.buildUrl("getArtifact", task_id, 0, "public/s3.txt")})
    worker.createArtifact(task_id, 0, "public/link.txt", {
        "storageType": "link", "expires": expires, "artifact": "public/s3.txt"})
    worker.createArtifact(task_id, 0, "public/err.txt", {
        "storageType": "error", "expires": expires, "reason": "file-missing-on-worker",
        "message": "no such file on the worker"})


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["dataInline", "putUrl"])
def test_sync_helpers_every_storage_type(mock, queue, data):
    task_id, creds = running_task(queue)
    object_artifact(mock, task_id, creds, "public/obj.bin", data)
    other_artifacts(mock, task_id, creds)
    dl = tutorial_kit.download
    assert dl.downloadArtifactToBuf(taskId=task_id, name="public/obj.bin",
                                    queueService=queue) == (data, "application/x-test")
    assert dl.downloadArtifactToBuf(taskId=task_id, runId=0, name="public/obj.bin",
                                    queueService=queue)[0] == data
    for name in ("public/s3.txt", "public/ref.txt", "public/link.txt"):
        assert dl.downloadArtifactToBuf(taskId=task_id, name=name,
                                        queueService=queue) == (b"s3 bytes", "text/plain")
    out = io.BytesIO(b"old content that must go")
    assert dl.downloadArtifactToFile(out, taskId=task_id, name="public/obj.bin",
                                     queueService=queue) == "application/x-test"
    assert out.getvalue() == data
    chunks: list[bytes] = []

    class Writer:
        def write(self, chunk: bytes) -> None:
            chunks.append(chunk)
    dl.downloadArtifact(taskId=task_id, name="public/obj.bin", queueService=queue,
                        writerFactory=Writer)
    assert b"".join(chunks) == data
    with pytest.raises(TaskclusterArtifactError) as info:
        dl.downloadArtifactToBuf(taskId=task_id, name="public/err.txt", queueService=queue)
    assert isinstance(info.value, TaskclusterError)
    assert (info.value.reason, info.value.message) == ("file-missing-on-worker",
                                                       "no such file on the worker")
    # the official helper reads what ours uploaded, and raises its own error type alike
    official = taskcluster.Queue({"rootUrl": mock.root_url, "maxRetries": 0,
                                  "credentials": dict(mock.credentials)})
    got, _ = taskcluster.download.downloadArtifactToBuf(taskId=task_id, name="public/obj.bin",
                                                        queueService=official, maxRetries=0)
    assert bytes(got) == data
    with pytest.raises(OfficialArtifactError):
        taskcluster.download.downloadArtifactToBuf(taskId=task_id, name="public/err.txt",
                                                   queueService=official, maxRetries=0)


def test_async_helpers(mock, queue):
    task_id, creds = running_task(queue)
    other_artifacts(mock, task_id, creds)

    async def main() -> None:
        worker = tk.AsyncQueue(rootUrl=mock.root_url, credentials=creds, maxRetries=0)
        created = await worker.createArtifact(task_id, 0, "public/a.bin", {
            "storageType": "object", "contentType": "application/x-test",
            "expires": tk.fromNowJSON("1 day")})
        async with tk.AsyncObject(rootUrl=mock.root_url, credentials=created["credentials"],
                                  maxRetries=0) as objects:
            await tutorial_kit.aio.upload.uploadFromFile(
                projectId=created["projectId"], name=created["name"],
                contentType="application/x-test", contentLength=len(LARGE),
                expires=created["expires"], uploadId=created["uploadId"],
                file=io.BytesIO(LARGE), objectService=objects, maxRetries=0)
        await worker.finishArtifact(task_id, 0, "public/a.bin", {"uploadId": created["uploadId"]})
        await worker.aclose()
        async with tk.AsyncQueue(rootUrl=mock.root_url, maxRetries=0) as anonymous:
            adl = tutorial_kit.aio.download
            got = await adl.downloadArtifactToBuf(taskId=task_id, name="public/a.bin",
                                                  queueService=anonymous)
            assert got == (LARGE, "application/x-test")
            assert (await adl.downloadArtifactToBuf(taskId=task_id, name="public/link.txt",
                                                    queueService=anonymous))[0] == b"s3 bytes"
            with pytest.raises(TaskclusterArtifactError):
                await adl.downloadArtifactToBuf(taskId=task_id, name="public/err.txt",
                                                queueService=anonymous)

    asyncio.run(main())


def test_a_tampered_object_fails_its_hash_check(mock, queue):
    task_id, creds = running_task(queue)
    object_artifact(mock, task_id, creds, "public/h.bin", SMALL)
    name = f"t/{task_id}/0/public/h.bin"
    # the bytes change behind the service's back: the download helper notices
    with mock.backend.store.transaction() as conn:
        conn.execute("UPDATE objects SET data = ? WHERE name = ?", (b"changed", name))
    with pytest.raises(TaskclusterError) as info:
        tutorial_kit.download.downloadArtifactToBuf(taskId=task_id, name="public/h.bin",
                                                    queueService=queue)
    assert info.value.code == "ObjectHashVerificationError"
    meta = tk.Object(rootUrl=mock.root_url, credentials=dict(mock.credentials)).object(name)
    assert json.dumps(meta["hashes"]) and len(meta["hashes"]["sha256"]) == 64
