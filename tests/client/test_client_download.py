"""Downloads: GET the artifact (bewit-signed with credentials), follow the 303, stream."""

from __future__ import annotations

import io

import pytest

from scripted_server import Answer
from tutorial_kit.client import ArtifactError, TaskclusterConnectionError, TaskclusterError

TASK = "fN1SbArXTPSVFNUvaOlinQ"
DATA = bytes(range(256)) * 300  # 76800 bytes: several chunks


def _redirect_then_blob(server, data=DATA):
    def answer(rec):
        if rec.path == "/blob/hello.bin":
            return Answer(200, data, {"Content-Type": "application/octet-stream"})
        url = server.url + "/blob/hello.bin"
        return Answer(303, {"storageType": "s3", "url": url}, {"Location": url})
    server.fallback = answer


def test_download_latest_to_bytes_with_progress(server, queue):
    _redirect_then_blob(server)
    calls = []
    got = queue.downloadLatestArtifact(TASK, "public/hello.bin", chunk_size=16384,
                                       progress=lambda n, total: calls.append((n, total)))
    assert got == DATA
    first, second = server.requests
    assert first.path == f"/api/queue/v1/task/{TASK}/artifacts/public%2Fhello.bin"
    assert first.hawk == "bewit-ok" and "authorization" not in first.headers
    assert second.path == "/blob/hello.bin"
    assert calls[0] == (0, len(DATA)) and calls[-1] == (len(DATA), len(DATA))
    assert [n for n, _ in calls] == sorted(n for n, _ in calls) and len(calls) >= 3


def test_download_run_to_a_path(server, anon_queue, tmp_path):
    _redirect_then_blob(server)
    target = tmp_path / "out.bin"
    assert anon_queue.downloadArtifact(TASK, 1, "public/hello.bin", file=target) == len(DATA)
    assert target.read_bytes() == DATA
    assert server.requests[0].path == f"/api/queue/v1/task/{TASK}/runs/1/artifacts/public%2Fhello.bin"
    assert server.requests[0].hawk == "none" and "bewit" not in server.requests[0].target


def test_download_to_a_file_object(server, anon_queue):
    _redirect_then_blob(server, b"tiny")
    buf = io.BytesIO()
    assert anon_queue.downloadLatestArtifact(TASK, "public/hello.bin", file=buf) == 4
    assert buf.getvalue() == b"tiny"


def test_empty_artifact_reports_progress_once(server, anon_queue):
    _redirect_then_blob(server, b"")
    calls = []
    assert anon_queue.downloadLatestArtifact(TASK, "public/hello.bin",
                                             progress=lambda *a: calls.append(a)) == b""
    assert calls == [(0, 0)]


def test_error_artifact_raises_artifact_error(server, anon_queue):
    server.push(Answer(424, {"reason": "file-missing-on-worker", "message": "gone"}))
    with pytest.raises(ArtifactError) as info:
        anon_queue.downloadLatestArtifact(TASK, "public/missing.txt")
    assert info.value.reason == "file-missing-on-worker"
    assert info.value.method == "getLatestArtifact"


@pytest.mark.parametrize("status,code", [(404, "ResourceNotFound"), (403, "InsufficientScopes"),
                                         (410, "ResourceExpired")])
def test_envelope_errors(server, anon_queue, status, code):
    server.push(Answer(status, {"code": code, "message": "no"}))
    with pytest.raises(TaskclusterError) as info:
        anon_queue.downloadLatestArtifact(TASK, "private/x")
    assert info.value.code == code and info.value.status_code == status


def test_storage_5xx_is_retried(server, anon_queue, sleeps):
    url = server.url + "/blob/hello.bin"
    server.push(Answer(303, {"url": url}, {"Location": url}), Answer(503, b"busy"),
                Answer(303, {"url": url}, {"Location": url}), Answer(200, b"data"))
    assert anon_queue.downloadLatestArtifact(TASK, "public/hello.bin") == b"data"
    assert len(server.requests) == 4 and len(sleeps.delays) == 1


def test_bad_file_argument(anon_queue):
    with pytest.raises(TaskclusterError, match="path or a binary file object"):
        anon_queue.downloadLatestArtifact(TASK, "public/x", file=42)


def _cut_then_whole(server, data: bytes) -> None:
    url = server.url + "/blob/data.bin"
    redirect = Answer(303, {"url": url}, {"Location": url})
    server.push(redirect, Answer(200, data, cut_after=100), redirect, Answer(200, data))


def test_a_download_cut_mid_stream_starts_over_in_memory(server, anon_queue, sleeps):
    data = bytes(range(256)) * 8
    _cut_then_whole(server, data)
    seen: list[int] = []
    got = anon_queue.downloadLatestArtifact(TASK, "public/data.bin", chunk_size=64,
                                            progress=lambda received, total: seen.append(received))
    assert got == data and len(server.requests) == 4 and len(sleeps.delays) == 1
    assert seen.count(0) == 2 and seen[-1] == len(data)  # the progress restarts with the data


def test_a_download_cut_mid_stream_into_a_callers_file_is_not_retried(server, anon_queue,
                                                                       sleeps):
    """Bytes already handed to the caller's file object cannot be taken back."""
    data = bytes(range(256)) * 8
    _cut_then_whole(server, data)
    out = io.BytesIO()
    with pytest.raises(TaskclusterConnectionError):
        anon_queue.downloadLatestArtifact(TASK, "public/data.bin", file=out, chunk_size=64)
    assert len(server.requests) == 2 and sleeps.delays == []
    assert 0 < len(out.getvalue()) < len(data)
