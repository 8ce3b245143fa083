"""start() / MockQueue: lifecycle, persistence, refusal to listen beyond loopback."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
import taskcluster

from tutorial_kit.mock import MockQueue, start
from tutorial_kit.mock.server import is_loopback


def task_def() -> dict:
    return {"taskQueueId": "proj-server/worker", "created": taskcluster.fromNowJSON("0 seconds"),
            "deadline": taskcluster.fromNowJSON("1 day"), "payload": {},
            "metadata": {"name": "server", "description": "d", "owner": "t@example.com",
                         "source": "https://example.com/server"}}


def test_start_returns_a_running_handle_and_stop_frees_the_port():
    mock = start(workers=False, claim_wait=0.1)
    try:
        assert isinstance(mock, MockQueue) and mock.running
        assert mock.root_url == f"http://127.0.0.1:{mock.port}"
        assert mock.credentials["clientId"] == "tutorial"
        assert len(mock.credentials["accessToken"]) == 44
        assert mock.env() == {"TASKCLUSTER_ROOT_URL": mock.root_url,
                              "TASKCLUSTER_CLIENT_ID": "tutorial",
                              "TASKCLUSTER_ACCESS_TOKEN": mock.credentials["accessToken"]}
        assert mock.clock is mock.backend.clock and mock.bus is mock.backend.bus
        assert httpx.get(mock.root_url + "/api/queue/v1/ping").json()["alive"] is True
    finally:
        mock.stop()
    assert not mock.running
    mock.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(mock.root_url + "/api/queue/v1/ping")
    # the port can be bound again
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", mock.port))


def test_tokens_are_random_unless_given():
    with start(workers=False, claim_wait=0.1) as a, start(workers=False, claim_wait=0.1) as b:
        assert a.credentials["accessToken"] != b.credentials["accessToken"]
        assert a.port != b.port
    with start(workers=False, access_token="my-token", client_id="me", claim_wait=0.1) as m:
        assert m.credentials == {"clientId": "me", "accessToken": "my-token"}
        q = taskcluster.Queue({"rootUrl": m.root_url, "credentials": dict(m.credentials)})
        task_id = taskcluster.slugId()
        assert q.createTask(task_id, task_def())["status"]["taskId"] == task_id


def test_file_store_survives_a_restart(tmp_path):
    db = tmp_path / "queue.sqlite"
    with start(workers=False, db=db, claim_wait=0.1) as first:
        q = taskcluster.Queue({"rootUrl": first.root_url,
                               "credentials": dict(first.credentials)})
        task_id = taskcluster.slugId()
        q.createTask(task_id, task_def())
    with start(workers=False, db=str(db), claim_wait=0.1) as second:
        anon = taskcluster.Queue({"rootUrl": second.root_url})
        status = anon.status(task_id)["status"]
        assert status["taskId"] == task_id and status["state"] == "pending"


def test_refuses_non_loopback_without_strict():
    with pytest.raises(ValueError, match="strict"):
        start(host="0.0.0.0", workers=False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")


def test_bad_arguments_and_busy_port_are_clear_errors():
    with pytest.raises(ValueError, match="port"):
        start(port=70000, workers=False)
    with start(workers=False, claim_wait=0.1) as mock:
        with pytest.raises(OSError, match="cannot listen"):
            start(port=mock.port, workers=False)


def test_ticker_resolves_claims_without_requests():
    with start(workers=False, claim_timeout=30, claim_wait=0.1) as mock:
        q = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials)})
        task_id = taskcluster.slugId()
        q.createTask(task_id, task_def())
        claim = q.claimWork("proj-server/worker", {"workerGroup": "wg", "workerId": "w"})
        assert claim["tasks"]
        seen = mock.bus.last_seq
        mock.clock.advance(60)  # the listener wakes the ticker; no request involved
        messages = mock.bus.wait(seen, timeout=10)
        assert any(m.exchange.endswith("task-exception") for m in messages)
        assert q.status(task_id)["status"]["runs"][0]["reasonResolved"] == "claim-expired"


def test_connect_starts_one_embedded_mock_and_reuses_it(monkeypatch, capsys):
    import tutorial_kit
    from tutorial_kit import connection as connect_module

    for name in ("TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert tutorial_kit.embedded_mock() is None
    try:
        queue = tutorial_kit.connect()
        line = capsys.readouterr().out
        mock = connect_module.embedded_mock()
        assert line.count("\n") == 1 and "mock queue" in line and mock.root_url in line
        task_id = taskcluster.slugId()
        assert queue.createTask(task_id, task_def())["status"]["taskId"] == task_id
        again = tutorial_kit.connect(quiet=True)
        assert capsys.readouterr().out == ""
        assert connect_module.embedded_mock() is mock
        assert again.status(task_id)["status"]["taskId"] == task_id
    finally:
        if connect_module.embedded_mock() is not None:
            connect_module.embedded_mock().stop()


def test_connect_uses_the_environment_when_set(monkeypatch, capsys):
    import tutorial_kit

    with start(workers=False, claim_wait=0.1) as mock:
        for name, value in mock.env().items():
            monkeypatch.setenv(name, value)
        queue = tutorial_kit.connect()
        line = capsys.readouterr().out
        assert mock.root_url in line and "TASKCLUSTER_ROOT_URL" in line
        assert "mock queue" in line  # it tells a mock named by the environment from a real one
        task_id = taskcluster.slugId()
        queue.createTask(task_id, task_def())
        assert mock.backend.dump()["tasks"][0]["taskId"] == task_id


def test_an_idle_connection_outlives_the_clients_own_idle_expiry():
    # httpx (so tutorial_kit's client) reuses a pooled connection idle for up to 5 s; a server
    # that closed at 5 s too would meet some of those requests with a closed socket.
    client_expiry = httpx.Limits().keepalive_expiry
    mock = start(workers=False)
    try:
        with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as conn:
            reader = conn.makefile("rb")
            request = (f"GET /api/queue/v1/ping HTTP/1.1\r\nHost: 127.0.0.1:{mock.port}\r\n\r\n"
                       ).encode()
            statuses = []
            for pause in (0.0, client_expiry + 0.2):
                time.sleep(pause)
                conn.sendall(request)
                statuses.append(reader.readline())
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                reader.read(length)
        assert statuses == [b"HTTP/1.1 200 OK\r\n"] * 2
    finally:
        mock.stop()
