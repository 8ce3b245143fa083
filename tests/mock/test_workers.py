"""The simulated cluster: payload parsing, then real tasks run by real workers through a real
mock queue (HTTP, Hawk, schema validation), with faults and a controllable clock."""

from __future__ import annotations

import pathlib
import re
import time
from datetime import timedelta
from typing import Any, Callable

import httpx
import pytest

from tutorial_kit.worker.payloads import MalformedPayload, parse_payload

RESOLVED = ("completed", "failed", "exception")
WAIT = 30.0  # real seconds any condition may take before a test gives up (never a timing assert)


# -- payloads (no server) --------------------------------------------------------------------

def test_docker_worker_payload_becomes_a_plan():
    plan = parse_payload({
        "image": "ubuntu:latest", "command": ["/bin/bash", "-c", "ls && du /usr"],
        "env": {"GREETING": "hi"}, "maxRunTime": 600,
        "artifacts": {"public/passwd.txt": {"type": "file", "path": "/etc/passwd",
                                            "expires": "2030-01-01T00:00:00.000Z"}}})
    assert plan.style == "docker-worker"
    assert plan.commands == [["/bin/bash", "-c", "ls && du /usr"]]
    assert plan.env == {"GREETING": "hi"} and plan.max_run_time == 600
    assert plan.image == "ubuntu:latest"
    [artifact] = plan.artifacts
    assert (artifact.name, artifact.type, artifact.path) == ("public/passwd.txt", "file",
                                                            "/etc/passwd")


def test_generic_worker_payload_becomes_a_plan():
    plan = parse_payload({
        "command": [["echo", "a"], ["sh", "-c", "exit 36"]], "maxRunTime": 30,
        "artifacts": [{"type": "directory", "path": "out", "name": "public/out"},
                      {"type": "file", "path": "report.txt"}],
        "onExitStatus": {"retry": [36]}})
    assert plan.style == "generic-worker"
    assert plan.commands == [["echo", "a"], ["sh", "-c", "exit 36"]]
    assert [a.name for a in plan.artifacts] == ["public/out", "report.txt"]
    assert plan.retry_exit_codes == {36}


def test_max_run_time_is_capped_and_said_so():
    plan = parse_payload({"command": ["true"], "maxRunTime": 10 ** 6})
    assert plan.max_run_time == 3600
    assert any("cap" in note for note in plan.notes)


@pytest.mark.parametrize("payload, words", [
    ("not an object", "must be a JSON object"),
    ({"maxRunTime": 5}, "payload.command is required"),
    ({"command": ["true"]}, "payload.maxRunTime is required"),
    ({"command": ["true"], "maxRunTime": "600"}, "positive integer"),
    ({"command": "ls -l", "maxRunTime": 5}, "non-empty list of strings"),
    ({"command": ["ls", 3], "maxRunTime": 5}, "payload.command[1] must be a string"),
    ({"command": [["ls"], "pwd"], "maxRunTime": 5}, "payload.command[1] must be a non-empty list"),
    ({"command": ["ls"], "maxRunTime": 5, "env": {"A": 1}}, "payload.env.A must be a string"),
    ({"command": ["ls"], "maxRunTime": 5, "env": {"1A": "x"}}, "invalid variable name"),
    ({"command": ["ls"], "maxRunTime": 5, "artifacts": [{"path": "x"}]},
     "docker-worker style"),
    ({"command": ["ls"], "maxRunTime": 5, "artifacts": {"a": {"type": "volume", "path": "x"}}},
     "type must be one of file, directory"),
    ({"command": ["ls"], "maxRunTime": 5, "artifacts": {"a": {"type": "file"}}},
     "path must be a non-empty string"),
    ({"command": ["ls"], "maxRunTime": 5,
      "artifacts": {"a": {"path": "x", "expires": "tomorrow"}}}, "not an ISO-8601 timestamp"),
])
def test_bad_payloads_get_a_clear_reason(payload, words):
    with pytest.raises(MalformedPayload) as raised:
        parse_payload(payload)
    assert words in str(raised.value)


# -- helpers ---------------------------------------------------------------------------------

def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll `condition` until it returns something truthy; fail (not hang) after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


