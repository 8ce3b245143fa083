"""The mock serves on uvicorn's fast parser and loop where installed, and on h11/asyncio too.

``tutorial_kit.mock.server.LOOP``/``HTTP`` pick them ("auto" by default); whichever runs, the
Queue answers the same, and a request the parser refuses gets Taskcluster's error envelope.
"""

from __future__ import annotations

import importlib.util
import json
import socket
from collections.abc import Iterator

import pytest

from tutorial_kit.client import Queue, TaskclusterError, fromNowJSON, slugid
from tutorial_kit.mock import server
from tutorial_kit.mock.web.protocols import http_protocol

HAS_HTTPTOOLS = importlib.util.find_spec("httptools") is not None
HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


@pytest.fixture(params=[("auto", "auto"), ("asyncio", "h11")], ids=["auto", "asyncio-h11"])
def served(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        tuple[str, str, server.MockQueue]]:
    loop, http = request.param
    monkeypatch.setattr(server, "LOOP", loop)
    monkeypatch.setattr(server, "HTTP", http)
    mock = server.start(workers=False)
    try:
        yield loop, http, mock
    finally:
        mock.stop()


def _raw(mock: server.MockQueue, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((mock.host, mock.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, v in
                   (line.split(":", 1) for line in lines[1:]))
    return int(lines[0].split()[1]), headers, body


def test_the_chosen_parser_and_loop_serve_the_queue(served) -> None:
    loop, http, mock = served
    protocol = mock._server.config.http_protocol_class
    loop_type = type(mock._loop).__module__
    if http == "h11" or not HAS_HTTPTOOLS:
        assert protocol.__mro__[1].__name__ == "H11Protocol"
    else:
        assert protocol.__mro__[1].__name__ == "HttpToolsProtocol"
    if loop == "asyncio" or not HAS_UVLOOP:
        assert loop_type.startswith("asyncio")
    else:
        assert loop_type.startswith("uvloop")

    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    task_id = slugid()
    task = {"taskQueueId": "proj/none", "created": fromNowJSON(""),
            "deadline": fromNowJSON("1 hour"), "payload": {},
            "metadata": {"name": "t", "description": "d", "owner": "o@example.com",
                         "source": "https://example.com/t"}}
    assert queue.createTask(task_id, task)["status"]["state"] == "pending"
    assert queue.status(task_id)["status"]["taskId"] == task_id
    with pytest.raises(TaskclusterError) as refused:
        queue.createTask(slugid(), dict(task, priority="urgent"))
    assert refused.value.status_code == 400 and refused.value.code == "InputValidationError"


def test_a_request_the_parser_refuses_gets_the_error_envelope(served) -> None:
    _, _, mock = served
    status, headers, body = _raw(mock, b"GET /api/queue/v1/ping HTTP/1.1\r\nHost x\r\n\r\n")
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    envelope = json.loads(body)
    assert envelope["code"] == "InputError"
    assert "not valid HTTP/1.1" in envelope["message"]
    assert "errorCode:  InputError" in envelope["message"]
    assert set(envelope["requestInfo"]) >= {"method", "params", "payload", "time"}
    # the server goes on serving
    assert _raw(mock, b"GET /api/queue/v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close"
                      b"\r\n\r\n")[0] == 200


def test_an_unknown_implementation_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown HTTP implementation"):
        http_protocol("zttp")
