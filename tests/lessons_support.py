"""For the lesson tests: a file-backed mock queue in a subprocess, started the way a user starts
one (``tutorial-kit mock-queue serve --db ...``, its environment taken from the ``export`` lines it
prints first), and a plain server that is not the mock."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from tutorial_kit.lessons import SKIP_NOTE

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXPORT = re.compile(r"^export (TASKCLUSTER_[A-Z_]+)=(.*)$")


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def not_a_mock(port: int = 0) -> Iterator[str]:
    """A plain HTTP server on ``port`` (0: any free one) answering 404 to everything, as a
    deployment does to /mock/v1; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class ServedMock:
    """``tutorial-kit mock-queue serve`` on a free port with a file store; restartable."""

    def __init__(self, db: pathlib.Path, *extra: str):
        self.db = db
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None
        self.env: dict[str, str] = {}

    def start(self, timeout: float = 30.0) -> "ServedMock":
        cmd = [sys.executable, "-m", "tutorial_kit.cli", "mock-queue", "serve",
               "--db", str(self.db), *self.extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, cwd=ROOT)
        env: dict[str, str] = {}
        give_up = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while len(env) < 3:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"mock-queue serve exited ({self.proc.poll()}) before printing "
                                   f"its environment; got {env}")
            match = EXPORT.match(line.strip())
            if match:
                env[match.group(1)] = match.group(2).strip("'\"")
            if time.monotonic() > give_up:
                raise RuntimeError("mock-queue serve printed no environment in time")
        self.env = env
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> "ServedMock":
        self.stop()
        return self.start()

    @property
    def root_url(self) -> str:
        return self.env["TASKCLUSTER_ROOT_URL"]

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment a learner's process gets after ``. mock.env``; no seed, since
        seeded slugids would repeat the previous run's taskIds on the same queue."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TASKCLUSTER_") and k != "TUTORIAL_KIT_SEED"}
        env.update(self.env)
        env.update(extra)
        return env


def readme_scopes(after: str, task_queue: str) -> list[str]:
    """The scopes the README lists in the first code block after the sentence ``after``, with
    its example task queue ``proj-me/tutorial`` replaced by ``task_queue``: a test that grants
    these follows the README word for word."""
    text = (ROOT / "README.md").read_text()
    start = text.index(after)
    block = text[text.index("```\n", start) + 4:]
    block = block[:block.index("```")]
    return [line.strip().replace("proj-me/tutorial", task_queue)
            for line in block.splitlines() if line.strip()]


def run_nbval(env: dict[str, str], notebooks: list[pathlib.Path], *,
              timeout: float = 900.0) -> subprocess.CompletedProcess:
    """Run notebooks under nbval as ``make test`` does, in a separate pytest process."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
           "--nbval-sanitize-with", str(NOTEBOOKS / "sanitize.cfg"), "-o", "testpaths=notebooks",
           *map(str, notebooks)]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def as_learner_sees_it(lesson: pathlib.Path, cwd: pathlib.Path) -> tuple[pathlib.Path, int]:
    """The lesson, with the stored output of each mock-only cell (``tk.lessons.on_mock(...)``)
    replaced by the one-line skip note a learner gets there.

    Where the clock and faults are not the learner's (a classroom opens them to the teacher
    alone, since moving the shared clock would expire every learner's claims; the learner's own
    worker can't be crashed by the mock), those cells skip themselves; nbval then checks that
    they say so, and every other checked cell as stored."""
    notebook = json.loads(lesson.read_text())
    guarded = 0
    for cell in notebook["cells"]:
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] == "code" and "on_mock(" in source and cell.get("outputs"):
            cell["outputs"] = [{"name": "stdout", "output_type": "stream",
                                "text": [SKIP_NOTE + "\n"]}]
            guarded += 1
    copy = cwd / lesson.name
    copy.write_text(json.dumps(notebook))
    return copy, guarded
