"""Lesson 6: be a worker that reports failure."""

from __future__ import annotations

from .base import Exercise, failed
from tutorial_kit.lessons import worker_queue

from .context import Context


def fail_honestly(queue) -> Exercise:
    TASK_QUEUE = worker_queue()

    def check(ctx: Context, *given: str) -> str:
        problems: list[str] = []
        for task_id in ctx.candidates(given):
            status = ctx.queue.status(task_id)["status"]
            if status["taskQueueId"] != TASK_QUEUE:
                problems.append(f"{task_id} is on {status['taskQueueId']}, not {TASK_QUEUE}")
                continue
            last = status["runs"][-1] if status["runs"] else {}
            if last.get("reasonResolved") != "failed":
                problems.append(f"the last run of {task_id} is {last.get('state', 'absent')}"
                                f"{'/' + last['reasonResolved'] if 'reasonResolved' in last else ''}")
                continue
            if ctx.control is not None and not ctx.requests("reportFailed", 200):
                problems.append("the log shows no reportFailed call from you")
                continue
            return (f"{task_id}: you claimed it as {last['workerGroup']}/{last['workerId']} "
                    "and reported it failed.")
        raise failed("not yet", *problems)

    return Exercise(
        "fail honestly",
        f"Create a task on `{TASK_QUEUE}`, claim it with `claimWork`, and report the run failed "
        "with the claim's credentials.",
        check,
        ["Repeat the claim cells above with a new task.",
         "`worker.reportFailed(task_id, run_id)`, where `worker` uses `claim[\"credentials\"]`."],
        "tid = tk.slugid()\nqueue.createTask(tid, tk.lessons.tutorial_task(task_queue=TASK_QUEUE))\n"
        "c = queue.claimWork(TASK_QUEUE, {\"workerGroup\": \"my-laptop\", \"workerId\": \"w2\", "
        "\"tasks\": 1})[\"tasks\"][0]\n"
        "w = tk.Queue({\"rootUrl\": queue.options[\"rootUrl\"], \"credentials\": c[\"credentials\"]})\n"
        "w.reportFailed(tid, c[\"runId\"])",
        context=Context.for_queue(queue),
    )
