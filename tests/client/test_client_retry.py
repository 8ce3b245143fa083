"""Retries: 5xx and no-answer failures are retried with backoff, 4xx never; real requests,
injected sleep."""

from __future__ import annotations

import socket

import pytest

from scripted_server import Answer
from tutorial_kit.client import (Queue, TaskclusterAuthError, TaskclusterConnectionError,
                                 TaskclusterError)
from tutorial_kit.client.retry import MAX_DELAY, backoff

TASK = "fN1SbArXTPSVFNUvaOlinQ"


def test_backoff_doubles_with_jitter_and_is_capped():
    assert backoff(0) == 0
    for n in range(1, 6):
        base = (2 ** (n - 1)) * 0.1
        assert backoff(n, rand=lambda: 0.0) == pytest.approx(base * 0.75)
        assert backoff(n, rand=lambda: 1.0) == pytest.approx(base * 1.25)
        assert backoff(n, rand=lambda: 0.5) == pytest.approx(base)
    assert backoff(20, rand=lambda: 1.0) == MAX_DELAY


def test_server_errors_then_success(server, queue, sleeps):
    server.push(Answer(500, {"code": "InternalServerError", "message": "boom"}),
                Answer(503, b"unavailable"), Answer(200, {"status": {"state": "pending"}}))
    assert queue.status(TASK) == {"status": {"state": "pending"}}
    assert len(server.requests) == 3
    assert len(sleeps.delays) == 2
    assert 0.075 <= sleeps.delays[0] <= 0.125 and 0.15 <= sleeps.delays[1] <= 0.25
    # every attempt is signed afresh: a replayed nonce would be refused by a real Queue
    assert all(r.hawk == "ok" for r in server.requests)
    assert len({r.hawk_attrs["nonce"] for r in server.requests}) == 3


def test_retries_are_used_up_then_the_5xx_is_raised(server, queue, sleeps):
    server.fallback = lambda rec: Answer(500, {"code": "InternalServerError",
                                               "message": "still broken"})
    with pytest.raises(TaskclusterError) as info:
        queue.status(TASK)
    assert info.value.status_code == 500 and info.value.code == "InternalServerError"
    assert len(server.requests) == 6  # 1 + maxRetries (5)
    assert len(sleeps.delays) == 5


@pytest.mark.parametrize("status,code", [(400, "InputError"), (404, "ResourceNotFound"),
                                         (409, "RequestConflict")])
def test_client_errors_are_not_retried(server, queue, sleeps, status, code):
    server.push(Answer(status, {"code": code, "message": "no"}))
    with pytest.raises(TaskclusterError) as info:
        queue.status(TASK)
    assert info.value.code == code and info.value.status_code == status
    assert len(server.requests) == 1 and sleeps.delays == []


def test_auth_failure_is_not_retried(server, queue, sleeps):
    server.push(Answer(401, {"code": "AuthenticationFailed", "message": "bad mac"}))
    with pytest.raises(TaskclusterAuthError):
        queue.status(TASK)
    assert len(server.requests) == 1 and sleeps.delays == []


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_connection_refused_is_retried_then_explained(sleeps):
    root = f"http://127.0.0.1:{_closed_port()}"
    with Queue(rootUrl=root, maxRetries=3, sleep=sleeps) as q:
        with pytest.raises(TaskclusterConnectionError) as info:
            q.status(TASK)
    err = info.value
    assert len(sleeps.delays) == 3
    assert err.status_code is None and err.method == "status"
    text = str(err)
    assert root in text and "4 attempt(s)" in text and "mock queue" in text


def test_connection_error_names_a_real_deployment(sleeps):
    with Queue(rootUrl="http://tc-deployment.invalid", maxRetries=0, sleep=sleeps) as q:
        with pytest.raises(TaskclusterConnectionError, match="real Taskcluster deployment"):
            q.status(TASK)


def test_timeout_per_attempt_is_retried(server, sleeps, creds):
    server.push(Answer(200, {"late": True}, delay=1.0), Answer(200, {"ok": True}))
    with Queue(rootUrl=server.url, credentials=creds, timeout=0.2, maxRetries=2,
               sleep=sleeps) as q:
        assert q.status(TASK) == {"ok": True}
    assert len(server.requests) == 2 and len(sleeps.delays) == 1


def test_timeouts_exhausting_retries_raise_connection_error(server, sleeps):
    server.fallback = lambda rec: Answer(200, {}, delay=1.0)
    with Queue(rootUrl=server.url, timeout=0.1, maxRetries=1, sleep=sleeps) as q:
        with pytest.raises(TaskclusterConnectionError, match="Timeout"):
            q.status(TASK)
    assert len(server.requests) == 2


def test_max_retries_zero_means_one_attempt(server, sleeps):
    server.fallback = lambda rec: Answer(502, b"bad gateway")
    with Queue(rootUrl=server.url, maxRetries=0, sleep=sleeps) as q:
        with pytest.raises(TaskclusterError):
            q.ping()
    assert len(server.requests) == 1 and sleeps.delays == []
