"""Lesson 3: produce and publish an artifact."""

from __future__ import annotations

from tutorial_kit.client.errors import TaskclusterError
from tutorial_kit.vocabulary import RESOLVED_STATES

from .base import Exercise, failed
from .context import Context, run_outcome

NAME = "public/hello.txt"
_ARTIFACTS = ("artifacts={\"public/hello.txt\": {\"type\": \"file\", \"path\": \"hello.txt\", "
              "\"expires\": tk.fromNowJSON(\"1 day\")}}")


def hello_artifact(queue) -> Exercise:
    """A task that publishes ``public/hello.txt`` saying hello, which the learner downloads.

    The check reads the latest task the learner created: its latest run's artifacts (an error
    artifact is a wrong answer, not a broken check) and, on the mock, that the learner fetched
    the artifact.
    """

    def check(ctx: Context, *given: str) -> str:
        task_id = ctx.attempt(given)
        status = ctx.queue.status(task_id)["status"]
        last = status["runs"][-1] if status["runs"] else {}
        if status["state"] not in RESOLVED_STATES:
            raise failed(f"your latest task {task_id} is still {status['state']}",
                         hint=f"wait for it: tk.lessons.wait_resolved(queue, {task_id!r})")
        artifacts = {a["name"]: a for a in ctx.queue.listLatestArtifacts(task_id)["artifacts"]}
        if NAME not in artifacts:
            names = ", ".join(sorted(n for n in artifacts if not n.startswith("public/logs/")))
            raise failed(f"your latest task {task_id} ({run_outcome(last)}) has no {NAME} "
                         f"(it has: {names or 'no other artifact'})",
                         hint=f"declare it in the payload: {_ARTIFACTS}")
        if artifacts[NAME].get("storageType") == "error":
            try:  # the error artifact's message says what the worker could not find
                ctx.queue.downloadLatestArtifact(task_id, NAME)
                reason = ""
            except TaskclusterError as error:
                reason = f": {error.message.strip().splitlines()[0]}" if error.message else ""
            raise failed(f"{NAME} of {task_id} is an error artifact{reason}",
                         hint="the worker found no file at the artifact's `path`: write the file "
                              "in the task's directory (`echo hello > hello.txt`) and give that "
                              "path (`\"path\": \"hello.txt\"`)")
        text = ctx.queue.downloadLatestArtifact(task_id, NAME).decode(errors="replace")
        if text.strip() != "hello":
            raise failed(f"{NAME} of {task_id} says {text.strip()[:40]!r}, not 'hello'",
                         hint="the command `echo hello > hello.txt` writes exactly hello")
        if ctx.on_mock:
            fetched = [r for r in ctx.requests() if r["method"] in ("getLatestArtifact",
                                                                    "getArtifact")
                       and r["status"] < 400 and task_id in r.get("route", "")
                       and "hello.txt" in r.get("route", "")]
            if not fetched:
                raise failed(f"{task_id} published {NAME}, but you have not downloaded it yet",
                             hint=f"queue.downloadLatestArtifact({task_id!r}, {NAME!r})")
        return f"{task_id} published {NAME} saying hello, and you downloaded it."

    return Exercise(
        "publish an artifact",
        f"Create a tutorial task whose command writes `hello` into a file and publishes that "
        f"file as `{NAME}`; wait for it and download the artifact.",
        check,
        ["The command can be `echo hello > hello.txt`: it runs in a fresh directory.",
         f"`{_ARTIFACTS}`"],
        "hello = tk.slugid()\nqueue.createTask(hello, tk.lessons.tutorial_task(\n"
        "    \"echo hello > hello.txt\",\n    artifacts={\"public/hello.txt\": {\"type\": \"file\", "
        "\"path\": \"hello.txt\",\n                                     \"expires\": "
        "tk.fromNowJSON(\"1 day\")}}))\ntk.lessons.wait_resolved(queue, hello)\n"
        "queue.downloadLatestArtifact(hello, \"public/hello.txt\")",
        context=Context.for_queue(queue),
    )