def make_task(mock, queue_id: str = "tutorial/docker-worker", payload: Any = None,
              deadline: timedelta = timedelta(hours=1), **extra: Any) -> dict[str, Any]:
    from tutorial_kit.dates import to_json

    now = mock.clock.now()
    task = {"taskQueueId": queue_id, "created": to_json(now),
            "deadline": to_json(now + deadline),
            "payload": payload if payload is not None else {},
            "metadata": {"name": "cluster test", "description": "a task of the cluster tests",
                         "owner": "tests@example.com", "source": "https://example.com/tests"}}
    task.update(extra)
    return task


def shell(script: str, max_run_time: int = 60, **extra: Any) -> dict[str, Any]:
    return {"image": "ubuntu:latest", "command": ["/bin/bash", "-c", script],
            "maxRunTime": max_run_time, **extra}


def status_of(queue, task_id: str) -> dict[str, Any]:
    return queue.status(task_id)["status"]


def resolved(queue, task_id: str) -> dict[str, Any]:
    return wait_for(lambda: (s := status_of(queue, task_id))["state"] in RESOLVED and s,
                    f"task {task_id} to resolve")


def running(queue, task_id: str) -> dict[str, Any]:
    return wait_for(lambda: (s := status_of(queue, task_id))["state"] == "running" and s,
                    f"task {task_id} to run")


def on_worker(mock, queue, task_id: str) -> dict[str, Any]:
    """Wait until the task runs and the cluster's worker has taken it in hand (crashable)."""
    running(queue, task_id)
    wait_for(lambda: any(r["taskId"] == task_id for r in mock.cluster.running()),
             f"a worker to hold {task_id}")
    return status_of(queue, task_id)


def fetch(url: str) -> httpx.Response:
    return httpx.get(url, follow_redirects=True, timeout=30)


def artifact_text(queue, task_id: str, name: str) -> str:
    response = fetch(queue.buildUrl("getLatestArtifact", task_id, name))
    assert response.status_code == 200, response.text
    return response.text


def collect_messages(mock) -> tuple[list, Callable[[], None]]:
    seen: list = []
    return seen, mock.bus.subscribe(seen.append)


def start_mock(**options: Any):
    from tutorial_kit.mock import start

    mock = start(claim_wait=0.3, **options)
    assert mock.cluster is not None, mock.cluster_error
    return mock


@pytest.fixture(scope="module")
def mock():
    server = start_mock()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_mock():
    """A mock of its own, for tests that move the clock."""
    server = start_mock()
    try:
        yield server
    finally:
        server.stop()


def client_for(mock):
    from tutorial_kit.client import Queue

    return Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})


@pytest.fixture
def queue(mock):
    client = client_for(mock)
    yield client
    client.close()


# -- the tutorial's seed task ----------------------------------------------------------------

