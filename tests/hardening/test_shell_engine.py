"""The shell engine runs commands on this machine, so it is fenced in:

* it claims only from its configured task queues (a task elsewhere is never run);
* every run is bounded by ``maxRunTime`` (required; capped); a command that overruns is killed
  and the run fails;
* it gets a clean environment (no credentials of the mock);
* it never starts for a server that listens beyond loopback without strict auth (the refusal
  comes before any worker starts: ``test_binding.py``);
* in a classroom (``classroom serve``, default flags) every learner command runs in bubblewrap:
  the server's working directory, the teacher's home and other learners' task directories are
  out of its sight, and so of its artifacts and log; it runs as ``nobody`` when the server is
  root, with limits (the no-sandbox refusal: ``tests/test_classroom.py``).

Waits poll the queue with a bound; none depends on a sleep being long enough.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tutorial_kit.mock import MockQueue, start
from tutorial_kit.worker.payloads import MAX_RUN_TIME_CAP
from tutorial_kit.mock.sim.workers.shell import DEFAULT_TASK_QUEUES

from .support import Wire, new_task_id, task_definition

SHELL_QUEUE = DEFAULT_TASK_QUEUES[-1]  # tutorial/docker-worker
WAIT = 30.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[MockQueue]:
    with start(workers=True, claim_wait=0.2) as mock:
        if mock.cluster is None:
            pytest.fail(f"the simulated cluster did not start: {mock.cluster_error}")
        yield mock


def _create(wire: Wire, mock: MockQueue, queue: str, payload: dict) -> str:
    task_id = new_task_id()
    answer = wire.api("PUT", f"/task/{task_id}", credentials=mock.credentials,
                      json_body=task_definition(queue, payload=payload))
    assert answer.status == 200, answer.text
    return task_id


def _resolved(wire: Wire, task_id: str, timeout: float = WAIT) -> dict:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        status = wire.api("GET", f"/task/{task_id}/status").json()["status"]
        if status["state"] in ("completed", "failed", "exception"):
            return status
        time.sleep(0.05)
    pytest.fail(f"task {task_id} did not resolve within {timeout} s")


def _log(wire: Wire, task_id: str) -> str:
    from .support import target_of

    answer = wire.api("GET", f"/task/{task_id}/runs/0/artifacts/public%2Flogs%2Flive_backing.log")
    assert answer.status == 303, answer.text
    url = answer.headers["location"]
    return Wire.for_root(url).send("GET", target_of(url)).text


def test_only_the_configured_task_queues_are_served(cluster: MockQueue) -> None:
    wire = Wire.for_root(cluster.root_url)
    assert SHELL_QUEUE in cluster.cluster.task_queues
    payload = {"image": "ubuntu", "command": ["/bin/sh", "-c", "echo ran"], "maxRunTime": 60}
    elsewhere = _create(wire, cluster, "proj-learner/my-worker", payload)
    here = _create(wire, cluster, SHELL_QUEUE, payload)
    assert _resolved(wire, here)["state"] == "completed"
    # the task created first, on a queue the engine does not serve, was never claimed
    status = wire.api("GET", f"/task/{elsewhere}/status").json()["status"]
    assert status["state"] == "pending" and status["runs"][0]["state"] == "pending"
    assert "workerId" not in status["runs"][0]


def test_an_overrunning_command_is_killed_at_max_run_time(cluster: MockQueue) -> None:
    wire = Wire.for_root(cluster.root_url)
    started = time.monotonic()
    task_id = _create(wire, cluster, SHELL_QUEUE,
                      {"command": ["/bin/sh", "-c", "echo start; sleep 60; echo END-$((40+2))"],
                       "maxRunTime": 1})
    status = _resolved(wire, task_id, timeout=WAIT)
    assert status["state"] == "failed", status
    assert time.monotonic() - started < 60, "the command ran to its end"
    log = _log(wire, task_id)
    assert "start" in log and "END-42" not in log and "maxRunTime" in log


def test_max_run_time_is_required_and_capped(cluster: MockQueue) -> None:
    wire = Wire.for_root(cluster.root_url)
    missing = _create(wire, cluster, SHELL_QUEUE, {"command": ["/bin/true"]})
    status = _resolved(wire, missing)
    assert (status["state"], status["runs"][0]["reasonResolved"]) == (
        "exception", "malformed-payload")
    for bad in (0, -5, "600", 1.5, True):
        task_id = _create(wire, cluster, SHELL_QUEUE, {"command": ["/bin/true"],
                                                       "maxRunTime": bad})
        assert _resolved(wire, task_id)["runs"][0]["reasonResolved"] == "malformed-payload"
    huge = _create(wire, cluster, SHELL_QUEUE, {"command": ["/bin/true"],
                                                "maxRunTime": 10 ** 9})
    assert _resolved(wire, huge)["state"] == "completed"
    assert f"maxRunTime {MAX_RUN_TIME_CAP} s" in _log(wire, huge)


def test_commands_get_no_credentials_of_the_mock(cluster: MockQueue) -> None:
    wire = Wire.for_root(cluster.root_url)
    task_id = _create(wire, cluster, SHELL_QUEUE, {"command": ["/usr/bin/env"], "maxRunTime": 30})
    assert _resolved(wire, task_id)["state"] == "completed"
    log = _log(wire, task_id)
    assert "TASK_ID=" + task_id in log  # the environment was printed at all
    assert cluster.credentials["accessToken"] not in log
    assert "TASKCLUSTER_ACCESS_TOKEN" not in log and "TASKCLUSTER_CLIENT_ID" not in log


# -- a classroom's sandbox -------------------------------------------------------------------
# `classroom serve` with default flags runs every learner's commands in bubblewrap. These tests
# act as learners against the real CLI and look for the teacher's data where a learner could
# reach it: every artifact (data and error) of the task, its log, the server's own output.

needs_bwrap = pytest.mark.skipif(
    __import__("tutorial_kit.mock.security.sandbox", fromlist=["find_bwrap"]).find_bwrap() is None,
    reason="bubblewrap is not installed (`apt-get install bubblewrap`; `make test` installs it "
           "when root)")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    from .classroom import ClassroomServer

    with ClassroomServer(tmp_path_factory.mktemp("classroom") / "teacher") as server:
        assert "run in a sandbox: bubblewrap" in server.stderr
        yield server


@needs_bwrap
def test_a_learner_task_cannot_read_the_servers_directory_or_the_teachers_home(classroom):
    import pathlib
    import secrets
    import shutil

    import tutorial_kit as tk

    from .classroom import everything_published, wait_resolved

    marker = secrets.token_hex(8)
    in_cwd = classroom.workdir / "teacher-notes.txt"  # beside the credentials file and store
    in_cwd.write_text(f"CWD-SECRET-{marker}\n")
    home_dir = pathlib.Path.home() / f".tutorial-kit-test-{marker}"
    home_dir.mkdir()
    in_home = home_dir / "secret.txt"
    in_home.write_text(f"HOME-SECRET-{marker}\n")
    credentials = classroom.workdir / "classroom-credentials.csv"
    targets = [str(in_cwd), str(in_home), str(credentials)]
    secrets_to_keep = [f"CWD-SECRET-{marker}", f"HOME-SECRET-{marker}",
                       classroom.learners["bob"]["accessToken"], classroom.teacher["accessToken"]]
    try:
        script = "; ".join(
            f"cat {p}; cp {p} copy-{i}; ln -s {p} link-{i}; cat ../../../../../..{p}; "
            f"ls -la {pathlib.Path(p).parent}"
            for i, p in enumerate(targets)) + "; ls -la ~ /tmp /; true"
        artifacts = {}
        for i, p in enumerate(targets):
            artifacts[f"public/absolute-{i}"] = {"type": "file", "path": p}
            artifacts[f"public/upward-{i}"] = {"type": "file", "path": "../../../../../.." + p}
            artifacts[f"public/link-{i}"] = {"type": "file", "path": f"link-{i}"}
            artifacts[f"public/folder-{i}"] = {"type": "directory",
                                               "path": str(pathlib.Path(p).parent)}
        artifacts["public/task-dir"] = {"type": "directory", "path": "."}
        alice = classroom.queue("alice")
        task_id = tk.slugid()
        alice.createTask(task_id, tk.lessons.tutorial_task(
            script, artifacts=artifacts, schedulerId="alice"))
        status = wait_resolved(alice, task_id)
        data, errors = everything_published(alice, task_id)
        log = data["public/logs/live_backing.log"].decode()
        assert "$ /bin/bash -c" in log, log  # the command really ran
        for name, body in data.items():
            for secret in secrets_to_keep:
                assert secret.encode() not in body, f"{secret[:12]}... reached {name}"
        for secret in secrets_to_keep[:2]:
            assert secret not in classroom.stderr
        for i in range(len(targets)):
            for kind in ("absolute", "upward", "link", "folder"):
                assert "file-missing-on-worker" in errors[f"public/{kind}-{i}"], (kind, i, errors)
        assert "sandbox: bubblewrap" in log
        assert status["state"] in ("completed", "failed")
    finally:
        shutil.rmtree(home_dir, ignore_errors=True)


@needs_bwrap
def test_a_learner_task_cannot_see_another_learners_task_directory(classroom):
    import pathlib
    import secrets
    import time

    import tutorial_kit as tk

    from .classroom import everything_published, wait_resolved

    marker = f"ALICE-{secrets.token_hex(8)}"
    alice, bob = classroom.queue("alice"), classroom.queue("bob")
    alice_task = tk.slugid()
    alice.createTask(alice_task, tk.lessons.tutorial_task(
        f"echo {marker} > mine.txt; sleep 60", schedulerId="alice", artifacts={}))
    # wait until alice's file is really there, on the teacher's machine
    give_up = time.monotonic() + 30
    where = f"tutorial-kit-cluster-*/runs/{alice_task}-0-*/mine.txt"
    # the server's $TMPDIR, or /tmp when that is private and the sandbox runs as nobody
    while not (found := [*classroom.tmp.glob(where), *pathlib.Path("/tmp").glob(where)]):
        assert time.monotonic() < give_up, "alice's task did not start"
        time.sleep(0.1)
    alices_file = found[0]
    assert alices_file.read_text().strip() == marker
    runs = alices_file.parent.parent
    bob_task = tk.slugid()
    bob.createTask(bob_task, tk.lessons.tutorial_task(
        f"cat {alices_file}; ls -la {runs} {alices_file.parent}; "
        "find / -name mine.txt 2>/dev/null; cat /proc/*/root/task/mine.txt; ls /proc; true",
        schedulerId="bob", artifacts={
            "public/alices.txt": {"type": "file", "path": str(alices_file)},
            "public/runs": {"type": "directory", "path": str(runs)}}))
    wait_resolved(bob, bob_task)
    data, errors = everything_published(bob, bob_task)
    log = data["public/logs/live_backing.log"].decode()
    assert "find / -name mine.txt" in log
    assert marker not in log and all(marker.encode() not in body for body in data.values())
    assert "file-missing-on-worker" in errors["public/alices.txt"]
    assert "file-missing-on-worker" in errors["public/runs"]
    assert alices_file.read_text().strip() == marker  # it was there all along
    alice.cancelTask(alice_task)


@needs_bwrap
def test_a_learner_task_runs_limited_and_not_as_the_teacher(classroom):
    import os

    import tutorial_kit as tk

    from tutorial_kit.mock.security.sandbox import NOBODY, Limits

    from .classroom import everything_published, wait_resolved

    alice = classroom.queue("alice")
    task_id = tk.slugid()
    alice.createTask(task_id, tk.lessons.tutorial_task(
        'echo "uid=$(id -u) nproc=$(ulimit -u) as=$(ulimit -v) fsize=$(ulimit -f) '
        'core=$(ulimit -c)"; (head -c 100000000 /dev/zero > big) 2>/dev/null; '
        'echo "big=$(stat -c %s big)"; curl -s -m 2 http://example.com >/dev/null 2>&1 '
        '|| echo "network: none"', schedulerId="alice", artifacts={}))
    assert wait_resolved(alice, task_id)["state"] == "completed"
    log = everything_published(alice, task_id)[0]["public/logs/live_backing.log"].decode()
    limits = Limits()
    expected_uid = NOBODY if os.geteuid() == 0 else os.getuid()
    assert f"uid={expected_uid} " in log, log
    assert f"as={limits.memory_bytes // 1024} fsize={limits.file_bytes // 1024} core=0" in log
    assert f"big={limits.file_bytes}" in log  # the write stopped at the file size limit
    if os.geteuid() == 0:
        assert f"nproc={limits.processes} " in log
