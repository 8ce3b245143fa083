"""Small helpers the lessons share, so the notebooks stay about the Queue API.

Everything here goes through the public client API, so it works on the mock and on a real
deployment alike; mock-only helpers say so.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tutorial_kit.mockctl import MockControl, MockOnlyError
from tutorial_kit.vocabulary import RESOLVED_STATES

#: The task queue the Taskcluster tutorial uses; the mock's shell engine serves it.
TUTORIAL_TASK_QUEUE = "tutorial/docker-worker"
#: Names the task queue the lessons run their tasks on (e.g. one your own worker serves on a
#: real deployment, where nothing serves ``tutorial/docker-worker``).
TASK_QUEUE_ENV = "TUTORIAL_KIT_TASK_QUEUE"
#: The task queues of a deployment's built-in workers. They accept only an empty payload: the
#: real service resolves any other payload ``exception`` / ``malformed-payload``.
BUILTIN_QUEUES = ("built-in/succeed", "built-in/fail")
RESOLVED = RESOLVED_STATES


def scheduler_id() -> str:
    """The learner's ``schedulerId``: ``-`` (the Queue's default) unless a classroom set
    ``TUTORIAL_KIT_SCHEDULER_ID`` (a shared classroom queue scopes learners by it)."""
    return os.environ.get("TUTORIAL_KIT_SCHEDULER_ID", "-")


def task_queue() -> str:
    """The task queue the lessons' tasks run on: ``$TUTORIAL_KIT_TASK_QUEUE``, else the
    tutorial's ``tutorial/docker-worker`` (which the mock's shell engine serves)."""
    return os.environ.get(TASK_QUEUE_ENV, "").strip() or TUTORIAL_TASK_QUEUE


_task_queue = task_queue  # tutorial_task's parameter of the same name hides the function
_worker_queue: str | None = None


def new_worker_queue() -> str:
    """A fresh task queue for lesson 6's worker, used by :func:`worker_queue` from now on.

    No engine serves it, so tasks wait there for you; and since no earlier run of the lesson
    (or another learner) ever used it, every ``claimWork`` on it gets this run's own tasks, never
    a retry an earlier run left behind. ``learner/my-worker-<random>``, or
    ``learner-<schedulerId>/my-worker-<random>`` in a classroom (where a learner may claim only
    from ``learner-<name>/*``).
    """
    global _worker_queue
    _worker_queue = f"{_learner_provisioner()}/my-worker-{secrets.token_hex(4)}"
    return _worker_queue


def _learner_provisioner() -> str:
    """``learner``, or ``learner-<schedulerId>`` in a classroom, where a learner may create
    tasks on and claim from ``learner-<name>/*`` only."""
    sid = scheduler_id()
    return "learner" if sid == "-" else f"learner-{sid}"


def worker_queue() -> str:
    """The task queue lesson 6 works as a worker: the last :func:`new_worker_queue` of this
    kernel (one is made on first use)."""
    return _worker_queue or new_worker_queue()


def worker_group() -> str:
    """The ``workerGroup`` to claim as: ``my-laptop``, or the learner's name in a classroom,
    where a learner holds ``queue:worker-id:<name>/*`` and may claim only as that group."""
    sid = scheduler_id()
    return "my-laptop" if sid == "-" else sid


@dataclass
class DecisionTask:
    """A task this notebook created, claimed and now holds ``running``: the decision task of a
    graph. Tasks that depend on it stay ``unscheduled`` until :meth:`complete` reports it done,
    however fast the workers are, so a lesson can show a graph waiting without a task that
    sleeps."""

    task_id: str
    run_id: int
    worker: Any = field(repr=False)  # a client with the claim's temporary credentials

    def complete(self) -> dict:
        """Report the run completed, as its worker (with the claim's credentials); the Queue
        then schedules the tasks that depend on it. Returns the status structure."""
        return self.worker.reportCompleted(self.task_id, self.run_id)["status"]


def decision_task(queue: Any, task_group_id: str, *, task_id: str | None = None,
                  name: str = "decision", timeout: float = 60.0) -> DecisionTask:
    """Create a task in ``task_group_id`` and claim it as this notebook's worker.

    Real task graphs start this way: a *decision task* runs first and the rest of the graph
    depends on it. Here the notebook is that task's worker. The task goes to a task queue of
    this call's own (``learner/decision-<random>``, ``learner-<name>/…`` in a classroom), so no
    other worker takes it and no earlier run's task is claimed instead; the claim is made as
    :func:`worker_group` / ``notebook``. Raises TimeoutError if no claim comes within
    ``timeout`` seconds.
    """
    from tutorial_kit.client import Queue, slugid

    task_id = task_id or slugid()
    queue_id = f"{_learner_provisioner()}/decision-{secrets.token_hex(4)}"
    queue.createTask(task_id, tutorial_task(task_queue=queue_id, name=name,
                                            taskGroupId=task_group_id, payload={}))
    give_up = time.monotonic() + timeout
    while True:
        # claimWork long-polls on a real deployment; the task is pending, so it returns at once
        claimed = queue.claimWork(queue_id, {"workerGroup": worker_group(),
                                             "workerId": "notebook", "tasks": 1})["tasks"]
        if claimed:
            break
        if time.monotonic() > give_up:
            raise TimeoutError(f"no claim of the decision task {task_id} on {queue_id} "
                               f"after {timeout:g} s")
    claim = claimed[0]
    worker = Queue({"rootUrl": queue.options["rootUrl"], "credentials": claim["credentials"]})
    return DecisionTask(task_id=claim["status"]["taskId"], run_id=claim["runId"], worker=worker)


#: The tutorial task's command: list the task's directory and size a directory, as the
#: Taskcluster tutorial's first task does, but of ``/usr/bin`` rather than all of ``/usr``, which
#: takes from 0.7 to 3 s on a laptop: multiple seconds of nothing in every lesson that waits on it.
TUTORIAL_COMMAND = "ls && du -sh /usr/bin"


def tutorial_task(command: str = TUTORIAL_COMMAND, *, task_queue: str | None = None,
                  name: str = "tutorial-kit: first task", deadline: str = "2 hours",
                  artifacts: dict[str, Any] | None = None, **fields: Any) -> dict:
    """The task definition of the Taskcluster tutorial (docker-worker payload), ready to create.

    ``task_queue`` defaults to :func:`task_queue`. On a built-in task queue
    (``built-in/succeed``, ``built-in/fail``) the payload is ``{}``, the only payload the
    built-in workers accept. ``fields`` override top-level fields (``retries``,
    ``taskGroupId``, ``dependencies``, ...).
    """
    from tutorial_kit.client import fromNowJSON

    if task_queue is None:
        task_queue = _task_queue()
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
    if task_queue in BUILTIN_QUEUES:
        task["payload"] = {}
    task.update(fields)
    return task


def builtin_task(outcome: str = "succeed", **fields: Any) -> dict:
    """A task for a built-in worker (``outcome``: ``succeed`` or ``fail``), with the empty
    payload those workers require; ``fields`` as for :func:`tutorial_task`."""
    if f"built-in/{outcome}" not in BUILTIN_QUEUES:
        raise ValueError(f"outcome must be 'succeed' or 'fail', not {outcome!r}")
    fields.setdefault("name", f"tutorial-kit: built-in/{outcome}")
    return tutorial_task(task_queue=f"built-in/{outcome}", **fields)


#: The first pause between two polls of a wait helper; each pause is PAUSE_GROWTH times the
#: one before, up to the helper's ``interval``: a task that resolves at once (the built-in
#: workers, a shell command of a few milliseconds) is seen at once, a long one costs no more
#: requests than a fixed interval would.
FIRST_PAUSE = 0.02
#: A quarter longer each time: a lesson's task (tens of milliseconds of shell) is seen done
#: within a few milliseconds of its end, and a slow one still reaches ``interval`` in a dozen polls.
PAUSE_GROWTH = 1.25


def _pauses(interval: float) -> Iterator[float]:
    pause = min(FIRST_PAUSE, interval)
    while True:
        yield pause
        pause = min(pause * PAUSE_GROWTH, interval)


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
        if task_queue() in _served_queues(control):
            return control
        # The lessons' tasks run on a worker of the learner's own ($TUTORIAL_KIT_TASK_QUEUE):
        # the mock can neither crash it nor make its claims lapse.
        if not quiet:
            print(f"The lessons' tasks run on {task_queue()}, which the mock's own workers do "
                  "not serve: the clock and crash controls skip themselves.")
        return None
    if not quiet:
        print("This cell needs the tutorial's mock queue (clock and faults); "
              "on a real deployment it skips itself.")
    return None


#: What a mock-only cell prints where it skips itself.
SKIP_NOTE = ("Skipped: this cell needs the mock queue's clock and faults, which this queue does "
             "not open to you (a real deployment has neither; in a classroom they are the "
             "teacher's).")


def _served_queues(control: MockControl) -> list[str]:
    try:
        return list(control.cluster().get("taskQueues") or [])
    except MockOnlyError:  # a mock started with its workers off serves none
        return []


def on_mock(control: MockControl | None) -> bool:
    """Guard for a cell that needs the mock (its clock or faults): True on the mock; where they
    are not open to this learner (``control`` is None: a real deployment, or a classroom whose
    clock and faults are the teacher's) prints one line saying the cell skips itself."""
    if control is not None:
        return True
    print(SKIP_NOTE)
    return False


def restore_clock(control: MockControl | None) -> None:
    """Put the mock's clock back to real time at the end of a lesson that moved it.

    The official clients in a terminal count ``fromNowJSON('')`` from the wall clock; a mock
    left 21 minutes ahead would refuse their ``created`` as in the past. Nothing on a real
    deployment (``control`` is None there).
    """
    if control is not None:
        control.reset_clock()
        print("The mock's clock is back to real time.")
