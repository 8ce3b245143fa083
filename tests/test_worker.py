"""``tutorial-kit worker`` as a learner runs it: a real process, on a task queue the mock's own
workers do not serve, with a client that has exactly the scopes the README lists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import tutorial_kit as tk
import tutorial_kit.download
from tutorial_kit.client.errors import TaskclusterArtifactError
from tutorial_kit.mock import start
from tutorial_kit.worker import required_scopes

TASK_QUEUE = "proj-learner/my-worker"
GROUP, WORKER_ID = "tutorial-kit", "w1"
TOKEN = "worker-token-for-the-tests-only-0123456789"


@pytest.fixture(scope="module")
def mock():
    clients = {"my-worker": {"accessToken": TOKEN,
                             "scopes": required_scopes(TASK_QUEUE, GROUP, WORKER_ID)}}
    with start(workers=False, claim_wait=1.0, clients=clients) as m:
        yield m


@pytest.fixture(scope="module")
def queue(mock):
    return tk.Queue(rootUrl=mock.root_url, credentials=dict(mock.credentials), maxRetries=0)


@pytest.fixture()
def worker(mock, tmp_path):
    env = {**os.environ, "TASKCLUSTER_ROOT_URL": mock.root_url,
           "TASKCLUSTER_CLIENT_ID": "my-worker", "TASKCLUSTER_ACCESS_TOKEN": TOKEN,
           "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tutorial_kit.cli", "worker", "--task-queue", TASK_QUEUE,
         "--worker-group", GROUP, "--worker-id", WORKER_ID, "--work-dir", str(tmp_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = process.stdout.readline()
    assert first.startswith(f"waiting for tasks on {TASK_QUEUE}"), first
    assert "artifacts as object" in first
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def create(queue, payload: dict, retries: int = 5) -> str:
    task_id = tk.slugid()
    queue.createTask(task_id, {
        "taskQueueId": TASK_QUEUE, "created": tk.fromNowJSON("0 seconds"),
        "deadline": tk.fromNowJSON("1 hour"), "retries": retries, "payload": payload,
        "metadata": {"name": "worker test", "description": "d", "owner": "t@example.com",
                     "source": "https://example.com/worker"}})
    return task_id


def wait_for(queue, task_id: str, predicate, timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = queue.status(task_id)["status"]
        if predicate(status):
            return status
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} never got there: {queue.status(task_id)}")


def resolved(status: dict) -> bool:
    return status["state"] in ("completed", "failed", "exception")


def test_generic_worker_payload_with_file_and_directory_artifacts(queue, worker):
    task_id = create(queue, {
        "command": [["/bin/sh", "-c", "mkdir -p out/sub && echo one > out/a.txt && "
                                      "echo two > out/sub/b.txt && echo hello > hello.txt"],
                    ["/bin/sh", "-c", "echo from the task log"]],
        "maxRunTime": 60,
        "artifacts": [{"type": "file", "path": "hello.txt", "name": "public/hello.txt"},
                      {"type": "directory", "path": "out", "name": "public/out"}]})
    status = wait_for(queue, task_id, resolved)
    assert status["state"] == "completed", status
    listed = {a["name"]: a["storageType"] for a in queue.listLatestArtifacts(task_id)["artifacts"]}
    assert listed == {"public/hello.txt": "object", "public/out/a.txt": "object",
                      "public/out/sub/b.txt": "object", "public/logs/live.log": "link",
                      "public/logs/live_backing.log": "object"}
    get = tutorial_kit.download.downloadArtifactToBuf
    assert get(taskId=task_id, name="public/hello.txt", queueService=queue)[0] == b"hello\n"
    assert get(taskId=task_id, name="public/out/sub/b.txt", queueService=queue)[0] == b"two\n"
    log, content_type = get(taskId=task_id, name="public/logs/live.log", queueService=queue)
    assert b"from the task log" in log and content_type.startswith("text/plain")
    run = status["runs"][0]
    assert (run["workerGroup"], run["workerId"]) == (GROUP, WORKER_ID)


def test_docker_worker_payload_failure_and_missing_artifact(queue, worker):
    task_id = create(queue, {
        "image": "ubuntu:latest", "command": ["/bin/sh", "-c", "echo partial > made.txt"],
        "maxRunTime": 60,
        "artifacts": {"public/made.txt": {"type": "file", "path": "made.txt"},
                      "public/missing.txt": {"type": "file", "path": "not/there.txt"}}})
    status = wait_for(queue, task_id, resolved)
    # a declared artifact that is not there fails the run, as on real workers
    assert status["state"] == "failed", status
    with pytest.raises(TaskclusterArtifactError) as info:
        tutorial_kit.download.downloadArtifactToBuf(taskId=task_id, name="public/missing.txt",
                                                    queueService=queue)
    assert info.value.reason == "file-missing-on-worker"
    assert tutorial_kit.download.downloadArtifactToBuf(
        taskId=task_id, name="public/made.txt", queueService=queue)[0] == b"partial\n"
    failing = create(queue, {"command": [["/bin/sh", "-c", "exit 3"]], "maxRunTime": 60})
    assert wait_for(queue, failing, resolved)["state"] == "failed"
    retry = create(queue, {"command": [["/bin/sh", "-c", "exit 36"]], "maxRunTime": 60,
                           "onExitStatus": {"retry": [36]}}, retries=0)
    run = wait_for(queue, retry, resolved)["runs"][0]
    assert (run["state"], run["reasonResolved"]) == ("exception", "intermittent-task")
    malformed = create(queue, {"maxRunTime": 60})
    run = wait_for(queue, malformed, resolved)["runs"][0]
    assert (run["state"], run["reasonResolved"]) == ("exception", "malformed-payload")


def test_sigterm_mid_task_reports_worker_shutdown_and_the_queue_retries(queue, worker):
    task_id = create(queue, {"command": [["/bin/sh", "-c", "echo started; sleep 60"]],
                             "maxRunTime": 120})
    wait_for(queue, task_id, lambda s: s["state"] == "running")
    time.sleep(0.5)  # the command is under way
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    status = queue.status(task_id)["status"]
    first, second = status["runs"]
    assert (first["state"], first["reasonResolved"]) == ("exception", "worker-shutdown")
    assert (second["state"], second["reasonCreated"]) == ("pending", "retry")
    log, _ = tutorial_kit.download.downloadArtifactToBuf(
        taskId=task_id, runId=0, name="public/logs/live.log", queueService=queue)
    assert b"started" in log and b"worker-shutdown" in log
    output = worker.stdout.read()
    assert "worker-shutdown" in output and "worker stopped" in output
    queue.cancelTask(task_id)  # the retry is not for the next test's worker


def test_max_run_time_kills_the_command_and_fails_the_run(queue, worker):
    task_id = create(queue, {"command": [["/bin/sh", "-c", "echo begun; sleep 30"]],
                             "maxRunTime": 1})
    started = time.monotonic()
    status = wait_for(queue, task_id, resolved)
    assert status["state"] == "failed" and time.monotonic() - started < 20
    log, _ = tutorial_kit.download.downloadArtifactToBuf(
        taskId=task_id, name="public/logs/live.log", queueService=queue)
    assert b"begun" in log and b"maxRunTime of 1 s exceeded" in log


def test_a_bad_task_queue_or_missing_credentials_is_one_clear_line(mock):
    bad = subprocess.run([sys.executable, "-m", "tutorial_kit.cli", "worker", "--task-queue",
                          "no-slash"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "is not a task queue ID" in bad.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKCLUSTER_")}
    env["TASKCLUSTER_ROOT_URL"] = mock.root_url
    anonymous = subprocess.run([sys.executable, "-m", "tutorial_kit.cli", "worker",
                                "--task-queue", TASK_QUEUE, "--worker-id", "w9"], env=env,
                               capture_output=True, text=True, timeout=60)
    assert anonymous.returncode == 2 and "Traceback" not in anonymous.stderr
    assert f"queue:claim-work:{TASK_QUEUE}, queue:worker-id:tutorial-kit/w9" in anonymous.stderr


def test_live_log_streams_while_the_task_runs(queue, worker):
    import httpx

    task_id = create(queue, {"command": [["/bin/sh", "-c",
                                          "echo first line; sleep 2; echo last line"]],
                             "maxRunTime": 60})
    wait_for(queue, task_id, lambda s: s["state"] == "running")
    url = queue.buildUrl("getLatestArtifact", task_id, "public/logs/live.log")
    deadline = time.monotonic() + 20

    def live_log_kind() -> str | None:
        try:
            return queue.latestArtifact(task_id, "public/logs/live.log")["storageType"]
        except tk.TaskclusterError as error:
            if error.status_code != 404:
                raise
            return None  # running, but the worker has not pointed live.log at its view yet

    while live_log_kind() != "reference":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with httpx.stream("GET", url, follow_redirects=True, timeout=30) as live:
        assert live.status_code == 200 and live.url.host == "127.0.0.1"
        seen = b""
        for chunk in live.iter_bytes():
            seen += chunk
            if b"first line" in seen:
                # the view shows the log before the run is over
                assert queue.status(task_id)["status"]["state"] == "running"
                break
    status = wait_for(queue, task_id, resolved)
    assert status["state"] == "completed"
    stored = tutorial_kit.download.downloadArtifactToBuf(
        taskId=task_id, name="public/logs/live.log", queueService=queue)[0]
    assert b"first line" in stored and b"last line" in stored
