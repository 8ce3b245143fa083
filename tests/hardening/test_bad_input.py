"""Bad input, generated: every answer is below 500, every refusal Taskcluster's envelope.

The generator (``fuzzing.py``) spoils valid requests to every Queue method; a few hundred cases
run here, >= 10,000 in ``benchmarks/bench_fuzz.py``. Hand-written cases cover what a generator
reaches too rarely: oversized bodies (the real limit, 10 MB), request lines too long for the
HTTP parser, bytes that are not HTTP at all.
"""

from __future__ import annotations

import collections
import json
import select
import socket

import pytest
from hypothesis import HealthCheck, given, settings

from tutorial_kit.mock import MockQueue

from .fuzzing import Case, World, cases, check_case, setup_world
from .support import Wire, assert_still_serves, check_error, new_task_id, task_definition

MAX_BODY = 10 * 1024 * 1024
CASES = 300


@pytest.fixture(scope="module")
def world(mock: MockQueue, wire: Wire) -> World:
    return setup_world(wire, mock.credentials)


def test_generated_bad_requests_get_4xx_envelopes(mock: MockQueue, wire: Wire,
                                                  world: World) -> None:
    outcomes: collections.Counter[str] = collections.Counter()

    @settings(max_examples=CASES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(case=cases())
    def one(case: Case) -> None:
        answer = check_case(wire, world, case, secrets=(mock.credentials["accessToken"],))
        outcomes[f"{answer.status // 100}xx"] += 1

    one()
    # The cases were neither all refused early nor all accepted, and the server still serves.
    assert outcomes["4xx"] >= CASES // 6, outcomes
    assert outcomes["2xx"] + outcomes["3xx"] >= CASES // 30, outcomes
    assert outcomes["5xx"] == 0
    assert_still_serves(wire)


def test_declared_oversized_body_is_413(mock: MockQueue, wire: Wire) -> None:
    task_id = new_task_id()
    answer = wire.send("PUT", f"/api/queue/v1/task/{task_id}", content_type="application/json",
                       headers={"Content-Length": str(MAX_BODY + 1)},
                       credentials=None)
    body = check_error(answer, method="createTask")
    assert answer.status == 413 and body is not None and body["code"] == "InputTooLarge"
    assert_still_serves(wire)


def test_streamed_oversized_body_is_413(mock: MockQueue, wire: Wire) -> None:
    # A chunked body declares no length: the server must count while it reads.
    task_id = new_task_id()
    chunk = b"x" * (1024 * 1024)
    head = (f"PUT /api/queue/v1/task/{task_id} HTTP/1.1\r\nHost: {wire.host}:{wire.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n").encode()
    raw = b""
    with socket.create_connection((wire.host, wire.port), timeout=15) as sock:
        sock.sendall(head)
        for _ in range(12):  # 12 MB in all, unless the server answers first
            if select.select([sock], [], [], 0)[0]:
                break  # the answer is there: stop sending, read it
            try:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        while len(raw) < 200_000:  # until the server closes (Connection: close)
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            raw += part
    status_line, _, rest = raw.partition(b"\r\n")
    assert b" 413 " in status_line, raw[:300]
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["code"] == "InputTooLarge"
    assert_still_serves(wire)


def test_a_body_under_the_limit_is_parsed(mock: MockQueue, wire: Wire) -> None:
    # Just under 10 MB of JSON is read and judged on its content (here: schema-valid).
    task = task_definition(extra={"blob": "y" * (MAX_BODY - 200_000)})
    answer = wire.api("PUT", f"/task/{new_task_id()}", json_body=task,
                      credentials=mock.credentials)
    assert answer.status == 200, answer.text[:500]


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/queue/v1/ping" + b"/x" * 20_000 + b" HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /api/queue/v1/task/a\x00b/status HTTP/1.1\r\nHost: h\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),  # a TLS hello
    b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 70_000 + b"\r\n\r\n",
    b"NOT HTTP AT ALL\r\n\r\n",
], ids=["long-request-line", "raw-nul", "tls-hello", "huge-header", "garbage"])
def test_requests_that_are_not_http_are_refused_and_the_server_lives(
        wire: Wire, request_bytes: bytes) -> None:
    with socket.create_connection((wire.host, wire.port), timeout=15) as sock:
        sock.sendall(request_bytes)
        sock.shutdown(socket.SHUT_WR)
        raw = b""
        while len(raw) < 100_000:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            raw += part
    if raw:  # the HTTP parser may answer 400 or just close; it never answers 5xx
        assert raw.startswith(b"HTTP/1.1 4"), raw[:200]
    assert_still_serves(wire)
