"""The mock-only control plane (/mock/v1) through a real socket."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
import taskcluster

from tutorial_kit.mock import start


@pytest.fixture()
def mock():
    with start(workers=False, claim_wait=0.1, check_output=True) as m:
        yield m


def queue_for(mock):
    return taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials),
                              "maxRetries": 0})


def task_def(deadline: str = "1 day") -> dict:
    return {"taskQueueId": "proj-control/worker", "created": taskcluster.fromNowJSON("0 seconds"),
            "deadline": taskcluster.fromNowJSON(deadline), "payload": {},
            "metadata": {"name": "control", "description": "d", "owner": "t@example.com",
                         "source": "https://example.com/control"}}


def control(mock, path: str) -> str:
    return f"{mock.root_url}/mock/v1{path}"


def test_state_and_reset(mock):
    q = queue_for(mock)
    task_id = taskcluster.slugId()
    q.createTask(task_id, task_def())
    state = httpx.get(control(mock, "/state")).json()
    assert [t["taskId"] for t in state["tasks"]] == [task_id]
    r = httpx.post(control(mock, "/reset"))
    assert r.status_code == 200 and r.json() == {"reset": True}
    assert httpx.get(control(mock, "/state")).json()["tasks"] == []
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        q.status(task_id)
    assert info.value.status_code == 404


def test_seed_checks_its_input(mock):
    assert httpx.post(control(mock, "/seed"), json={"seed": 7}).json() == {"seed": 7}
    for bad in ({"seed": "x"}, {}, {"seed": -1}):
        r = httpx.post(control(mock, "/seed"), json=bad)
        assert r.status_code == 400 and r.json()["code"] == "InputError"
    r = httpx.post(control(mock, "/seed"), content=b"{nope",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "MalformedPayload"


def test_request_log_is_redacted(mock):
    q = queue_for(mock)
    task_id = taskcluster.slugId()
    q.createTask(task_id, task_def())
    httpx.get(q.buildSignedUrl("status", task_id))
    httpx.get(f"{mock.root_url}/api/queue/v1/task/bad/status")
    log = httpx.get(control(mock, "/requests")).json()
    records = log["requests"]
    assert [r["method"] for r in records] == ["createTask", "status", "status"]
    assert [r["status"] for r in records] == [200, 200, 400]
    assert records[0]["clientId"] == "tutorial" and records[0]["httpMethod"] == "PUT"
    assert records[0]["route"] == f"/api/queue/v1/task/{task_id}"
    assert records[2]["clientId"] is None
    assert all(r["latencyMs"] >= 0 for r in records)
    text = json.dumps(log)
    token = mock.credentials["accessToken"]
    signed_bewit = q.buildSignedUrl("status", task_id).split("bewit=")[1]
    assert token not in text and signed_bewit[:20] not in text and "Hawk" not in text
    assert records[1]["query"] == {"bewit": "<redacted>"}
    later = httpx.get(control(mock, f"/requests?since={records[0]['seq']}&limit=1")).json()
    assert [r["seq"] for r in later["requests"]] == [records[1]["seq"]]
    assert httpx.get(control(mock, "/requests?limit=0")).status_code == 400


def test_clock_endpoints_move_time_and_run_resolvers(mock):
    q = queue_for(mock)
    state = httpx.post(control(mock, "/clock"), json={"action": "pause"}).json()
    assert state["paused"] is True
    task_id = taskcluster.slugId()
    q.createTask(task_id, task_def(deadline="1 hour"))
    before = httpx.get(control(mock, "/clock")).json()["now"]
    moved = httpx.post(control(mock, "/clock"), json={"action": "advance", "seconds": 7200})
    assert moved.status_code == 200 and moved.json()["now"] > before
    # advancing ticks the backend at once: the deadline has resolved the task
    status = q.status(task_id)["status"]
    assert status["state"] == "exception"
    assert status["runs"][-1]["reasonResolved"] == "deadline-exceeded"
    assert httpx.post(control(mock, "/clock"), json={"action": "speed", "factor": 10}
                      ).json()["speed"] == 10
    assert httpx.post(control(mock, "/clock"), json={"action": "resume"}).json()["paused"] is False
    for bad in ({"action": "advance", "seconds": -5}, {"action": "advance"},
                {"action": "speed", "factor": 0}, {"action": "rewind"}):
        r = httpx.post(control(mock, "/clock"), json=bad)
        assert r.status_code == 400, bad


def test_faults_are_armed_listed_and_cleared(mock):
    q = queue_for(mock)
    r = httpx.post(control(mock, "/faults"), json={"kind": "fail", "method": "status",
                                                    "count": 1, "status": 503})
    assert r.status_code == 200 and len(r.json()["requests"]) == 1
    task_id = taskcluster.slugId()
    q.createTask(task_id, task_def())
    first = httpx.get(f"{mock.root_url}/api/queue/v1/task/{task_id}/status")
    assert first.status_code == 503
    assert first.json()["requestInfo"]["method"] == "status"
    assert httpx.get(f"{mock.root_url}/api/queue/v1/task/{task_id}/status").status_code == 200
    assert httpx.post(control(mock, "/faults"), json={"kind": "nonsense"}).status_code == 400
    assert httpx.post(control(mock, "/faults"), json={"kind": "fail", "method": "nope"}
                      ).status_code == 400
    httpx.post(control(mock, "/faults"), json={"kind": "latency", "method": "ping",
                                                "seconds": 0.01})
    listed = httpx.get(control(mock, "/faults")).json()["requests"]
    assert len(listed) == 1
    assert httpx.delete(control(mock, f"/faults/{listed[0]['id']}")).json()["requests"] == []
    assert httpx.delete(control(mock, "/faults/999")).status_code == 404


def _read_events(url: str, count: int, headers=None) -> list[tuple[str, dict]]:
    """The first `count` SSE messages of a stream (bounded by a read timeout)."""
    events: list[tuple[str, dict]] = []
    with httpx.stream("GET", url, headers=headers, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        event_id = None
        for line in r.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                events.append((event_id, json.loads(line[6:])))
                if len(events) >= count:
                    break
    return events


def test_events_stream_delivers_messages_in_order(mock):
    q = queue_for(mock)
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(
        _read_events(control(mock, "/events"), 4)))
    reader.start()
    ids = [taskcluster.slugId(), taskcluster.slugId()]
    for task_id in ids:
        q.createTask(task_id, task_def())
    reader.join(15)
    assert not reader.is_alive()
    exchanges = [e["exchange"].rsplit("/", 1)[1] for _, e in got]
    assert exchanges == ["task-defined", "task-pending", "task-defined", "task-pending"]
    assert [e["routingKey"].split(".")[1] for _, e in got] == [ids[0], ids[0], ids[1], ids[1]]
    seqs = [int(i) for i, _ in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert got[1][1]["payload"]["status"]["state"] == "pending"
    # resuming: ?since= and Last-Event-ID give what came after
    after = _read_events(control(mock, f"/events?since={seqs[1]}"), 2)
    assert [int(i) for i, _ in after] == seqs[2:]
    after = _read_events(control(mock, "/events"), 1, headers={"Last-Event-ID": str(seqs[2])})
    assert [int(i) for i, _ in after] == seqs[3:]


def test_strict_mode_closes_the_control_plane_to_others():
    with start(workers=False, strict=True, claim_wait=0.1,
               clients={"student": {"accessToken": "student-token", "scopes": ["*"]}}) as mock:
        assert httpx.get(control(mock, "/state")).status_code == 403
        student = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": {
            "clientId": "student", "accessToken": "student-token"}})
        assert student.ping()["alive"] is True  # the API itself is unchanged
        import mohawk

        def signed(credentials) -> int:
            sender = mohawk.Sender({"id": credentials["clientId"],
                                    "key": credentials["accessToken"], "algorithm": "sha256"},
                                   control(mock, "/state"), "GET", content="", content_type="")
            return httpx.get(control(mock, "/state"),
                             headers={"Authorization": sender.request_header}).status_code

        assert signed({"clientId": "student", "accessToken": "student-token"}) == 403
        assert signed(mock.credentials) == 200


def test_cluster_routes_are_mounted(mock):
    # without workers the cluster's routes answer, and say why they cannot act
    r = httpx.get(control(mock, "/cluster"))
    assert r.status_code == 409 and "workers" in r.json()["message"]
    r = httpx.post(control(mock, f"/tasks/{taskcluster.slugId()}/malformed"))
    assert r.status_code == 200 and r.json()["malformed"] is True
    assert httpx.get(control(mock, "/faults")).json()["tasks"][0]["malformed"] is True


# -- one control plane: one error shape, one set of headers, one body parser ------------------

def _envelope(r: httpx.Response, code: str, status: int, method: str) -> dict:
    """Taskcluster's envelope, as the Queue API answers it."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message", "requestInfo"}, body
    assert body["code"] == code
    assert f"* errorCode:  {code}" in body["message"]
    assert f"* statusCode: {status}" in body["message"]
    info = body["requestInfo"]
    assert set(info) == {"method", "params", "payload", "time"} and info["method"] == method
    return body


