"""Lesson 4: rerun a failed task."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context


def rerun_after_failure(queue) -> Exercise:
    def check(ctx: Context, *given: str) -> str:
        problems: list[str] = []
        for task_id in ctx.candidates(given):
            runs = ctx.queue.status(task_id)["status"]["runs"]
            if len(runs) < 2:
                problems.append(f"{task_id} has {len(runs)} run(s); a rerun adds one")
                continue
            if runs[0].get("reasonResolved") != "failed":
                problems.append(f"run 0 of {task_id} ended {runs[0].get('reasonResolved', 'not yet')}, "
                                "not failed")
                continue
            if runs[1]["reasonCreated"] != "rerun":
                problems.append(f"run 1 of {task_id} was created by {runs[1]['reasonCreated']}, "
                                "not rerun")
                continue
            return f"{task_id}: run 0 failed, run 1 is your rerun."
        raise failed("not yet", *problems)

    return Exercise(
        "a second chance",
        "Create a task on `built-in/fail`, wait until it has failed, then rerun it. (It will fail "
        "again: the built-in worker always fails. That's fine.)",
        check,
        ["Failed tasks are not retried automatically: only worker trouble is.",
         "`queue.rerunTask(task_id)` once the state is `failed`."],
        "again = tk.slugid()\nqueue.createTask(again, tk.lessons.tutorial_task(task_queue=\"built-in/fail\"))\n"
        "tk.lessons.wait_resolved(queue, again)\nqueue.rerunTask(again)",
        context=Context.for_queue(queue),
    )
