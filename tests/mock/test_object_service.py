"""The mock's Object service and the artifact flows through it, with the official client's own
helpers (``taskcluster.upload`` / ``taskcluster.download``) against a real mock server."""

from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
import taskcluster
import taskcluster.download
import taskcluster.upload
from taskcluster.exceptions import TaskclusterArtifactError, TaskclusterRestFailure

from tutorial_kit.mock import start

QUEUE_ID = "proj-objects/own-worker"
SMALL = b"small object bytes \x00\x01\x02"  # under 8 KiB: the helper offers dataInline too
LARGE = bytes(range(256)) * 64  # 16 KiB: only putUrl fits


@pytest.fixture(scope="module")
def mock():
    with start(workers=False, claim_wait=0.2, check_output=True) as m:
        yield m


@pytest.fixture(scope="module")
def queue(mock):
    return taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials),
                              "maxRetries": 0})


def running_task(queue) -> tuple[str, dict]:
    """A task claimed on a queue no built-in worker serves; (taskId, the run's credentials)."""
    task_id = taskcluster.slugId()
    queue.createTask(task_id, {
        "taskQueueId": QUEUE_ID, "created": taskcluster.fromNowJSON("0 seconds"),
        "deadline": taskcluster.fromNowJSON("1 day"), "payload": {},
        "metadata": {"name": "objects", "description": "d", "owner": "t@example.com",
                     "source": "https://example.com/objects"}})
    claim = queue.claimWork(QUEUE_ID, {"workerGroup": "wg", "workerId": "w1", "tasks": 1})
    (task,) = claim["tasks"]
    assert task["status"]["taskId"] == task_id
    return task_id, task["credentials"]