#: Headers every JSON answer of the mock carries (the Queue API's and the control plane's).
_SHARED_HEADERS = ("access-control-allow-origin", "access-control-allow-methods",
                   "access-control-allow-headers", "access-control-expose-headers",
                   "access-control-max-age", "cache-control", "content-type")


def test_model_and_cluster_routes_refuse_in_one_shape_with_one_header_set(mock):
    task_id = taskcluster.slugId()
    api_error = httpx.get(f"{mock.root_url}/api/queue/v1/task/{task_id}")
    _envelope(api_error, "ResourceNotFound", 404, "task")
    # a bad body, on a model route and on a cluster route: the one parser, the one envelope
    bad = {"content": b"{nope", "headers": {"Content-Type": "application/json"}}
    seed = httpx.post(control(mock, "/seed"), **bad)
    crash = httpx.post(control(mock, f"/tasks/{task_id}/crash"), **bad)
    _envelope(seed, "MalformedPayload", 400, "mock.seed")
    body = _envelope(crash, "MalformedPayload", 400, "mock.crash")
    assert body["requestInfo"]["params"] == {"taskId": task_id}
    assert seed.json()["message"].split("\n")[0] == crash.json()["message"].split("\n")[0]
    # an argument the route refuses, and a part this mock lacks (no workers): same shape
    _envelope(httpx.post(control(mock, "/clock"), json={"action": "warp"}),
              "InputError", 400, "mock.clock")
    _envelope(httpx.post(control(mock, f"/tasks/{task_id}/error-artifact"), json={"x": 1}),
              "InputError", 400, "mock.errorArtifact")
    _envelope(httpx.post(control(mock, "/scenario"), content=b"faults: [{method: nope}]"),
              "InputError", 400, "mock.scenario")
    conflict = httpx.get(control(mock, "/cluster"))
    _envelope(conflict, "RequestConflict", 409, "mock.cluster")
    for answer in (seed, crash, conflict):
        assert {h: answer.headers.get(h) for h in _SHARED_HEADERS} == \
            {h: api_error.headers.get(h) for h in _SHARED_HEADERS}
    # and the successes of both former halves carry the same headers too
    ok_state = httpx.get(control(mock, "/state"))
    ok_cluster = httpx.post(control(mock, f"/tasks/{task_id}/malformed"))
    assert ok_state.status_code == ok_cluster.status_code == 200
    assert {h: ok_state.headers.get(h) for h in _SHARED_HEADERS} == \
        {h: ok_cluster.headers.get(h) for h in _SHARED_HEADERS}


