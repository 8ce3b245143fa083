"""The `tutorial-kit` command, run as a real subprocess."""

from __future__ import annotations

import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading

import httpx
import pytest
import taskcluster

from tutorial_kit import __version__
from tutorial_kit.cli import main

PYTHON = sys.executable
CLI = [PYTHON, "-m", "tutorial_kit.cli"]


def _read_line(proc: subprocess.Popen, timeout: float = 30.0) -> str:
    """One line of the child's stdout, or fail after `timeout` seconds (never hang)."""
    if proc not in _LINES:  # keyed by the process object: a pid can be reused
        _LINES[proc] = _start_reader(proc)
    try:
        return _LINES[proc].get(timeout=timeout)
    except queue.Empty:
        proc.kill()
        stderr = "".join(_ERRORS.get(proc, []))
        pytest.fail(f"no output from the CLI within {timeout} s; its stderr:\n{stderr[-3000:]}")


_LINES: dict[subprocess.Popen, queue.Queue] = {}
_ERRORS: dict[subprocess.Popen, list[str]] = {}


def _drain_stderr(proc: subprocess.Popen) -> tuple[list[str], threading.Thread]:
    """Read the child's stderr as it comes (a full pipe would block the server) and keep it."""
    errors = _ERRORS.setdefault(proc, [])

    def pump() -> None:
        for line in proc.stderr:
            errors.append(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return errors, reader


def _start_reader(proc: subprocess.Popen) -> queue.Queue:
    # A thread reads stdout: a select() on a buffered pipe misses lines already buffered.
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _serve(*args: str, workers: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(CLI + ["mock-queue", "serve", *([] if workers else ["--no-workers"]),
                                   *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _create_task(env: dict[str, str], task_queue_id: str) -> tuple[taskcluster.Queue, str]:
    """The official client on the served mock (from its exports) and a task it created."""
    q = taskcluster.Queue({"rootUrl": env["TASKCLUSTER_ROOT_URL"], "credentials": {
        "clientId": env["TASKCLUSTER_CLIENT_ID"],
        "accessToken": env["TASKCLUSTER_ACCESS_TOKEN"]}})
    task_id = taskcluster.slugId()
    q.createTask(task_id, {"taskQueueId": task_queue_id, "payload": {},
                           "created": taskcluster.fromNowJSON("0 seconds"),
                           "deadline": taskcluster.fromNowJSON("1 day"),
                           "metadata": {"name": "cli", "description": "d",
                                        "owner": "t@example.com",
                                        "source": "https://example.com/cli"}})
    return q, task_id


def _exports(proc: subprocess.Popen) -> dict[str, str]:
    exports = {}
    for _ in range(3):
        line = _read_line(proc)
        assert line.startswith("export TASKCLUSTER_"), line
        name, _, value = line[len("export "):].strip().partition("=")
        exports[name] = value.strip("'")
    return exports


def _stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        pytest.fail("the CLI did not stop on a signal")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_exports_first_and_stops_on_signal(sig):
    proc = _serve("--access-token", "cli-token", "--claim-timeout", "60")
    try:
        env = _exports(proc)
        assert set(env) == {"TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID",
                            "TASKCLUSTER_ACCESS_TOKEN"}
        assert env["TASKCLUSTER_CLIENT_ID"] == "tutorial"
        assert env["TASKCLUSTER_ACCESS_TOKEN"] == "cli-token"
        assert env["TASKCLUSTER_ROOT_URL"].startswith("http://127.0.0.1:")
        q = taskcluster.Queue({"rootUrl": env["TASKCLUSTER_ROOT_URL"],
                               "credentials": {"clientId": "tutorial", "accessToken": "cli-token"}})
        assert q.ping()["alive"] is True
        assert q.listTaskQueues()["taskQueues"] == []
    finally:
        code = _stop(proc, sig)
    assert code == 0
    assert "mock queue listening on" in proc.stderr.read()
    assert list(_LINES.pop(proc).queue) == []  # nothing else on stdout


def test_serve_with_db_keeps_tasks(tmp_path: pathlib.Path):
    db = tmp_path / "cli.sqlite"
    proc = _serve("--db", str(db))
    try:
        env = _exports(proc)
        _, task_id = _create_task(env, "proj-cli/worker")
    finally:
        _stop(proc)
    proc = _serve("--db", str(db))
    try:
        env = _exports(proc)
        r = httpx.get(f"{env['TASKCLUSTER_ROOT_URL']}/api/queue/v1/task/{task_id}/status")
        assert r.status_code == 200 and r.json()["status"]["taskId"] == task_id
    finally:
        _stop(proc)


@pytest.mark.parametrize("verbose", [False, True])
def test_serve_logs_what_a_teacher_needs_not_every_worker_request(verbose: bool):
    """The built-in workers call the queue over httpx, which logs each request at INFO: the
    server's stderr shows where it listens and errors, and those lines only with --verbose."""
    proc = _serve("--claim-wait", "0.5", *(["--verbose"] if verbose else []), workers=True)
    errors, reader = _drain_stderr(proc)
    try:
        exports = _exports(proc)
        q, task_id = _create_task(exports, "built-in/succeed")
        for _ in range(200):  # the built-in worker claims and completes it (bounded wait)
            if q.status(task_id)["status"]["state"] == "completed":
                break
            threading.Event().wait(0.05)
        assert q.status(task_id)["status"]["state"] == "completed"
    finally:
        code = _stop(proc)  # asserted below: a failure above keeps its own message
    reader.join(10)
    stderr = "".join(errors)
    assert code == 0, stderr
    assert "mock queue listening on " + exports["TASKCLUSTER_ROOT_URL"] in stderr
    worker_calls = [line for line in stderr.splitlines() if "HTTP Request:" in line]
    if verbose:
        assert any(f"/task/{task_id}/runs/0/completed" in line for line in worker_calls), stderr
    else:
        assert worker_calls == [], stderr


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tutorial-kit {__version__}"


@pytest.mark.parametrize("argv, text", [
    (["mock-queue", "serve", "--port", "abc"], "--port"),
    (["mock-queue", "serve", "--claim-timeout", "0"], "--claim-timeout"),
    (["mock-queue", "serve", "--host", "0.0.0.0", "--no-workers"], "--strict"),
    (["no-such-command"], "invalid choice"),
    ([], "a command is required"),
])
def test_errors_are_one_clear_line_and_exit_2(argv, text):
    proc = subprocess.run(CLI + argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
