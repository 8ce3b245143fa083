"""Lesson 2: watch a failing task until it resolves."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context


def watch_a_failure(queue) -> Exercise:
    def check(ctx: Context, *given: str) -> str:
        problems: list[str] = []
        for task_id in ctx.candidates(given):
            status = ctx.queue.status(task_id)["status"]
            if status["taskQueueId"] != "built-in/fail":
                problems.append(f"{task_id} runs on {status['taskQueueId']}, not built-in/fail")
                continue
            if status["state"] != "failed":
                problems.append(f"{task_id} is {status['state']}, not failed yet")
                continue
            if ctx.control is not None:
                polls = [r for r in ctx.requests("status", 200) if task_id in r.get("route", "")]
                if len(polls) < 2:
                    problems.append(f"you read the status of {task_id} {len(polls)} time(s): poll "
                                    "it in a loop until it is resolved")
                    continue
            return f"{task_id} failed, and you watched it happen."
        raise failed("not yet", *problems)

    return Exercise(
        "watch a failure",
        "Create a task on `built-in/fail` and poll its status in a loop until it is resolved, "
        "printing each state you see.",
        check,
        ["`tk.lessons.tutorial_task(task_queue=\"built-in/fail\")` builds a definition.",
         "Loop: read `queue.status(task_id)[\"status\"][\"state\"]`, stop on completed, failed "
         "or exception, `time.sleep(1)` otherwise."],
        "failing = tk.slugid()\nqueue.createTask(failing, tk.lessons.tutorial_task(task_queue=\"built-in/fail\"))\n"
        "while True:\n    state = queue.status(failing)[\"status\"][\"state\"]\n    print(state)\n"
        "    if state in (\"completed\", \"failed\", \"exception\"):\n        break\n    time.sleep(1)",
        context=Context.for_queue(queue),
    )
