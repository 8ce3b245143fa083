"""Lesson 5: a diamond of dependencies."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context, payload_hint, run_outcome

_SAME_GROUP = ("make one group id first (group = tk.slugid()) and pass taskGroupId=group to all "
               "four definitions")


def diamond(queue) -> Exercise:
    """Four tasks on ``built-in/succeed`` in one new group, shaped like a diamond, completed.

    The check judges the group of the latest task the learner created (or names).
    """

    def check(ctx: Context, *given: str) -> str:
        task_id = ctx.attempt(given)
        group_id = ctx.queue.task(task_id)["taskGroupId"]
        tasks = list(ctx.queue.iterTaskGroup(group_id))
        if len(tasks) == 1 and group_id == task_id:
            # without a taskGroupId, every task is the group of its own
            raise failed(f"your latest task {task_id} is alone in a group of its own: "
                         "it was created without a taskGroupId", hint=_SAME_GROUP)
        if len(tasks) != 4:
            raise failed(f"the group of your latest task has {len(tasks)} task(s), not 4",
                         hint="a new group for this exercise, with exactly four tasks: "
                              + _SAME_GROUP)
        elsewhere = [t["status"]["taskId"] for t in tasks
                     if t["task"]["taskQueueId"] != "built-in/succeed"]
        if elsewhere:
            raise failed(f"{len(elsewhere)} task(s) of group {group_id} are not on "
                         "built-in/succeed", hint="task_queue=\"built-in/succeed\", payload={}")
        deps = {t["status"]["taskId"]: t["task"]["dependencies"] for t in tasks}
        bottom = [tid for tid, d in deps.items() if len(d) == 2]
        top = [tid for tid, d in deps.items() if not d]
        middle = [tid for tid, d in deps.items() if len(d) == 1]
        if not (len(bottom) == 1 and len(top) == 1 and len(middle) == 2
                and all(deps[m] == top for m in middle)
                and sorted(deps[bottom[0]]) == sorted(middle)):
            raise failed(f"group {group_id} is not shaped like a diamond",
                         "top depends on nothing; left and right each on top; bottom on left "
                         "and right", hint="dependencies=[top] for left and right, "
                                           "dependencies=[left, right] for bottom")
        unfinished = [t for t in tasks if t["status"]["state"] != "completed"]
        if unfinished:
            runs = [t["status"]["runs"][-1] if t["status"]["runs"] else
                    {"state": t["status"]["state"]} for t in unfinished]
            states = sorted({run_outcome(r) for r in runs})
            hint = next((h for r in runs if (h := payload_hint("built-in/succeed", r))),
                        f"wait for the bottom task: tk.lessons.wait_resolved(queue, {bottom[0]!r})")
            raise failed(f"group {group_id}: {len(unfinished)} task(s) not completed "
                         f"({', '.join(states)})", hint=hint)
        return f"Group {group_id} is a diamond, and every task completed."

    return Exercise(
        "a diamond",
        "In a new task group, create four tasks on `built-in/succeed` (payload `{}`): *top*; "
        "*left* and *right*, each depending on top; and *bottom*, depending on left and right. "
        "Wait until all four have completed.",
        check,
        ["Make the group id and the four taskIds first, so each definition can name its "
         "group and dependencies.",
         "Pass `taskGroupId=group, dependencies=[...], payload={}` to "
         "`tk.lessons.tutorial_task`, and create top first."],
        "group = tk.slugid()\nt, l, r, b = (tk.slugid() for _ in range(4))\n"
        "for tid, deps in ((t, []), (l, [t]), (r, [t]), (b, [l, r])):\n"
        "    queue.createTask(tid, tk.lessons.tutorial_task(\n"
        "        task_queue=\"built-in/succeed\", taskGroupId=group, dependencies=deps, "
        "payload={}))\n"
        "tk.lessons.wait_resolved(queue, b)",
        context=Context.for_queue(queue),
    )
