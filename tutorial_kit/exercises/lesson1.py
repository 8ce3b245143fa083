"""Lesson 1: create a task with chosen priority, retries and tags."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context

WANT = {"taskQueueId": "built-in/succeed", "priority": "high", "retries": 1}


def high_priority_task(queue) -> Exercise:
    """Create a task to a specification; the check reads the latest task created."""

    def check(ctx: Context, *given: str) -> str:
        task_id = ctx.attempt(given)
        task = ctx.queue.task(task_id)
        wrong = [f"{key} is {task.get(key)!r}, not {value!r}"
                 for key, value in WANT.items() if task.get(key) != value]
        if task.get("tags", {}).get("lesson") != "1":
            wrong.append("the tag `lesson` is not \"1\"")
        if task.get("payload") != {}:
            wrong.append("the payload is not empty: the built-in workers accept only `{}`")
        if wrong:
            raise failed(f"your latest task {task_id} is not as asked", *wrong,
                         hint="create a new task (a new tk.slugid()) with every field as asked")
        return f"Task {task_id} has priority high, 1 retry, the tag lesson: 1 and payload {{}}."

    return Exercise(
        "a task to your own specification",
        "Create a task on the task queue `built-in/succeed` with priority `high`, `retries` 1, "
        "a tag `lesson` with the value `\"1\"`, and an empty payload `{}` (the built-in workers "
        "accept no other).",
        check,
        ["Start from `task`, copy it with `dict(task, ...)`, and change what is asked.",
         "Tags are an object of strings: `tags={\"lesson\": \"1\"}`.",
         "Every new task needs a new `tk.slugid()`."],
        "mine = dict(task, taskQueueId=\"built-in/succeed\", priority=\"high\", retries=1,\n"
        "            tags={\"lesson\": \"1\"}, payload={})\nqueue.createTask(tk.slugid(), mine)",
        context=Context.for_queue(queue),
    )
