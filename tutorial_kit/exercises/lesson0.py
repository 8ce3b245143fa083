"""Lesson 0: read an error."""

from __future__ import annotations

from .base import Exercise, failed, unattempted
from .context import Context


def unknown_task(queue) -> Exercise:
    def check(ctx: Context, code: str | None = None) -> str:
        if ctx.control is None:
            if code is None:
                raise unattempted("pass the error code you caught: exercise.check(error.code)")
            if code != "ResourceNotFound":
                raise failed(f"{code!r} is not the code for an unknown task")
            return "ResourceNotFound: the id is well-formed, but no such task exists."
        misses = ctx.requests("task", 404) + ctx.requests("status", 404)
        malformed = ctx.requests("task", 400) + ctx.requests("status", 400)
        if misses:
            return "You met ResourceNotFound (404): a well-formed id that names no task."
        if malformed:
            raise failed("your id was refused as malformed (400 InvalidRequestArguments)",
                         "use tk.slugid() to make a well-formed id nobody has used")
        raise unattempted("no task or status call has answered 404 since this exercise appeared")

    return Exercise(
        "an unknown task",
        "Call `queue.task(...)` with a well-formed taskId that no task has, catch the "
        "`tk.TaskclusterError`, and print its `code`.",
        check,
        ["A fresh `tk.slugid()` is well-formed and unused.",
         "Wrap the call in `try: ... except tk.TaskclusterError as error: print(error.code)`."],
        "try:\n    queue.task(tk.slugid())\nexcept tk.TaskclusterError as error:\n"
        "    print(error.code)   # ResourceNotFound",
        context=Context.for_queue(queue),
    )