def test_event_stream_and_api_share_the_cors_set(mock):
    api_answer = httpx.get(f"{mock.root_url}/api/queue/v1/ping")
    with httpx.stream("GET", control(mock, "/events"), timeout=10) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        for name in ("access-control-allow-origin", "access-control-allow-methods",
                     "access-control-allow-headers", "access-control-expose-headers",
                     "access-control-max-age"):
            assert events.headers[name] == api_answer.headers[name], name


def test_strict_mode_guards_cluster_routes_with_the_same_envelope():
    with start(workers=False, strict=True, claim_wait=0.1) as mock:
        for r in (httpx.get(control(mock, "/state")), httpx.get(control(mock, "/cluster"))):
            body = _envelope(r, "InsufficientScopes", 403, r.json()["requestInfo"]["method"])
            assert "strict mode" in body["message"]


def test_is_mock_asks_the_server_now_listening_on_the_port():
    """Ports on loopback are reused: a classroom or some other service can answer at a rootUrl
    where an embedded mock answered a moment ago, and the other way round. Each answer comes
    from the server listening now, never from what an earlier one said."""
    from lessons_support import not_a_mock

    from tutorial_kit.mockctl import MockControl, is_mock

    def assert_not_a_mock(url: str) -> None:
        assert is_mock(url) is False
        assert MockControl(url).is_mock() is False

    with not_a_mock() as url:
        assert_not_a_mock(url)
    port = int(url.rsplit(":", 1)[1])
    with start(port=port, workers=False) as mock:
        assert mock.root_url == url
        assert is_mock(url) is True
        control = MockControl(url)
        assert control.is_mock() is True and "now" in control.clock()
    assert is_mock(url) is False  # nothing listens there now
    with not_a_mock(port) as again:
        assert again == url
        assert_not_a_mock(url)
