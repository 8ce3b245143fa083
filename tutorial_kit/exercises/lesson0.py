"""Lesson 0: read an error."""

from __future__ import annotations

from .base import Exercise, failed, unattempted
from .context import NO_LOG, Context

_CATCH = "wrap the call in `try: ... except tk.TaskclusterError as error: print(error.code)`"


def judge_recorded(ctx: Context, code: str | None) -> str:
    """Where the request log is closed: judge the latest error the learner's ``queue`` raised
    (or, for a client the exercise cannot observe, the code the learner passes)."""
    if ctx.recorder is None:
        if code is None:
            raise unattempted(NO_LOG + ": save the code you caught (code = error.code, inside "
                              "the except block) and pass it: exercise.check(code)")
        if code != "ResourceNotFound":
            raise failed(f"{code!r} is not the code for an unknown task",
                         hint="a well-formed id nobody has used answers 404")
        return "ResourceNotFound: the id is well-formed, but no such task exists."
    errors = [e for e in ctx.recorded_errors() if e.method in ("task", "status")]
    if not errors:
        raise unattempted("no queue.task or queue.status call has failed since this exercise "
                          "appeared", hint="call queue.task(tk.slugid()) inside a try block")
    latest = errors[-1]
    if latest.status_code == 400:
        raise failed(f"your id was refused as malformed (400 {latest.code})",
                     hint="use tk.slugid() to make a well-formed id nobody has used")
    if ctx.error_left_uncaught(latest):
        raise failed(f"the {latest.code} error reached the notebook uncaught", hint=_CATCH)
    if latest.code != "ResourceNotFound":
        raise failed(f"your latest call failed with {latest.code}, not ResourceNotFound",
                     hint="ask for a task nobody created: queue.task(tk.slugid())")
    return "You caught ResourceNotFound (404): a well-formed id that names no task."


def unknown_task(queue) -> Exercise:
    """Ask for an unknown task, catch the error and print its code.

    On the mock the check reads the learner's latest ``task``/``status`` call that failed (in the
    request log); elsewhere, the latest error the learner's ``queue`` raised. Under IPython it
    also knows whether the cell left that error uncaught.
    """

    def check(ctx: Context, code: str | None = None) -> str:
        if not ctx.on_mock:
            return judge_recorded(ctx, code)
        tries = [r for r in ctx.requests() if r["method"] in ("task", "status")
                 and r["status"] in (400, 404)]
        if not tries:
            raise unattempted("no task or status call has failed since this exercise appeared",
                              hint="call queue.task(tk.slugid()) inside a try block")
        latest = tries[-1]
        if latest["status"] == 400:
            raise failed("your id was refused as malformed (400 InvalidRequestArguments)",
                         hint="use tk.slugid() to make a well-formed id nobody has used")
        if ctx.left_uncaught(latest):
            raise failed("the ResourceNotFound error reached the notebook uncaught",
                         hint=_CATCH)
        if code is not None and code != "ResourceNotFound":
            raise failed(f"{code!r} is not the code of the error you met", hint="print error.code")
        return "You caught ResourceNotFound (404): a well-formed id that names no task."

    context = Context.for_queue(queue)
    context.watch_uncaught("lesson0.unknown_task")
    return Exercise(
        "an unknown task",
        "Call `queue.task(...)` with a well-formed taskId that no task has, catch the "
        "`tk.TaskclusterError`, and print its `code`.",
        check,
        ["A fresh `tk.slugid()` is well-formed and unused.",
         "Wrap the call in `try: ... except tk.TaskclusterError as error: print(error.code)`."],
        "try:\n    queue.task(tk.slugid())\nexcept tk.TaskclusterError as error:\n"
        "    print(error.code)   # ResourceNotFound",
        context=context,
    )
