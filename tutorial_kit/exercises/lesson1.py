"""Lesson 1: create a task with chosen priority, retries and tags."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context

WANT = {"taskQueueId": "built-in/succeed", "priority": "high", "retries": 1}


def high_priority_task(queue) -> Exercise:
    def check(ctx: Context, *given: str) -> str:
        problems: list[str] = []
        for task_id in ctx.candidates(given):
            task = ctx.queue.task(task_id)
            wrong = [f"{key} is {task.get(key)!r}, not {value!r}"
                     for key, value in WANT.items() if task.get(key) != value]
            if task.get("tags", {}).get("lesson") != "1":
                wrong.append("the tag `lesson` is not \"1\"")
            if not wrong:
                return f"Task {task_id} has priority high, 1 retry and the tag lesson: 1."
            problems.append(f"{task_id}: " + "; ".join(wrong))
        raise failed("none of your tasks matches yet", *problems)

    return Exercise(
        "a task to your own specification",
        "Create a task on the task queue `built-in/succeed` with priority `high`, `retries` 1 "
        "and a tag `lesson` with the value `\"1\"` (the payload may be `{}`).",
        check,
        ["Start from `task`, copy it with `dict(task, ...)`, and change what is asked.",
         "Tags are an object of strings: `tags={\"lesson\": \"1\"}`.",
         "Every new task needs a new `tk.slugid()`."],
        "mine = dict(task, taskQueueId=\"built-in/succeed\", priority=\"high\", retries=1,\n"
        "            tags={\"lesson\": \"1\"}, payload={})\nqueue.createTask(tk.slugid(), mine)",
        context=Context.for_queue(queue),
    )