def upload_object_artifact(mock, worker, task_id: str, name: str, data: bytes,
                           content_type: str = "application/octet-stream") -> dict:
    """The real worker's way: createArtifact, upload with its credentials, finishArtifact."""
    created = worker.createArtifact(task_id, 0, name, {
        "storageType": "object", "contentType": content_type,
        "expires": taskcluster.fromNowJSON("1 day")})
    assert created["storageType"] == "object"
    objects = taskcluster.Object({"rootUrl": mock.root_url,
                                  "credentials": created["credentials"], "maxRetries": 0})
    taskcluster.upload.uploadFromBuf(
        projectId=created["projectId"], name=created["name"], contentType=content_type,
        contentLength=len(data), expires=created["expires"], uploadId=created["uploadId"],
        data=data, objectService=objects, maxRetries=0)
    worker.finishArtifact(task_id, 0, name, {"uploadId": created["uploadId"]})
    return created


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["dataInline", "putUrl"])
def test_object_artifact_round_trip_with_the_official_helpers(mock, queue, data):
    task_id, creds = running_task(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    created = upload_object_artifact(mock, worker, task_id, "public/data.bin", data)
    # the credentials were for exactly this upload
    cert = json.loads(created["credentials"]["certificate"])
    assert cert["scopes"] == [f"object:upload:none:t/{task_id}/0/public/data.bin"]

    got, content_type = taskcluster.download.downloadArtifactToBuf(
        taskId=task_id, name="public/data.bin", queueService=queue, maxRetries=0)
    assert bytes(got) == data and content_type == "application/octet-stream"
    got, _ = taskcluster.download.downloadArtifactToBuf(
        taskId=task_id, runId=0, name="public/data.bin", queueService=queue, maxRetries=0)
    assert bytes(got) == data
    out = io.BytesIO()
    taskcluster.download.downloadArtifactToFile(
        file=out, taskId=task_id, name="public/data.bin", queueService=queue, maxRetries=0)
    assert out.getvalue() == data

    # any HTTP client: getLatestArtifact answers 303, following it gives the bytes
    url = queue.buildUrl("getLatestArtifact", task_id, "public/data.bin")
    r = httpx.get(url, follow_redirects=True)
    assert r.status_code == 200 and r.content == data
    assert [h.status_code for h in r.history] == [303]


def test_the_object_service_methods_directly(mock, queue):
    task_id, creds = running_task(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    created = upload_object_artifact(mock, worker, task_id, "public/x.txt", b"hello",
                                     "text/plain")
    download = taskcluster.Object({"rootUrl": mock.root_url, "maxRetries": 0,
                                   "credentials": queue.artifact(task_id, 0, "public/x.txt")
                                   ["credentials"]})
    assert download.ping()["alive"] is True
    meta = download.object(created["name"])
    assert meta["projectId"] == "none" and len(meta["hashes"]["sha512"]) == 128
    started = download.startDownload(created["name"], {"acceptDownloadMethods": {"getUrl": True}})
    assert started["method"] == "getUrl" and started["hashes"] == meta["hashes"]
    assert httpx.get(started["url"]).content == b"hello"
    simple = download.startDownload(created["name"], {"acceptDownloadMethods": {"simple": True}})
    assert set(simple) == {"method", "url"}
    with pytest.raises(TaskclusterRestFailure) as info:
        download.startDownload(created["name"], {"acceptDownloadMethods": {}})
    assert (info.value.status_code, info.value.body["code"]) == (406, "NoMatchingMethod")
    # download: a 303 to the bytes, for a signed URL in a browser
    signed = download.buildSignedUrl("download", created["name"])
    r = httpx.get(signed, follow_redirects=True)
    assert r.status_code == 200 and r.content == b"hello" and r.history[0].status_code == 303

    # the download credentials cannot upload, and the upload credentials expire with their use
    with pytest.raises(TaskclusterRestFailure) as info:
        download.createUpload("t/other", {"projectId": "none", "uploadId": taskcluster.slugId(),
                                          "expires": taskcluster.fromNowJSON("1 hour"),
                                          "proposedUploadMethods": {}})
    assert info.value.status_code == 403
    anonymous = taskcluster.Object({"rootUrl": mock.root_url, "maxRetries": 0})
    with pytest.raises(TaskclusterRestFailure) as info:
        anonymous.object(created["name"])
    assert (info.value.status_code, info.value.body["code"]) == (403, "InsufficientScopes")


def test_upload_rules(mock):
    root = taskcluster.Object({"rootUrl": mock.root_url, "credentials": dict(mock.credentials),
                               "maxRetries": 0})
    name, upload_id = f"learner/{taskcluster.slugId()}", taskcluster.slugId()
    expires = taskcluster.fromNowJSON("1 hour")
    body = {"projectId": "p1", "uploadId": upload_id, "expires": expires,
            "proposedUploadMethods": {}}
    assert root.createUpload(name, body)["uploadMethod"] == {}
    again = root.createUpload(name, {**body, "proposedUploadMethods": {
        "putUrl": {"contentType": "text/plain", "contentLength": 3}}})
    put = again["uploadMethod"]["putUrl"]
    assert put["headers"] == {"Content-Type": "text/plain", "Content-Length": "3"}
    # somebody else's uploadId, or a different project: 409
    for other in ({**body, "uploadId": taskcluster.slugId()}, {**body, "projectId": "p2"}):
        with pytest.raises(TaskclusterRestFailure) as info:
            root.createUpload(name, other)
        assert (info.value.status_code, info.value.body["code"]) == (409, "RequestConflict")
    # finishing before the bytes arrived is refused; a wrong uploadId conflicts
    with pytest.raises(TaskclusterRestFailure) as info:
        root.finishUpload(name, {"projectId": "p1", "uploadId": upload_id})
    assert info.value.status_code == 400
    assert httpx.put(put["url"], content=b"abc", headers={"Content-Type": "image/png"}
                     ).status_code == 400
    tampered = put["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.put(tampered, content=b"abc", headers=put["headers"]).status_code == 403
    assert httpx.put(put["url"], content=b"abc", headers=put["headers"]).status_code == 200
    with pytest.raises(TaskclusterRestFailure) as info:
        root.finishUpload(name, {"projectId": "p1", "uploadId": taskcluster.slugId()})
    assert info.value.status_code == 409
    with pytest.raises(TaskclusterRestFailure) as info:
        root.finishUpload(name, {"projectId": "p2", "uploadId": upload_id})
    assert info.value.status_code == 400
    root.finishUpload(name, {"projectId": "p1", "uploadId": upload_id})
    root.finishUpload(name, {"projectId": "p1", "uploadId": upload_id})  # idempotent
    assert httpx.put(put["url"], content=b"xyz", headers=put["headers"]).status_code == 409
    with pytest.raises(TaskclusterRestFailure) as info:
        root.createUpload(name, body)
    assert info.value.status_code == 409
    # a bad base64 body, an unknown object
    with pytest.raises(TaskclusterRestFailure) as info:
        root.createUpload(f"learner/{taskcluster.slugId()}", {**body, "proposedUploadMethods": {
            "dataInline": {"contentType": "text/plain", "objectData": "**"}}})
    assert (info.value.status_code, info.value.body["code"]) == (400, "InputError")
    with pytest.raises(TaskclusterRestFailure) as info:
        root.object("learner/none")
    assert (info.value.status_code, info.value.body["code"]) == (404, "ResourceNotFound")
    # the input schema is enforced
    r = httpx.put(f"{mock.root_url}/api/object/v1/upload/x", json={"projectId": "p"})
    assert r.status_code == 400 and r.json()["code"] == "InputValidationError"
    assert "/schemas/object/v1/create-upload-request.json" in r.json()["message"]
    inline = base64.b64encode(b"in line").decode()
    name2 = f"learner/{taskcluster.slugId()}"
    got = root.createUpload(name2, {**body, "proposedUploadMethods": {
        "dataInline": {"contentType": "text/plain", "objectData": inline}}})
    assert got["uploadMethod"] == {"dataInline": True}


def test_finish_artifact_checks_the_upload_happened(mock, queue):
    task_id, creds = running_task(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    created = worker.createArtifact(task_id, 0, "public/never.bin", {
        "storageType": "object", "contentType": "application/octet-stream",
        "expires": taskcluster.fromNowJSON("1 day")})
    with pytest.raises(TaskclusterRestFailure) as info:
        worker.finishArtifact(task_id, 0, "public/never.bin", {"uploadId": created["uploadId"]})
    assert info.value.status_code == 400
    assert "Object storing artifact data does not exist" in info.value.body["message"]


def test_s3_reference_and_error_artifacts_through_the_download_helper(mock, queue):
    task_id, creds = running_task(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    expires = taskcluster.fromNowJSON("1 day")
    s3 = worker.createArtifact(task_id, 0, "public/s3.txt", {
        "storageType": "s3", "contentType": "text/plain", "expires": expires})
    assert httpx.put(s3["putUrl"], content=b"s3 bytes",
                     headers={"Content-Type": "text/plain"}).status_code == 200
    worker.createArtifact(task_id, 0, "public/ref.txt", {
        "storageType": "reference", "contentType": "text/plain", "expires": expires,
        "url": queue.buildUrl("getArtifact", task_id, 0, "public/s3.txt")})
    worker.createArtifact(task_id, 0, "public/err.txt", {
        "storageType": "error", "expires": expires, "reason": "file-missing-on-worker",
        "message": "no such file"})
    got, content_type = taskcluster.download.downloadArtifactToBuf(
        taskId=task_id, name="public/s3.txt", queueService=queue, maxRetries=0)
    assert (bytes(got), content_type) == (b"s3 bytes", "text/plain")
    got, _ = taskcluster.download.downloadArtifactToBuf(
        taskId=task_id, name="public/ref.txt", queueService=queue, maxRetries=0)
    assert bytes(got) == b"s3 bytes"
    with pytest.raises(TaskclusterArtifactError) as info:
        taskcluster.download.downloadArtifactToBuf(
            taskId=task_id, name="public/err.txt", queueService=queue, maxRetries=0)
    assert info.value.reason == "file-missing-on-worker"
