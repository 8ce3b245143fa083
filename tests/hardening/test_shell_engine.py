"""The shell engine runs commands on this machine, so it is fenced in:

* it claims only from its configured task queues (a task elsewhere is never run);
* every run is bounded by ``maxRunTime`` (required; capped); a command that overruns is killed
  and the run fails;
* it gets a clean environment (no credentials of the mock);
* it never starts for a server that listens beyond loopback without strict auth (the refusal
  comes before any worker starts: ``test_binding.py``).

Waits poll the queue with a bound; none depends on a sleep being long enough.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tutorial_kit.mock import MockQueue, start
from tutorial_kit.mock.workers.payloads import MAX_RUN_TIME_CAP
from tutorial_kit.mock.workers.shell import DEFAULT_TASK_QUEUES

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
