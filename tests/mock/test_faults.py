"""Fault injection: the Faults model on its own, then through a running mock queue."""

from __future__ import annotations

import asyncio

import pytest

from tutorial_kit.mock.sim.faults import FaultError, Faults


def apply(faults: Faults, method: str):
    return asyncio.run(faults.apply(method))


def test_fail_next_fails_exactly_count_calls_then_lets_them_through():
    faults = Faults()
    faults.fail_next("status", 2, status=500)
    first, second, third = (apply(faults, "status") for _ in range(3))
    assert (first.status, first.code) == (500, "InternalServerError")
    assert "incidentId" in first.message
    assert second.status == 500
    assert third is None
    assert faults.describe() == {"requests": [], "tasks": []}


def test_faults_only_hit_their_method_unless_any():
    faults = Faults()
    faults.fail_next("createTask", 1, status=429)
    assert apply(faults, "status") is None
    error = apply(faults, "createTask")
    assert (error.status, error.code) == (429, "TooManyRequests")
    faults.fail_next("*", 1, status=503)
    error = apply(faults, "ping")
    assert (error.status, error.code) == (503, "InternalServerError")


def test_one_failure_per_request_the_next_waits():
    faults = Faults()
    faults.fail_next("status", 1, status=500)
    faults.fail_next("status", 1, status=429)
    assert apply(faults, "status").status == 500
    assert apply(faults, "status").status == 429
    assert apply(faults, "status") is None


def test_latency_delays_and_counts_down():
    faults = Faults()
    fault = faults.add_latency("ping", 0.05, count=2)
    loop = asyncio.new_event_loop()
    try:
        start = loop.time()
        assert loop.run_until_complete(faults.apply("ping")) is None
        assert loop.time() - start >= 0.05
    finally:
        loop.close()
    assert faults.describe()["requests"][0]["remaining"] == 1
    apply(faults, "ping")
    assert faults.describe()["requests"] == []
    assert fault.hits == 2


@pytest.mark.parametrize("call, message", [
    (lambda f: f.fail_next("noSuchMethod", 1), "unknown Queue method"),
    (lambda f: f.fail_next("status", 0), "count must be a positive integer"),
    (lambda f: f.fail_next("status", 1, status=200), "HTTP error status"),
    (lambda f: f.add_latency("status", -1), "latency must be"),
    (lambda f: f.make_error_artifact("T", "x", reason="gone"), "reason must be one of"),
    (lambda f: f.crash_when_running("T", "explode"), "mode must be one of"),
    (lambda f: f.make_malformed(None), "needs a taskId, a taskQueueId or a count"),
    (lambda f: f.arm({"method": "status"}), "exactly one of status"),
    (lambda f: f.arm({"kind": "boom"}), "unknown fault kind"),
])
def test_bad_fault_descriptions_get_a_clear_error(call, message):
    with pytest.raises(FaultError, match=message):
        call(Faults())


def test_task_faults_select_by_task_or_queue_and_count_runs():
    faults = Faults()
    faults.make_malformed("TASK1")
    faults.crash_when_running(None, "worker-shutdown", task_queue_id="p/w", count=1, after=2)
    faults.make_error_artifact("TASK2", "public/a.txt", message="gone on purpose")
    first = faults.for_run("TASK1", "p/w")
    assert first.malformed and first.crash.mode == "worker-shutdown" and first.crash.after == 2
    again = faults.for_run("TASK1", "p/w")
    assert again.malformed and again.crash is None  # the crash was for one run only
    other = faults.for_run("TASK2", "x/y")
    assert not other.malformed
    assert other.error_artifacts["public/a.txt"].message == "gone on purpose"
    assert not faults.for_run("TASK3", "x/y")


def test_a_crash_on_a_task_hits_one_run():
    faults = Faults()
    faults.crash_when_running("TASK1", "claim-expired")
    assert faults.for_run("TASK1").crash is not None
    assert faults.for_run("TASK1").crash is None


def test_arm_accepts_both_shapes_and_describe_remove_clear():
    faults = Faults()
    failing = faults.arm({"method": "status", "count": 3, "status": 500})
    slow = faults.arm({"method": "claimWork", "latency": 0.5})
    faults.arm({"kind": "errorArtifact", "taskId": "T", "name": "public/x"})
    described = faults.describe()
    assert [f["method"] for f in described["requests"]] == ["status", "claimWork"]
    assert described["requests"][0]["remaining"] == 3
    assert described["tasks"][0]["errorArtifact"]["name"] == "public/x"
    assert faults.remove(slow.id) and not faults.remove(slow.id)
    assert [f["id"] for f in faults.describe()["requests"]] == [failing.id]
    faults.clear()
    assert faults.describe() == {"requests": [], "tasks": []}


# -- through a running mock queue ------------------------------------------------------------

@pytest.fixture(scope="module")
def mock():
    from tutorial_kit.mock import start

    server = start(workers=False, claim_wait=0.2)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def queue(mock):
    from tutorial_kit.client import Queue

    mock.faults.clear()
    client = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    yield client
    client.close()
    mock.faults.clear()


def _statuses(mock, method: str, since: int) -> list[int]:
    return [r.status for r in mock.request_log.since(since) if r.method == method]


def test_server_errors_then_success_the_client_retries(mock, queue):
    since = mock.request_log.last_seq
    mock.faults.fail_next("ping", 2, status=500)
    assert queue.ping()["alive"] is True
    assert _statuses(mock, "ping", since) == [500, 500, 200]


def test_official_client_retries_injected_500s(mock):
    taskcluster = pytest.importorskip("taskcluster")
    since = mock.request_log.last_seq
    mock.faults.fail_next("listTaskQueues", 3, status=500)
    official = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    assert "taskQueues" in official.listTaskQueues()
    assert _statuses(mock, "listTaskQueues", since) == [500, 500, 500, 200]


def test_injected_429_reaches_the_caller_with_its_code(mock, queue):
    from tutorial_kit.client import TaskclusterError

    mock.faults.fail_next("ping", 1, status=429)
    with pytest.raises(TaskclusterError) as raised:
        queue.ping()
    assert (raised.value.status_code, raised.value.code) == (429, "TooManyRequests")
    assert queue.ping()["alive"] is True


def test_latency_shows_in_the_request_log(mock, queue):
    since = mock.request_log.last_seq
    mock.faults.add_latency("ping", 0.2, count=1)
    queue.ping()
    queue.ping()
    records = [r for r in mock.request_log.since(since) if r.method == "ping"]
    assert records[0].latency_ms >= 200
    assert len(records) == 2 and mock.faults.describe()["requests"] == []