def test_seed_task_runs_and_completes_with_real_artifacts_and_log(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    payload = shell("ls && du /usr", 600)
    payload["artifacts"] = {"public/passwd.txt": {"type": "file", "path": "/etc/passwd"}}
    created = queue.createTask(task_id, make_task(mock, payload=payload))
    assert created["status"]["state"] == "pending"
    status = resolved(queue, task_id)
    assert status["state"] == "completed", status
    [run] = status["runs"]
    assert (run["reasonResolved"], run["workerGroup"]) == ("completed", "tutorial-kit")

    names = {a["name"]: a for a in queue.listLatestArtifacts(task_id)["artifacts"]}
    assert names["public/logs/live.log"]["storageType"] == "reference"
    # the engine uploads through the Object service, as generic-worker does
    assert names["public/logs/live_backing.log"]["storageType"] == "object"
    assert names["public/passwd.txt"]["storageType"] == "object"
    assert artifact_text(queue, task_id, "public/passwd.txt") == \
        pathlib.Path("/etc/passwd").read_text()
    log = artifact_text(queue, task_id, "public/logs/live.log")
    assert re.search(r"^\d+\t/usr$", log, re.M), log[-500:]  # du's last line
    assert "image ubuntu:latest is ignored" in log
    assert f"task {task_id} run 0" in log
    assert log == artifact_text(queue, task_id, "public/logs/live_backing.log")


def test_live_log_streams_while_the_task_runs(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    # printf, so the marker words are in the output but not in the logged command line
    script = ("printf 'first-%s\\n' line; while [ ! -e go ]; do sleep 0.05; done; "
              "printf 'second-%s\\n' line")
    queue.createTask(task_id, make_task(mock, payload=shell(script)))
    running(queue, task_id)
    # the worker points live.log at its log right after claiming, as a real worker does
    wait_for(lambda: any(a["name"] == "public/logs/live.log"
                         for a in queue.listLatestArtifacts(task_id)["artifacts"]),
             "live.log to appear")
    reference = queue.getLatestArtifact(task_id, "public/logs/live.log")
    assert reference["storageType"] == "reference"
    received = b""
    with httpx.stream("GET", reference["url"], timeout=WAIT) as stream:
        assert stream.headers["content-type"].startswith("text/plain")
        chunks = stream.iter_bytes()
        while b"first-line" not in received:
            received += next(chunks)
        # the run is still going: the log is readable before it ends
        assert status_of(queue, task_id)["state"] == "running"
        assert b"second-line" not in received
        workdir = re.search(rb"working directory (\S+);", received).group(1).decode()
        pathlib.Path(workdir, "go").touch()
        for chunk in chunks:
            received += chunk
    assert b"second-line" in received
    assert resolved(queue, task_id)["state"] == "completed"
    # afterwards live.log points at the stored copy
    after = queue.getLatestArtifact(task_id, "public/logs/live.log")
    assert "live_backing.log" in after["url"]
    assert "second-line" in fetch(after["url"]).text


def test_max_run_time_kills_a_sleeping_task(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=shell("echo going to sleep; sleep 600",
                                                            max_run_time=1)))
    status = resolved(queue, task_id)
    assert (status["state"], status["runs"][0]["reasonResolved"]) == ("failed", "failed")
    log = artifact_text(queue, task_id, "public/logs/live.log")
    assert "going to sleep" in log and "maxRunTime of 1 s exceeded" in log


def test_generic_worker_commands_run_in_order_and_a_failure_fails(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    payload = {"command": [["sh", "-c", "echo $GREETING > out.txt"], ["sh", "-c", "exit 3"],
                           ["echo", "never"]],
               "env": {"GREETING": "hello from env"}, "maxRunTime": 30,
               "artifacts": [{"type": "file", "path": "out.txt", "name": "public/out.txt"}]}
    queue.createTask(task_id, make_task(mock, payload=payload))
    status = resolved(queue, task_id)
    assert status["state"] == "failed"
    assert artifact_text(queue, task_id, "public/out.txt") == "hello from env\n"
    log = artifact_text(queue, task_id, "public/logs/live.log")
    assert "exit code 3" in log and "$ echo never" not in log


def test_missing_artifact_is_an_error_artifact_and_fails_the_task(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    payload = shell("true", artifacts={"public/nothing.txt": {"type": "file",
                                                              "path": "nothing.txt"}})
    queue.createTask(task_id, make_task(mock, payload=payload))
    assert resolved(queue, task_id)["state"] == "failed"
    response = fetch(queue.buildUrl("getLatestArtifact", task_id, "public/nothing.txt"))
    assert response.status_code == 424
    assert response.json()["reason"] == "file-missing-on-worker"


@pytest.mark.parametrize("payload, words", [
    ({"image": "ubuntu", "maxRunTime": 5}, "payload.command is required"),
    ({"command": ["true"]}, "payload.maxRunTime is required"),
    ({"command": ["ls", {"x": 1}], "maxRunTime": 5}, "payload.command[1] must be a string"),
])
def test_bad_payload_resolves_malformed_with_a_reason_and_the_worker_goes_on(
        mock, queue, payload, words):
    from tutorial_kit.client import slugid

    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=payload))
    status = resolved(queue, task_id)
    assert (status["state"], status["runs"][0]["reasonResolved"]) == \
        ("exception", "malformed-payload")
    response = fetch(queue.buildUrl("getLatestArtifact", task_id, "public/malformed-payload"))
    assert response.status_code == 424
    assert words in response.json()["message"]
    assert words in artifact_text(queue, task_id, "public/logs/live.log")
    # the engine survived: a good task still runs
    good = slugid()
    queue.createTask(good, make_task(mock, payload=shell("true")))
    assert resolved(queue, good)["state"] == "completed"


def test_builtin_workers_resolve_at_once(mock, queue):
    from tutorial_kit.client import slugid

    ok, bad = slugid(), slugid()
    queue.createTask(ok, make_task(mock, "built-in/succeed"))
    queue.createTask(bad, make_task(mock, "built-in/fail"))
    assert resolved(queue, ok)["state"] == "completed"
    assert resolved(queue, bad)["state"] == "failed"
    status = status_of(queue, ok)
    assert (status["runs"][0]["workerGroup"], status["runs"][0]["workerId"]) == \
        ("built-in", "succeed")


def test_other_task_queues_stay_free_for_an_external_worker(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    queue.createTask(task_id, make_task(mock, "my-provisioner/my-worker"))
    time.sleep(0.3)  # give any (wrong) worker the chance to take it; the assert is on state
    assert status_of(queue, task_id)["state"] == "pending"
    claim = queue.claimWork("my-provisioner/my-worker",
                            {"tasks": 1, "workerGroup": "learners", "workerId": "me"})
    assert [c["status"]["taskId"] for c in claim["tasks"]] == [task_id]


def test_cluster_workers_show_up_in_worker_monitoring(mock, queue):
    if not mock.backend.implements("listWorkers"):
        pytest.skip("the mock does not implement listWorkers yet")
    from tutorial_kit.client import slugid

    task_id = slugid()
    queue.createTask(task_id, make_task(mock, "built-in/succeed"))
    resolved(queue, task_id)
    workers = queue.listWorkers("built-in", "succeed")["workers"]
    assert ("built-in", "succeed") in {(w["workerGroup"], w["workerId"]) for w in workers}


# -- task faults -----------------------------------------------------------------------------

def test_malformed_fault_and_error_artifact_fault(mock, queue):
    from tutorial_kit.client import slugid

    broken, lost = slugid(), slugid()
    mock.faults.make_malformed(broken)
    mock.faults.make_error_artifact(lost, "public/passwd.txt", reason="file-missing-on-worker",
                                    message="lost on purpose")
    payload = shell("true", artifacts={"public/passwd.txt": {"type": "file",
                                                             "path": "/etc/passwd"}})
    queue.createTask(broken, make_task(mock, payload=payload))
    queue.createTask(lost, make_task(mock, payload=payload))
    status = resolved(queue, broken)
    assert status["runs"][0]["reasonResolved"] == "malformed-payload"
    assert resolved(queue, lost)["state"] == "completed"
    response = fetch(queue.buildUrl("getLatestArtifact", lost, "public/passwd.txt"))
    assert response.status_code == 424
    assert response.json() == {"reason": "file-missing-on-worker", "message": "lost on purpose"}


def test_crash_with_worker_shutdown_and_no_retries_left_ends_in_exception(mock, queue):
    from tutorial_kit.client import slugid
    from tutorial_kit.mock.sim.workers import CrashError

    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=shell("sleep 600"), retries=0))
    on_worker(mock, queue, task_id)
    crashed = mock.cluster.crash(task_id, "worker-shutdown")
    assert crashed["runId"] == 0
    status = resolved(queue, task_id)
    assert status["state"] == "exception"
    assert [(r["state"], r["reasonResolved"]) for r in status["runs"]] == \
        [("exception", "worker-shutdown")]
    assert status["retriesLeft"] == 0
    with pytest.raises(CrashError, match="no worker of the mock cluster is running"):
        mock.cluster.crash(task_id, "worker-shutdown")


