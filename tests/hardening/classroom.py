"""A classroom served by the real CLI (``tutorial-kit classroom serve``) in a subprocess.

Tests start it as a teacher would, in a working directory of its own (where the credentials file
and the store land), and act as its learners with the lines it hands out.
"""

from __future__ import annotations

import csv
import os
import pathlib
import subprocess
import sys
import threading
import time
from typing import Any

ROSTER = ("alice", "bob")


class ClassroomServer:
    """``tutorial-kit classroom serve --roster roster.txt [args]`` run in ``workdir``.

    ``env`` adds to the server's environment; ``TMPDIR`` points into ``workdir/tmp`` so a test
    can find the task directories the shell engine makes.
    """

    def __init__(self, workdir: pathlib.Path, *args: str, roster: tuple[str, ...] = ROSTER,
                 env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "roster.txt").write_text("\n".join(roster) + "\n")
        self.tmp = workdir / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.argv = [sys.executable, "-m", "tutorial_kit.cli", "classroom", "serve",
                     "--roster", "roster.txt", *args]
        self.proc = subprocess.Popen(
            self.argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(self.tmp), **(env or {})},
            start_new_session=True)
        self.stderr_lines: list[str] = []
        exports: dict[str, str] = {}

        def read_exports() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("export "):
                    name, _, value = line[len("export "):].strip().partition("=")
                    exports[name] = value.strip("'")
                if len(exports) == 3:
                    return

        reader = threading.Thread(target=read_exports, daemon=True)
        reader.start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        reader.join(timeout)
        if len(exports) != 3:
            self.stop()
            raise RuntimeError(f"{' '.join(self.argv)} did not start: {self.stderr}")
        self.root_url = exports["TASKCLUSTER_ROOT_URL"]
        self.teacher = {"clientId": exports["TASKCLUSTER_CLIENT_ID"],
                        "accessToken": exports["TASKCLUSTER_ACCESS_TOKEN"]}
        credentials = workdir / "classroom-credentials.csv"
        self.learners = {row["learner"]: {"clientId": row["clientId"],
                                          "accessToken": row["accessToken"]}
                         for row in csv.DictReader(credentials.open())}

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def env(self, learner: str) -> dict[str, str]:
        """A learner's environment, as docs/teaching.md tells them to set it."""
        creds = self.learners[learner]
        return {"TASKCLUSTER_ROOT_URL": self.root_url,
                "TASKCLUSTER_CLIENT_ID": creds["clientId"],
                "TASKCLUSTER_ACCESS_TOKEN": creds["accessToken"],
                "TUTORIAL_KIT_SCHEDULER_ID": learner}

    def queue(self, learner: str) -> Any:
        import tutorial_kit as tk

        return tk.Queue({"rootUrl": self.root_url, "credentials": dict(self.learners[learner])})

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C would, then wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> "ClassroomServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_resolved(queue: Any, task_id: str, timeout: float = 60.0) -> dict:
    """The task's status once it is resolved (bounded)."""
    give_up = time.monotonic() + timeout
    while True:
        status = queue.status(task_id)["status"]
        if status["state"] in ("completed", "failed", "exception"):
            return status
        if time.monotonic() > give_up:
            raise AssertionError(f"task {task_id} still {status['state']} after {timeout} s")
        time.sleep(0.1)


def everything_published(queue: Any, task_id: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every artifact of the task's latest run, readable by the learner: (name -> bytes of the
    data artifacts, including the log; name -> reason of the error artifacts)."""
    import httpx

    from tutorial_kit.client.errors import TaskclusterError

    data: dict[str, bytes] = {}
    errors: dict[str, str] = {}
    for artifact in queue.listLatestArtifacts(task_id)["artifacts"]:
        name = artifact["name"]
        if artifact["storageType"] == "error":
            try:
                queue.getLatestArtifact(task_id, name)
            except TaskclusterError as error:
                errors[name] = str(error)
            continue
        if artifact["storageType"] == "reference":
            continue  # live.log points at live_backing.log, read below
        url = queue.buildSignedUrl("getLatestArtifact", task_id, name, expiration=600)
        reply = httpx.get(url, follow_redirects=True, timeout=30)
        assert reply.status_code == 200, (name, reply.status_code, reply.text[:200])
        data[name] = reply.content
    return data, errors
