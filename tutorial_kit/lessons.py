"""Small helpers the lessons share, so the notebooks stay about the Queue API.

Everything here goes through the public client API, so it works on the mock and on a real
deployment alike; mock-only helpers say so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from tutorial_kit.mockctl import MockControl

#: The task queue the Taskcluster tutorial uses; the mock's shell engine serves it.
TUTORIAL_TASK_QUEUE = "tutorial/docker-worker"
RESOLVED = ("completed", "failed", "exception")


def scheduler_id() -> str:
    """The learner's ``schedulerId``: ``-`` (the Queue's default) unless a classroom set
    ``TUTORIAL_KIT_SCHEDULER_ID`` (a shared classroom queue scopes learners by it)."""
    return os.environ.get("TUTORIAL_KIT_SCHEDULER_ID", "-")


def worker_queue() -> str:
    """The task queue lesson 6 works as a worker: no engine serves it, so tasks wait there.

    ``learner/my-worker``, or ``learner-<schedulerId>/my-worker`` in a classroom, so that
    learners don't claim each other's tasks.
    """
    sid = scheduler_id()
    return "learner/my-worker" if sid == "-" else f"learner-{sid}/my-worker"


def tutorial_task(command: str = "ls && du /usr", *, task_queue: str = TUTORIAL_TASK_QUEUE,
                  name: str = "tutorial-kit: first task", deadline: str = "2 hours",
                  artifacts: dict[str, Any] | None = None, **fields: Any) -> dict:
    """The task definition of the Taskcluster tutorial (docker-worker payload), ready to create.

    ``fields`` override top-level fields (``retries``, ``taskGroupId``, ``dependencies``, ...).
    """
    from tutorial_kit.client import fromNowJSON

    if artifacts is None:
        artifacts = {"public/passwd.txt": {"type": "file", "path": "/etc/passwd",
                                           "expires": fromNowJSON("2 months")}}
    task = {
        "taskQueueId": task_queue,
        "schedulerId": scheduler_id(),
        "created": fromNowJSON(""),
        "deadline": fromNowJSON(deadline),
        "payload": {
            "image": "ubuntu:latest",
            "command": ["/bin/bash", "-c", command],
            "maxRunTime": 600,
            "artifacts": artifacts,
        },
        "metadata": {
            "name": name,
            "description": "A task from the tutorial-kit lessons.",
            "owner": "learner@example.com",
            "source": "https://github.com/taskcluster/taskcluster/tree/main/ui/docs/tutorial",
        },
    }
    task.update(fields)
    return task


#: The first pause between two polls of a wait helper; each pause is half again as long as the
#: one before, up to the helper's ``interval``: a task that resolves at once (the built-in
#: workers, a shell command of a few milliseconds) is seen at once, a long one costs no more
#: requests than a fixed interval would.
FIRST_PAUSE = 0.02


def _pauses(interval: float) -> Iterator[float]:
    pause = min(FIRST_PAUSE, interval)
    while True:
        yield pause
        pause = min(pause * 1.5, interval)


def wait_resolved(queue: Any, task_id: str, *, timeout: float = 120.0, interval: float = 0.25,
                  states: tuple[str, ...] = RESOLVED) -> dict:
    """Poll ``status`` until the task is in one of ``states``; return the status structure.

    Polls quickly at first, then every ``interval`` seconds. Bounded: raises TimeoutError after
    ``timeout`` seconds with the last state it saw.
    """
    give_up = time.monotonic() + timeout
    pauses = _pauses(interval)
    while True:
        status = queue.status(task_id)["status"]
        if status["state"] in states:
            return status
        if time.monotonic() > give_up:
            raise TimeoutError(f"task {task_id} still {status['state']!r} after {timeout:g} s")
        time.sleep(next(pauses))


def wait_for_run(queue: Any, task_id: str, run_id: int, state: str, *, timeout: float = 60.0,
                 interval: float = 0.1) -> dict:
    """Poll until run ``run_id`` exists and is in ``state``; return the status structure."""
    give_up = time.monotonic() + timeout
    pauses = _pauses(interval)
    while True:
        status = queue.status(task_id)["status"]
        runs = status["runs"]
        if len(runs) > run_id and runs[run_id]["state"] == state:
            return status
        if time.monotonic() > give_up:
            seen = runs[run_id]["state"] if len(runs) > run_id else "absent"
            raise TimeoutError(f"run {run_id} of {task_id} is {seen!r}, not {state!r}, "
                               f"after {timeout:g} s")
        time.sleep(next(pauses))


def runs_summary(status: dict) -> list[tuple]:
    """The runs as (runId, state, reasonCreated, reasonResolved) tuples: no ids, no times,
    so a notebook can print them and get the same output every time."""
    return [(r["runId"], r["state"], r["reasonCreated"], r.get("reasonResolved", "-"))
            for r in status["runs"]]


def mock_control(queue: Any, *, quiet: bool = False) -> MockControl | None:
    """The mock's control plane, or None (with one sentence saying why) on a real deployment."""
    control = MockControl(queue)
    if control.is_mock():
        return control
    if not quiet:
        print("This cell needs the tutorial's mock queue (clock and faults); "
              "on a real deployment it skips itself.")
    return None
