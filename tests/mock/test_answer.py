"""The HTTP layer's answers and reply cache: unit tests, then the cache on a real server.

The reply cache must never show a state older than the store's: every test below changes the
state another way (a worker's claim, time passing, a priority change, a reset) right after a
poll that filled the cache, and the next poll must show the change.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import taskcluster

from tutorial_kit.mock import start
from tutorial_kit.mock.web.answer import API, CORS, NONE, Answer, ReplyCache, request_id
from tutorial_kit.mock.web.app import ApiRequest, QueueApp
from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mockctl import MockControl

QUEUE_ID = "proj-answer/worker"


# -- unit --------------------------------------------------------------------------------------

def test_request_ids_are_distinct_version_4_uuids():
    ids = [request_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for rid in ids[:500]:
        parsed = uuid.UUID(rid)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, rid)


def _headers(answer: Answer) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in answer.raw_headers()]


def test_answer_carries_fixed_headers_type_and_length():
    headers = _headers(Answer(b'{"a":1}', headers={"x-for-request-id": "r1"}))
    names = [k for k, _ in headers]
    assert sorted(names) == sorted([*API.names, "content-type", "content-length",
                                    "x-for-request-id"])
    assert dict(headers)["content-length"] == "7"
    assert dict(headers)["content-type"] == "application/json; charset=utf-8"


def test_an_own_header_replaces_the_fixed_one_of_that_name():
    headers = _headers(Answer(b"{}", headers={"cache-control": "no-cache"}))
    assert [v for k, v in headers if k == "cache-control"] == ["no-cache"]


def test_empty_replies_have_no_length_or_type():
    for status in (204, 304):
        names = [k for k, _ in _headers(Answer(b"", status, content_type=None))]
        assert "content-length" not in names and "content-type" not in names
    assert _headers(Answer(b"", 400, content_type=None, fixed=NONE)) == [("content-length", "0")]
    blob = Answer(b"", headers={"content-length": "5", "content-type": "text/plain"},
                  content_type=None, fixed=CORS)
    assert [v for k, v in _headers(blob) if k == "content-length"] == ["5"]
    assert "cache-control" not in dict(_headers(blob))


class _Versioned:
    STATE_READS = frozenset({"status"})

    def __init__(self) -> None:
        self.version = 0

    def state_version(self) -> int:
        return self.version


def test_reply_cache_hits_until_the_state_changes():
    backend = _Versioned()
    cache = ReplyCache(backend)
    params = {"taskId": "T"}
    body, version = cache.lookup("status", params)
    assert body is None
    cache.put("status", params, version, b"first")
    assert cache.lookup("status", params) == (b"first", 0)
    assert cache.lookup("status", {"taskId": "U"}) == (None, 0)
    backend.version = 1
    assert cache.lookup("status", params) == (None, 1)


def test_reply_cache_refuses_a_body_computed_before_a_change():
    backend = _Versioned()
    cache = ReplyCache(backend)
    _, version = cache.lookup("status", {"taskId": "T"})
    backend.version = 1
    cache.lookup("status", {"taskId": "U"})  # another poll sees the new state first
    cache.put("status", {"taskId": "T"}, version, b"old")
    assert cache.lookup("status", {"taskId": "T"}) == (None, 1)


def test_reply_cache_stays_within_its_budget():
    cache = ReplyCache(_Versioned())
    _, version = cache.lookup("status", {"taskId": "T"})
    cache.put("status", {"taskId": "big"}, version, b"x" * (ReplyCache.MAX_BODY + 1))
    assert cache.lookup("status", {"taskId": "big"})[0] is None
    chunk = b"y" * ReplyCache.MAX_BODY
    for n in range(ReplyCache.MAX_TOTAL // ReplyCache.MAX_BODY + 5):
        cache.put("status", {"taskId": str(n)}, version, chunk)
        assert cache._total <= ReplyCache.MAX_TOTAL
        assert cache._total == sum(len(b) for b in cache._bodies.values())
    for n in range(ReplyCache.MAX_ENTRIES + 5):
        cache.put("status", {"taskId": f"s{n}"}, version, b"z")
        assert len(cache._bodies) <= ReplyCache.MAX_ENTRIES


def test_reply_cache_keeps_only_state_reads():
    cache = ReplyCache(_Versioned())
    assert cache.lookup("createTask", {"taskId": "T"}) == (None, None)
    cache.put("createTask", {"taskId": "T"}, None, b"x")
    assert cache.lookup("createTask", {"taskId": "T"}) == (None, None)


def test_api_request_reads_the_first_of_repeated_headers():
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [
        (b"x-for-trace-id", b"first"), (b"x-for-trace-id", b"second"), (b"host", b"h")]}
    assert ApiRequest(scope).headers == {"x-for-trace-id": "first", "host": "h"}


def test_a_caller_gone_mid_body_gets_a_400_and_the_app_lives_on():
    app = QueueApp(QueueBackend())
    path = f"/api/queue/v1/task/{taskcluster.slugId()}"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
             "headers": [(b"host", b"127.0.0.1:2"), (b"content-type", b"application/json"),
                         (b"content-length", b"100")]}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert app.request_log.since(0)[-1].status == 400


def test_a_bodiless_unsigned_poll_never_reads_the_request_stream():
    # A learner's poll (no body, no credentials) is answered without receiving from the
    # server: here receiving would say the client left (an empty 400), so the 404 envelope
    # shows the app went from the headers alone to the model, as anonymous.
    app = QueueApp(QueueBackend())
    task_id = taskcluster.slugId()
    path = f"/api/queue/v1/task/{task_id}/status"
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    for method, extra in [("GET", []), ("HEAD", []), ("GET", [(b"content-length", b"0")])]:
        sent.clear()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 2), "headers": [(b"host", b"127.0.0.1:2"), *extra]}
        asyncio.run(app(scope, receive, send))
        if extra:  # a declared body, even an empty one, is read: the client has gone
            assert sent[0]["status"] == 400 and sent[1]["body"] == b""
        else:
            assert sent[0]["status"] == 404
            assert json.loads(sent[1]["body"])["code"] == "ResourceNotFound"
    assert [r.client_id for r in app.request_log.since(0)] == [None, None, None]


# -- the cache on a real server ------------------------------------------------------------------

@pytest.fixture(scope="module")
def mock():
    with start(workers=False, claim_wait=0.2, check_output=True) as m:
        yield m


@pytest.fixture
def queue(mock):
    mock.faults.clear()
    return taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials),
                              "maxRetries": 0})


def _create(queue, **extra) -> str:
    task_id = taskcluster.slugId()
    queue.createTask(task_id, {
        "taskQueueId": QUEUE_ID, "created": taskcluster.fromNowJSON("0 seconds"),
        "deadline": taskcluster.fromNowJSON("1 hour"), "payload": {},
        "metadata": {"name": "cache", "description": "d", "owner": "t@example.com",
                     "source": "https://example.com/cache"}, **extra})
    return task_id


def _poll(mock, task_id: str) -> dict:
    """An anonymous poll, twice, as a widget would: the second comes from the cache."""
    url = f"{mock.root_url}/api/queue/v1/task/{task_id}/status"
    first, second = httpx.get(url), httpx.get(url)
    assert first.status_code == second.status_code == 200, first.text
    assert first.content == second.content
    assert first.headers["x-for-request-id"] != second.headers["x-for-request-id"]
    return second.json()["status"]


def test_a_poll_sees_a_claim_made_by_a_worker(mock, queue):
    task_id = _create(queue, taskQueueId="proj-answer/claim")  # its own queue: the only task
    assert _poll(mock, task_id)["state"] == "pending"
    claimed = queue.claimWork("proj-answer/claim",
                              {"workerGroup": "g", "workerId": "w", "tasks": 1})
    assert [c["status"]["taskId"] for c in claimed["tasks"]] == [task_id]
    assert _poll(mock, task_id)["state"] == "running"
    queue.reportCompleted(task_id, "0")
    assert _poll(mock, task_id)["runs"][0]["reasonResolved"] == "completed"


def test_a_poll_sees_what_time_did():
    # A mock of its own: moving its clock would put the shared one out of step with fromNow().
    with start(workers=False, claim_wait=0.2) as own:
        queue = taskcluster.Queue({"rootUrl": own.root_url,
                                   "credentials": dict(own.credentials), "maxRetries": 0})
        task_id = _create(queue, taskQueueId="proj-answer/nobody")
        assert _poll(own, task_id)["state"] == "pending"
        control = MockControl(own.root_url)
        try:
            control.pause()
            control.advance("2 hours")  # past the deadline: the resolver writes, nobody calls
            status = _poll(own, task_id)
        finally:
            control.close()
    assert (status["state"], status["runs"][0]["reasonResolved"]) == ("exception",
                                                                        "deadline-exceeded")


def test_the_task_read_sees_a_priority_change(mock, queue):
    task_id = _create(queue, priority="low")
    url = f"{mock.root_url}/api/queue/v1/task/{task_id}"
    assert httpx.get(url).json()["priority"] == "low"
    queue.changeTaskPriority(task_id, {"newPriority": "high"})
    assert httpx.get(url).json()["priority"] == "high"


def test_an_injected_fault_still_hits_a_cached_read(mock, queue):
    task_id = _create(queue)
    _poll(mock, task_id)
    mock.faults.fail_next("status", 1, status=503)
    url = f"{mock.root_url}/api/queue/v1/task/{task_id}/status"
    assert httpx.get(url).status_code == 503
    assert httpx.get(url).status_code == 200


def test_a_reset_empties_what_polls_see(mock, queue):
    task_id = _create(queue)
    _poll(mock, task_id)
    control = MockControl(mock.root_url)
    try:
        control.reset()
    finally:
        control.close()
    answer = httpx.get(f"{mock.root_url}/api/queue/v1/task/{task_id}/status")
    assert (answer.status_code, answer.json()["code"]) == (404, "ResourceNotFound")