def test_worker_shutdown_with_retries_makes_a_retry_run(mock, queue):
    from tutorial_kit.client import slugid

    task_id = slugid()
    mock.faults.crash_when_running(task_id, "worker-shutdown", after=0.2)
    queue.createTask(task_id, make_task(mock, payload=shell("sleep 1 && echo slept")))
    status = wait_for(lambda: (s := status_of(queue, task_id))["runs"][-1]["runId"] == 1 and s,
                      "a retry run")
    assert status["runs"][0]["reasonResolved"] == "worker-shutdown"
    assert status["runs"][1]["reasonCreated"] == "retry"
    assert status["retriesLeft"] == 4
    # the crash was for one run: the retry runs to the end
    status = resolved(queue, task_id)
    assert [(r["runId"], r["state"]) for r in status["runs"]] == [(0, "exception"),
                                                                  (1, "completed")]
    assert "slept" in artifact_text(queue, task_id, "public/logs/live.log")


def test_crash_claim_expired_gives_a_retry_run_and_the_right_messages(fresh_mock):
    from tutorial_kit.client import slugid

    mock = fresh_mock
    queue = client_for(mock)
    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=shell("sleep 600")))
    before = on_worker(mock, queue, task_id)
    messages, unsubscribe = collect_messages(mock)
    try:
        mock.cluster.crash(task_id, "claim-expired")
        wait_for(lambda: not mock.cluster.running(), "the crashed run to stop")
        assert status_of(queue, task_id)["state"] == "running"  # nobody told the queue
        mock.clock.advance(timedelta(seconds=1201))  # past takenUntil (claim timeout 1200 s)
        status = wait_for(lambda: (s := status_of(queue, task_id))["runs"][-1]["runId"] == 1
                          and s, "the claim to expire")
    finally:
        unsubscribe()
    first, retry = status["runs"][0], status["runs"][1]
    assert (first["state"], first["reasonResolved"]) == ("exception", "claim-expired")
    assert first["takenUntil"] == before["runs"][0]["takenUntil"]  # never reclaimed again
    assert retry["reasonCreated"] == "retry"
    assert status["retriesLeft"] == 4
    mine = [m for m in messages if m.routing_key.split(".")[1] == task_id
            and m.name in ("task-exception", "task-pending")]  # not the worker's artifacts
    kinds = [(m.name, m.routing_key.split(".")[2]) for m in mine]
    assert kinds[:2] == [("task-exception", "0"), ("task-pending", "1")], kinds
    exception = mine[0]
    assert exception.routing_key.split(".")[3:5] == [first["workerGroup"], first["workerId"]]
    assert exception.payload["status"]["runs"][1]["state"] == "pending"
    queue.close()


