"""Lesson 4: rerun a failed task."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context, payload_hint, run_outcome

_RERUN = "wait until the task has failed (tk.lessons.wait_resolved), then call queue.rerunTask"


def rerun_after_failure(queue) -> Exercise:
    """Create a task on ``built-in/fail``, let it fail, rerun it.

    The check reads the latest task the learner created: on ``built-in/fail``, run 0 failed,
    run 1 created by ``rerun``. A rerun asked for too early (the Queue ignores a rerun of an
    unresolved task) is explained, not just counted.
    """

    def check(ctx: Context, *given: str) -> str:
        task_id = ctx.attempt(given)
        status = ctx.queue.status(task_id)["status"]
        runs = status["runs"]
        if status["taskQueueId"] != "built-in/fail":
            raise failed(f"your latest task {task_id} runs on {status['taskQueueId']}, "
                         "not built-in/fail",
                         hint="create a new task with task_queue=\"built-in/fail\" and payload={}")
        first = runs[0] if runs else {}
        if first.get("state") in ("completed", "exception"):
            raise failed(f"run 0 of {task_id} ended {run_outcome(first)}, not failed",
                         hint=payload_hint(status["taskQueueId"], first) or _RERUN)
        if len(runs) < 2:
            reruns = ctx.requests("rerunTask", 200)
            early = [r for r in reruns if task_id in r.get("route", "")]
            if early:
                raise failed(f"{task_id} has 1 run: you called rerunTask before it had resolved",
                             "a rerun of a task that is still pending or running does nothing: "
                             "the Queue answers with its status and adds no run",
                             hint=_RERUN)
            if first.get("state") in ("pending", "running"):
                raise failed(f"{task_id} is still {first['state']}: it has not failed yet",
                             hint=_RERUN)
            raise failed(f"{task_id} failed, and has 1 run: rerun it to add a second",
                         hint="queue.rerunTask(task_id)")
        if runs[1]["reasonCreated"] != "rerun":
            raise failed(f"run 1 of {task_id} was created by {runs[1]['reasonCreated']}, "
                         "not rerun", hint=_RERUN)
        return f"{task_id}: run 0 failed, run 1 is your rerun."

    return Exercise(
        "a second chance",
        "Create a task on `built-in/fail` (payload `{}`: the built-in workers accept no other), "
        "wait until it has failed, then rerun it. (It will fail again: the built-in worker "
        "always fails. That's fine.)",
        check,
        ["Failed tasks are not retried automatically: only worker trouble is.",
         "`queue.rerunTask(task_id)` once the state is `failed`: a rerun of a task that is "
         "still pending or running does nothing."],
        "again = tk.slugid()\n"
        "queue.createTask(again, tk.lessons.tutorial_task(task_queue=\"built-in/fail\", "
        "payload={}))\n"
        "tk.lessons.wait_resolved(queue, again)\nqueue.rerunTask(again)",
        context=Context.for_queue(queue),
    )
