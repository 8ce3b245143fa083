"""Lesson 6: be a worker that reports failure."""

from __future__ import annotations

import secrets
from typing import Any

from tutorial_kit import lessons

from .base import Exercise, failed
from .context import Context, run_outcome

_WITH_CLAIM = ("build the worker's client from the claim: tk.Queue({\"rootUrl\": "
               "queue.options[\"rootUrl\"], \"credentials\": claim[\"credentials\"]}), and call "
               "reportFailed on it")


def default_worker_group() -> str:
    """The workerGroup a learner may claim as: their name in a classroom (learners hold
    ``queue:worker-id:<name>/*``), else ``my-laptop``."""
    shared = getattr(lessons, "worker_group", None)  # the lessons' own rule, where it exists
    if callable(shared):
        try:
            return str(shared())
        except TypeError:  # a different signature: the rule below is the same
            pass
    sid = lessons.scheduler_id()
    return "my-laptop" if sid == "-" else sid


def fresh_task_queue() -> str:
    """A task queue nobody has used: the provisioner of the learner's own queues
    (``learner`` or ``learner-<name>``), a new worker type. A claim there can only get the
    tasks of this attempt, never a stray left by an earlier run of the lesson."""
    sid = lessons.scheduler_id()  # the same provisioner as lessons.worker_queue()
    provisioner = "learner" if sid == "-" else f"learner-{sid}"
    return f"{provisioner}/fail-honestly-{secrets.token_hex(3)}"


class WorkerExercise(Exercise):
    """An exercise with a task queue of its own and the workerGroup to claim as."""

    task_queue: str
    worker_group: str


def fail_honestly(queue: Any, *, task_queue: str | None = None,
                  worker_group: str | None = None) -> WorkerExercise:
    """Create a task, claim it, report it failed with the claim's temporary credentials.

    ``exercise.task_queue`` is a task queue of this exercise's own (a fresh one unless given),
    ``exercise.worker_group`` the group the learner may claim as. The check judges the latest
    task the learner created and, on the mock, that ``reportFailed`` came from the claim's
    credentials (``task-client/<taskId>/<runId>/...`` in the request log).
    """
    queue_id = task_queue or fresh_task_queue()
    group = worker_group or default_worker_group()

    def check(ctx: Context, *given: str) -> str:
        task_id = ctx.attempt(given)
        status = ctx.queue.status(task_id)["status"]
        if status["taskQueueId"] != queue_id:
            raise failed(f"your latest task {task_id} is on {status['taskQueueId']}, "
                         f"not {queue_id}", hint="use task_queue=exercise.task_queue")
        if not status["runs"] or "workerGroup" not in status["runs"][-1]:
            raise failed(f"nobody has claimed {task_id} yet",
                         hint="queue.claimWork(exercise.task_queue, {\"workerGroup\": "
                              "exercise.worker_group, \"workerId\": \"worker-2\", \"tasks\": 1})")
        last = status["runs"][-1]
        if last.get("reasonResolved") != "failed":
            raise failed(f"the last run of {task_id} is {run_outcome(last)}, not failed",
                         hint=f"report it: {_WITH_CLAIM}")
        where = f"{last['workerGroup']}/{last['workerId']}"
        if not ctx.on_mock:
            if ctx.recorder is not None and task_id in ctx.recorder.reported:
                raise failed(f"run {last['runId']} of {task_id} failed, but you reported it with "
                             "your own credentials (`queue`), not the claim's", hint=_WITH_CLAIM)
            return (f"{task_id}: you claimed it as {where} and reported it failed, not with your "
                    "own `queue`. (Without the request log the check cannot see the claim's "
                    "credentials themselves.)")
        reports = [r for r in ctx.requests("reportFailed", 200)
                   if f"/task/{task_id}/runs/{last['runId']}/" in r.get("route", "")]
        claim_client = f"task-client/{task_id}/{last['runId']}/"
        if not any((r.get("clientId") or "").startswith(claim_client) for r in reports):
            who = ", ".join(sorted({str(r.get("clientId")) for r in reports})) or "nobody"
            raise failed(f"run {last['runId']} of {task_id} failed, but not reported with the "
                         f"claim's temporary credentials (reported by: {who})",
                         hint=_WITH_CLAIM)
        return (f"{task_id}: you claimed it as {where} and reported it failed with the "
                "claim's temporary credentials.")

    exercise = WorkerExercise(
        "fail honestly",
        f"Create a task on the task queue `exercise.task_queue` (`{queue_id}`, a queue of this "
        f"exercise's own), claim it with `claimWork` as workerGroup `exercise.worker_group` "
        f"(`{group}`), and report the run failed with the claim's temporary credentials.",
        check,
        ["Repeat the claim cells above with a new task, on `exercise.task_queue` and as "
         "`exercise.worker_group`.",
         "`worker.reportFailed(task_id, run_id)`, where `worker` uses `claim[\"credentials\"]`."],
        "tid = tk.slugid()\n"
        "queue.createTask(tid, tk.lessons.tutorial_task(\"true\", "
        "task_queue=exercise.task_queue))\n"
        "claim = queue.claimWork(exercise.task_queue, {\"workerGroup\": exercise.worker_group,\n"
        "                                             \"workerId\": \"worker-2\", "
        "\"tasks\": 1})[\"tasks\"][0]\n"
        "worker = tk.Queue({\"rootUrl\": queue.options[\"rootUrl\"], "
        "\"credentials\": claim[\"credentials\"]})\n"
        "worker.reportFailed(tid, claim[\"runId\"])",
        context=Context.for_queue(queue),
    )
    exercise.task_queue = queue_id
    exercise.worker_group = group
    return exercise