def test_retries_exhausted_by_claim_expiry_ends_in_exception(fresh_mock):
    from tutorial_kit.client import slugid

    mock = fresh_mock
    queue = client_for(mock)
    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=shell("sleep 600"), retries=0))
    on_worker(mock, queue, task_id)
    mock.cluster.crash(task_id, "claim-expired")
    mock.clock.advance(timedelta(minutes=21))
    status = resolved(queue, task_id)
    assert [(r["state"], r["reasonResolved"]) for r in status["runs"]] == \
        [("exception", "claim-expired")]
    queue.close()


def test_a_running_worker_keeps_its_claim_on_a_scaled_clock(fresh_mock):
    from tutorial_kit.client import slugid

    mock = fresh_mock
    queue = client_for(mock)
    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=shell(
        "while [ ! -e go ]; do sleep 0.05; done", max_run_time=120), deadline=timedelta(days=2)))
    first = running(queue, task_id)["runs"][0]["takenUntil"]
    mock.clock.set_speed(1200)  # the 20-minute claim now lasts one real second
    # the worker reclaims on the mock's clock, so its claim moves instead of lapsing
    wait_for(lambda: status_of(queue, task_id)["runs"][0].get("takenUntil") != first,
             "a reclaim")
    wait_for(lambda: mock.cluster.running() and mock.cluster.running()[0]["reclaims"] >= 2,
             "two reclaims")
    status = status_of(queue, task_id)
    assert status["state"] == "running" and len(status["runs"]) == 1
    mock.clock.set_speed(1)
    queue.close()


def test_deadline_expiry_on_a_scaled_clock(fresh_mock):
    from tutorial_kit.client import slugid

    mock = fresh_mock
    queue = client_for(mock)
    waiting, busy = slugid(), slugid()
    queue.createTask(waiting, make_task(mock, "nobody/serves-this", deadline=timedelta(minutes=10)))
    queue.createTask(busy, make_task(mock, payload=shell("sleep 600", max_run_time=3600),
                                     deadline=timedelta(minutes=10)))
    running(queue, busy)
    mock.clock.set_speed(600)  # ten minutes in about a second
    for task_id in (waiting, busy):
        status = resolved(queue, task_id)
        assert (status["state"], status["runs"][-1]["reasonResolved"]) == \
            ("exception", "deadline-exceeded")
    # the worker learns it from its next reclaim (409) and kills the command
    wait_for(lambda: not mock.cluster.running(), "the worker to let go of the expired task")
    queue.close()


# -- the control endpoints -------------------------------------------------------------------

