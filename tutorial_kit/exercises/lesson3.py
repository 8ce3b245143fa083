"""Lesson 3: produce and publish an artifact."""

from __future__ import annotations

from .base import Exercise, failed
from .context import Context

NAME = "public/hello.txt"


def hello_artifact(queue) -> Exercise:
    def check(ctx: Context, *given: str) -> str:
        problems: list[str] = []
        for task_id in ctx.candidates(given):
            names = [a["name"] for a in ctx.queue.listLatestArtifacts(task_id)["artifacts"]] \
                if ctx.queue.status(task_id)["status"]["runs"] else []
            if NAME not in names:
                problems.append(f"{task_id} has no {NAME} (has: {', '.join(names) or 'none'})")
                continue
            text = ctx.queue.downloadLatestArtifact(task_id, NAME).decode(errors="replace")
            if text.strip() != "hello":
                problems.append(f"{NAME} of {task_id} says {text.strip()[:40]!r}, not 'hello'")
                continue
            return f"{task_id} published {NAME} saying hello."
        raise failed("not yet", *problems)

    return Exercise(
        "publish an artifact",
        f"Create a tutorial task whose command writes `hello` into a file and publishes that "
        f"file as `{NAME}`; wait for it and download the artifact.",
        check,
        ["The command can be `echo hello > hello.txt`: it runs in a fresh directory.",
         "`artifacts={\"public/hello.txt\": {\"type\": \"file\", \"path\": \"hello.txt\", "
         "\"expires\": tk.fromNowJSON(\"1 day\")}}`"],
        "hello = tk.slugid()\nqueue.createTask(hello, tk.lessons.tutorial_task(\n"
        "    \"echo hello > hello.txt\",\n    artifacts={\"public/hello.txt\": {\"type\": \"file\", "
        "\"path\": \"hello.txt\",\n                                     \"expires\": "
        "tk.fromNowJSON(\"1 day\")}}))\ntk.lessons.wait_resolved(queue, hello)\n"
        "queue.downloadLatestArtifact(hello, \"public/hello.txt\")",
        context=Context.for_queue(queue),
    )
