"""Lesson 5: a diamond of dependencies."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context


def diamond(queue) -> Exercise:
    def check(ctx: Context, *given: str) -> str:
        groups: dict[str, list[dict]] = {}
        for task_id in ctx.candidates(given):
            definition = ctx.queue.task(task_id)
            groups.setdefault(definition["taskGroupId"], []).append(
                {"taskId": task_id, **definition})
        problems: list[str] = []
        for group_id, _ in groups.items():
            tasks = list(ctx.queue.iterTaskGroup(group_id))
            if len(tasks) != 4:
                problems.append(f"group {group_id} has {len(tasks)} task(s), not 4")
                continue
            deps = {t["status"]["taskId"]: t["task"]["dependencies"] for t in tasks}
            bottom = [tid for tid, d in deps.items() if len(d) == 2]
            top = [tid for tid, d in deps.items() if not d]
            middle = [tid for tid, d in deps.items() if len(d) == 1]
            if not (len(bottom) == 1 and len(top) == 1 and len(middle) == 2
                    and all(deps[m] == top for m in middle)
                    and sorted(deps[bottom[0]]) == sorted(middle)):
                problems.append(f"group {group_id} is not shaped like a diamond")
                continue
            unfinished = [t["status"]["taskId"] for t in tasks
                          if t["status"]["state"] != "completed"]
            if unfinished:
                problems.append(f"group {group_id}: {len(unfinished)} task(s) not completed yet")
                continue
            return f"Group {group_id} is a diamond, and every task completed."
        raise failed("not yet", *problems)

    return Exercise(
        "a diamond",
        "In a new task group, create four tasks on `built-in/succeed`: *top*; *left* and *right*, "
        "each depending on top; and *bottom*, depending on left and right. Wait until all four "
        "have completed.",
        check,
        ["Make the four taskIds first, so each definition can name its dependencies.",
         "Pass `taskGroupId=group, dependencies=[...]` to `tk.lessons.tutorial_task`, and create "
         "top first."],
        "group = tk.slugid()\nt, l, r, b = (tk.slugid() for _ in range(4))\n"
        "for tid, deps in ((t, []), (l, [t]), (r, [t]), (b, [l, r])):\n"
        "    d = tk.lessons.tutorial_task(task_queue=\"built-in/succeed\", taskGroupId=group, "
        "dependencies=deps)\n    d[\"payload\"] = {}\n    queue.createTask(tid, d)\n"
        "tk.lessons.wait_resolved(queue, b)",
        context=Context.for_queue(queue),
    )

