"""Lesson 2: watch a failing task until it resolves."""

from __future__ import annotations

from tutorial_kit.vocabulary import RESOLVED_STATES

from .base import Exercise, failed
from .context import Context, log_time, payload_hint, run_outcome

_LOOP = ("read queue.status(task_id)[\"status\"][\"state\"] in a loop, print it, and stop once "
         "it is completed, failed or exception")


def watch_a_failure(queue) -> Exercise:
    """Create a task on ``built-in/fail`` and poll it until it resolves.

    The check reads the latest task the learner created and, on the mock, the learner's own
    ``status`` reads of it (never the check's): the last one must come after it resolved. (A
    loop may rightly stop after one read: the built-in workers resolve a task at once.)
    """

    def check(ctx: Context, *given: str) -> str:
        task_id = ctx.attempt(given)
        status = ctx.queue.status(task_id)["status"]
        if status["taskQueueId"] != "built-in/fail":
            raise failed(f"your latest task {task_id} runs on {status['taskQueueId']}, "
                         "not built-in/fail",
                         hint="create a new task with task_queue=\"built-in/fail\" and payload={}")
        last = status["runs"][-1] if status["runs"] else {}
        if status["state"] not in ("failed", "exception", "completed"):
            raise failed(f"your latest task {task_id} is still {status['state']}",
                         hint=f"keep polling: {_LOOP}")
        if status["state"] != "failed":
            raise failed(f"your latest task {task_id} ended {run_outcome(last)}, not failed",
                         hint=payload_hint(status["taskQueueId"], last) or _LOOP)
        if not ctx.on_mock:
            seen = ctx.recorded_reads(task_id)
            if seen is None:
                return (f"{task_id} failed. (Without the request log the check cannot see your "
                        "polling.)")
            if not seen:
                raise failed(f"{task_id} failed, but you have not read its status with `queue`",
                             hint=f"poll it: {_LOOP}")
            if seen[-1] not in RESOLVED_STATES:
                raise failed(f"{task_id} failed, but your last status read saw {seen[-1]}",
                             hint=f"don't stop after a fixed number of reads: {_LOOP}")
            return (f"{task_id} failed, and you watched it until it resolved "
                    f"({len(seen)} status read(s)).")
        reads = [r for r in ctx.requests("status", 200) if task_id in r.get("route", "")]
        if not reads:
            raise failed(f"{task_id} failed, but you have not read its status",
                         hint=f"poll it: {_LOOP}")
        resolved = last.get("resolved")
        if resolved and log_time(reads[-1]) < log_time({"time": resolved}):
            raise failed(f"{task_id} failed, but your last status read came before it resolved",
                         hint=f"don't stop after a fixed number of reads: {_LOOP}")
        return (f"{task_id} failed, and you watched it until it resolved "
                f"({len(reads)} status read(s)).")

    return Exercise(
        "watch a failure",
        "Create a task on `built-in/fail` (with an empty payload `{}`: the built-in workers "
        "accept no other) and poll its status in a loop until it is resolved, printing each "
        "state you see.",
        check,
        ["`tk.lessons.tutorial_task(task_queue=\"built-in/fail\", payload={})` builds a "
         "definition.",
         "Loop: read `queue.status(task_id)[\"status\"][\"state\"]`, stop on completed, failed "
         "or exception, `time.sleep(1)` otherwise."],
        "failing = tk.slugid()\n"
        "queue.createTask(failing, tk.lessons.tutorial_task(task_queue=\"built-in/fail\", "
        "payload={}))\n"
        "while True:\n    state = queue.status(failing)[\"status\"][\"state\"]\n    print(state)\n"
        "    if state in (\"completed\", \"failed\", \"exception\"):\n        break\n    time.sleep(1)",
        context=Context.for_queue(queue),
    )