def test_control_endpoints_crash_malformed_and_error_artifact(fresh_mock):
    """Through the real server: the cluster's routes are mounted under /mock/v1."""
    from tutorial_kit.client import slugid

    mock = fresh_mock
    queue = client_for(mock)
    control = httpx.Client(base_url=mock.root_url, timeout=WAIT)
    info = control.get("/mock/v1/cluster").json()
    assert "tutorial/docker-worker" in info["taskQueues"]

    broken, lost, victim = slugid(), slugid(), slugid()
    assert control.post(f"/mock/v1/tasks/{broken}/malformed").status_code == 200
    answer = control.post(f"/mock/v1/tasks/{lost}/error-artifact",
                          json={"name": "public/x.txt", "reason": "too-large-file-on-worker",
                                "message": "too big on purpose"})
    assert answer.status_code == 200, answer.text
    bad = control.post(f"/mock/v1/tasks/{lost}/error-artifact", json={"name": "a", "reason": "?"})
    assert bad.status_code == 400 and "reason must be one of" in bad.json()["message"]
    queue.createTask(broken, make_task(mock, "built-in/succeed"))
    queue.createTask(lost, make_task(mock, "built-in/succeed"))
    assert resolved(queue, broken)["runs"][0]["reasonResolved"] == "malformed-payload"
    assert resolved(queue, lost)["state"] == "completed"
    assert fetch(queue.buildUrl("getLatestArtifact", lost, "public/x.txt")).status_code == 424

    queue.createTask(victim, make_task(mock, payload=shell("sleep 600"), retries=0))
    running(queue, victim)  # just claimed: the endpoint waits for the run to reach its worker
    wrong = control.post(f"/mock/v1/tasks/{victim}/crash", json={"mode": "explode"})
    assert wrong.status_code == 400
    crashed = control.post(f"/mock/v1/tasks/{victim}/crash", json={"mode": "worker-shutdown"})
    assert crashed.status_code == 200 and crashed.json()["taskId"] == victim
    assert resolved(queue, victim)["runs"][0]["reasonResolved"] == "worker-shutdown"
    again = control.post(f"/mock/v1/tasks/{victim}/crash", json={"mode": "worker-shutdown"})
    assert again.status_code == 409 and "no worker" in again.json()["message"]
    queue.close()
    control.close()


def test_stop_is_prompt_and_kills_running_commands():
    from tutorial_kit.client import slugid

    mock = start_mock()
    queue = client_for(mock)
    task_id = slugid()
    queue.createTask(task_id, make_task(mock, payload=shell("sleep 600")))
    on_worker(mock, queue, task_id)
    [run] = mock.cluster.running()
    loops = mock.cluster.shell.loops + mock.cluster.builtin.loops
    assert all(loop.is_alive() for loop in loops)
    queue.close()
    mock.stop()
    assert not any(loop.is_alive() for loop in loops)
    assert run["taskId"] == task_id
    assert not mock.cluster.running()


def test_shell_queues_are_configurable_and_checked(monkeypatch):
    from tutorial_kit.client import slugid
    from tutorial_kit.mock import start
    from tutorial_kit.mock.sim.workers import start_cluster

    nowhere = {"clientId": "tutorial", "accessToken": "unused"}  # checked before any call
    with pytest.raises(ValueError, match="not a task queue id"):
        start_cluster("http://127.0.0.1:1", nowhere, shell_queues=["no-slash"])
    with pytest.raises(ValueError, match="belongs to the built-in workers"):
        start_cluster("http://127.0.0.1:1", nowhere, shell_queues=["built-in/succeed"])
    monkeypatch.setenv("TUTORIAL_KIT_SHELL_QUEUES", "lesson/runner, lesson/other")
    mock = start(claim_wait=0.3, workers=False)
    cluster = start_cluster(mock.root_url, mock.credentials, clock=mock.clock,
                            faults=mock.faults, builtin=False, concurrency=1)
    try:
        assert cluster.task_queues == ["lesson/runner", "lesson/other"]
        queue = client_for(mock)
        task_id, untouched = slugid(), slugid()
        queue.createTask(task_id, make_task(mock, "lesson/runner", payload=shell("echo hi")))
        queue.createTask(untouched, make_task(mock, "tutorial/docker-worker",
                                              payload=shell("true")))
        assert resolved(queue, task_id)["state"] == "completed"
        assert status_of(queue, untouched)["state"] == "pending"  # not this cluster's queue
        queue.close()
    finally:
        cluster.stop()
        mock.stop()


def test_live_logs_keep_only_the_newest_finished_files(tmp_path, monkeypatch):
    from tutorial_kit.mock.model import livelog

    monkeypatch.setattr(livelog, "KEEP", 2)
    logs = livelog.LiveLogs(tmp_path)
    opened = [logs.open(f"task{i}", 0) for i in range(4)]
    for log in opened[:3]:
        log.line("done")
        log.finish()
    logs.open("task4", 0)
    assert logs.get("task0", 0) is None and not opened[0].path.exists()
    assert logs.get("task1", 0) is opened[1] and opened[1].path.read_text() == "done\n"
    assert logs.get("task3", 0) is opened[3]  # still running: never dropped
