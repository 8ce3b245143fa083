"""Every retry loop (API requests, Queue downloads, the helpers' data PUT and GET; sync and
async) asks ``retry.decide`` and nothing else; real requests to a scripted loopback server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket

import pytest

from scripted_server import Answer
from tutorial_kit.client import (AsyncQueue, Queue, TaskclusterConnectionError, TaskclusterError,
                                 retry)
from tutorial_kit.client import download as helpers_download
from tutorial_kit.client import upload as helpers_upload
from tutorial_kit.client.objects import AsyncObject, Object

TASK = "fN1SbArXTPSVFNUvaOlinQ"
DATA = bytes(range(256)) * 40  # 10 KiB: over the inline limit, so it goes by PUT


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _upload_script(server, put_url: str, *put_answers: Answer) -> None:
    server.push(Answer(200, {"uploadMethod": {"putUrl": {
        "url": put_url, "expires": "2030-01-01T00:00:00.000Z",
        "headers": {"Content-Type": "application/octet-stream",
                    "Content-Length": str(len(DATA))}}}}),
        *put_answers, Answer(200, {}))


def _upload_kwargs(objects) -> dict:
    return dict(projectId="proj", name="x/data.bin", contentType="application/octet-stream",
                contentLength=len(DATA), expires="2030-01-01T00:00:00.000Z", data=DATA,
                objectService=objects, maxRetries=3)


def _check_uploaded(server, puts: int) -> None:
    data_puts = [r for r in server.requests if r.path == "/put/data"]
    assert len(data_puts) == puts and all(r.body == DATA for r in data_puts)
    finish = json.loads(server.requests[-1].body)
    assert finish["hashes"]["sha256"] == hashlib.sha256(DATA).hexdigest()


def test_upload_put_is_retried_on_5xx(server, creds, sleeps):
    _upload_script(server, server.url + "/put/data", Answer(503, b"busy"), Answer(200, b""))
    with Object(rootUrl=server.url, credentials=creds, sleep=sleeps) as objects:
        helpers_upload.uploadFromBuf(**_upload_kwargs(objects))
    _check_uploaded(server, puts=2)
    assert len(sleeps.delays) == 1 and 0.075 <= sleeps.delays[0] <= 0.125


def test_async_upload_put_is_retried_on_5xx(server, creds, sleeps):
    _upload_script(server, server.url + "/put/data", Answer(500, b"oops"), Answer(502, b""),
                   Answer(200, b""))

    async def main() -> None:
        async with AsyncObject(rootUrl=server.url, credentials=creds,
                               sleep=sleeps.asleep) as objects:
            await helpers_upload.uploadFromBuf_async(**_upload_kwargs(objects))

    asyncio.run(main())
    _check_uploaded(server, puts=3)
    assert len(sleeps.delays) == 2


def test_upload_put_4xx_is_final_and_explained(server, creds, sleeps):
    _upload_script(server, server.url + "/put/data", Answer(403, b"signature expired"))
    with Object(rootUrl=server.url, credentials=creds, sleep=sleeps) as objects:
        with pytest.raises(TaskclusterError) as info:
            helpers_upload.uploadFromBuf(**_upload_kwargs(objects))
    assert info.value.code == "UploadFailed" and info.value.status_code == 403
    assert sleeps.delays == []


def test_upload_put_with_no_answer_is_a_connection_error(server, creds, sleeps):
    put_url = f"http://127.0.0.1:{_closed_port()}/put/data"
    _upload_script(server, put_url)
    with Object(rootUrl=server.url, credentials=creds, sleep=sleeps) as objects:
        with pytest.raises(TaskclusterConnectionError) as info:
            helpers_upload.uploadFromBuf(**_upload_kwargs(objects))
    assert "4 attempt(s)" in str(info.value) and put_url in str(info.value)
    assert len(sleeps.delays) == 3


def _artifact_script(server, *blob_answers: Answer) -> None:
    server.push(Answer(200, {"storageType": "s3", "url": server.url + "/blob/data.bin"}),
                *blob_answers)


def test_helper_download_is_retried_on_5xx(server, creds, sleeps):
    _artifact_script(server, Answer(503, b"busy"),
                     Answer(200, DATA, {"Content-Type": "application/x-test"}))
    with Queue(rootUrl=server.url, credentials=creds, sleep=sleeps) as queue:
        data, content_type = helpers_download.downloadArtifactToBuf(
            taskId=TASK, name="public/data.bin", queueService=queue, maxRetries=2)
    assert data == DATA and content_type == "application/x-test"
    assert len(sleeps.delays) == 1


def test_async_helper_download_is_retried_on_5xx(server, creds, sleeps):
    _artifact_script(server, Answer(500, b"oops"), Answer(200, DATA))

    async def main() -> tuple[bytes, str]:
        async with AsyncQueue(rootUrl=server.url, credentials=creds,
                              sleep=sleeps.asleep) as queue:
            return await helpers_download.downloadArtifactToBuf_async(
                taskId=TASK, name="public/data.bin", queueService=queue, maxRetries=2)

    data, _ = asyncio.run(main())
    assert data == DATA and len(sleeps.delays) == 1


def test_helper_download_4xx_is_final(server, creds, sleeps):
    _artifact_script(server, Answer(404, b"no such key"))
    with Queue(rootUrl=server.url, credentials=creds, sleep=sleeps) as queue:
        with pytest.raises(TaskclusterError) as info:
            helpers_download.downloadArtifactToBuf(
                taskId=TASK, name="public/data.bin", queueService=queue, maxRetries=2)
    assert info.value.code == "DownloadFailed" and info.value.status_code == 404
    assert sleeps.delays == []


def test_every_loop_asks_decide(server, creds, sleeps, monkeypatch):
    """With ``decide`` replaced by a policy that also retries 418 once, every loop retries a
    418: none of them decides on its own."""
    asked: list[int | str] = []

    def teapot_policy(attempt, max_retries, outcome, rand=None):
        asked.append(outcome if isinstance(outcome, int) else type(outcome).__name__)
        if outcome == 418 and attempt == 1:
            return 0.0
        return real_decide(attempt, max_retries, outcome)

    real_decide = retry.decide
    monkeypatch.setattr(retry, "decide", teapot_policy)
    tea = Answer(418, b"teapot")
    blob = server.url + "/blob/data.bin"

    with Queue(rootUrl=server.url, credentials=creds, sleep=sleeps) as queue:
        server.push(tea, Answer(200, {"status": {}}))
        assert queue.status(TASK) == {"status": {}}
        server.push(tea, Answer(303, {"url": blob}, {"Location": blob}), Answer(200, DATA))
        assert queue.downloadLatestArtifact(TASK, "public/data.bin") == DATA
        _artifact_script(server, tea, Answer(200, DATA))
        assert helpers_download.downloadArtifactToBuf(
            taskId=TASK, name="public/data.bin", queueService=queue)[0] == DATA
    _upload_script(server, server.url + "/put/data", tea, Answer(200, b""))
    with Object(rootUrl=server.url, credentials=creds, sleep=sleeps) as objects:
        helpers_upload.uploadFromBuf(**_upload_kwargs(objects))
    sync_asked = list(asked)
    asked.clear()

    async def flavour_async() -> None:
        async with AsyncQueue(rootUrl=server.url, credentials=creds,
                              sleep=sleeps.asleep) as queue:
            server.push(tea, Answer(200, {"status": {}}))
            assert await queue.status(TASK) == {"status": {}}
            server.push(tea, Answer(303, {"url": blob}, {"Location": blob}), Answer(200, DATA))
            assert await queue.downloadLatestArtifact(TASK, "public/data.bin") == DATA
            _artifact_script(server, tea, Answer(200, DATA))
            assert (await helpers_download.downloadArtifactToBuf_async(
                taskId=TASK, name="public/data.bin", queueService=queue))[0] == DATA
        _upload_script(server, server.url + "/put/data", tea, Answer(200, b""))
        async with AsyncObject(rootUrl=server.url, credentials=creds,
                               sleep=sleeps.asleep) as objects:
            await helpers_upload.uploadFromBuf_async(**_upload_kwargs(objects))

    asyncio.run(flavour_async())
    # per flavour: status; download; artifact + blob; createUpload + PUT + finishUpload
    expected = [418, 200, 418, 200, 200, 418, 200, 200, 418, 200, 200]
    assert sync_asked == expected and asked == expected
