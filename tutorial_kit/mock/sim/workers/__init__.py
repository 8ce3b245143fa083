"""The simulated cluster: workers that claim and run the mock queue's tasks.

``start_cluster(root_url, credentials, clock=..., faults=...)`` starts, beside a running mock
queue:

* the built-in workers ``built-in/succeed`` and ``built-in/fail`` (``builtin``), which resolve at
  once, as a real deployment's do;
* the shell engine (``shell``), which really runs docker-worker and generic-worker payloads on
  its task queues (by default the tutorials' ``aws-provisioner-v1/tutorial`` and
  ``tutorial/docker-worker``).

Every other task queue stays free for a learner's own worker. The workers reach the queue the way
an external worker does, over HTTP with the tutorial client, so their calls show up in the
request log and in the worker-monitoring methods. :meth:`Cluster.crash` is the fault that needs a
worker's cooperation; the others live in ``tutorial_kit.mock.sim.faults``.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.api import PARAM_PATTERNS
from tutorial_kit.client.tls import ssl_context
from tutorial_kit.mock.model.livelog import LiveLogs
from tutorial_kit.mock.security.sandbox import Unsandboxed
from tutorial_kit.mock.security.sandbox import work_root as sandbox_work_root
from tutorial_kit.mock.sim.faults import FaultError, Faults
from tutorial_kit.vocabulary import CRASH_MODES

from .builtin import BUILTIN_QUEUES, BuiltinEngine
from tutorial_kit.worker.claim import SimClock, WallClock, close_quietly, make_queue, transport
from .context import ClusterContext, CrashError
from .shell import DEFAULT_CONCURRENCY, DEFAULT_TASK_QUEUES, ShellEngine

#: Comma-separated task queues for the shell engine (what `--shell-queue` would set).
SHELL_QUEUES_ENV = "TUTORIAL_KIT_SHELL_QUEUES"
#: Real seconds crash() waits for a just-claimed run to reach its worker.
CRASH_WAIT = 1.0
#: Real seconds stop() waits for claim loops still in a long poll (they are daemon threads).
LOOP_GRACE = 0.5

__all__ = ["Cluster", "ClusterContext", "CrashError", "start_cluster", "DEFAULT_TASK_QUEUES",
           "BUILTIN_QUEUES"]


class Cluster:
    """The running workers of one mock queue. Stop it with :meth:`stop` (``mock.stop()`` does)."""

    def __init__(self, context: ClusterContext, work_root: pathlib.Path, *,
                 shell_queues: list[str], concurrency: int, builtin: bool):
        self.context = context
        self.faults = context.faults
        self._work_root = work_root
        self.shell = ShellEngine(context, shell_queues, concurrency)
        self.builtin = BuiltinEngine(context) if builtin else None
        self._stopped = False

    @property
    def task_queues(self) -> list[str]:
        """The task queues this cluster's workers claim from."""
        return (self.builtin.task_queues if self.builtin else []) + list(self.shell.task_queues)

    def start(self) -> "Cluster":
        if self.builtin is not None:
            self.builtin.start()
        self.shell.start()
        # the crash button (POST /mock/v1/faults, kind crash) ends the run going on now
        self.faults.crash_running = self.crash_now
        return self

    def crash_now(self, task_id: str, mode: str, after: float = 0.0) -> dict[str, Any] | None:
        """Crash the run of `task_id` a worker of this cluster is executing, without waiting:
        at once, or `after` real seconds from now. None when no worker here runs it."""
        if not after:
            return self.shell.crash(task_id, mode)
        run = next((r for r in self.shell.running() if r["taskId"] == task_id), None)
        if run is None:
            return None
        timer = threading.Timer(after, self.shell.crash, (task_id, mode))
        timer.daemon = True
        timer.start()
        return {"taskId": task_id, "runId": run["runId"], "mode": mode, "after": after,
                "workerGroup": run["workerGroup"], "workerId": run["workerId"]}

    def crash(self, task_id: str, mode: str = "claim-expired", *,
              wait: float = CRASH_WAIT) -> dict[str, Any]:
        """Crash the worker running `task_id`.

        ``claim-expired``: the process is killed and the worker stops reclaiming, so the run
        resolves ``exception``/``claim-expired`` (and a retry run follows) once the mock's clock
        passes ``takenUntil``; advance the clock to see it. ``worker-shutdown``: the process is
        killed and the worker reports that exception itself. A task that has just turned
        ``running`` may not have reached its worker yet: this waits up to `wait` real seconds
        for it (so call it from a thread, not from the server's event loop).
        """
        if mode not in CRASH_MODES:
            raise FaultError(f"mode must be one of {', '.join(CRASH_MODES)}, not {mode!r}")
        end = time.monotonic() + wait
        while (found := self.shell.crash(task_id, mode)) is None and time.monotonic() < end:
            time.sleep(0.02)
        if found is None:
            raise CrashError(f"no worker of the mock cluster is running task {task_id} now "
                             "(it may be pending, resolved, or on a task queue the cluster "
                             f"does not serve: {', '.join(self.task_queues)})")
        return found

    def running(self) -> list[dict[str, Any]]:
        """The runs the shell engine is executing now."""
        return self.shell.running()

    def describe(self) -> dict[str, Any]:
        engines = [self.shell.describe()]
        if self.builtin is not None:
            engines.insert(0, self.builtin.describe())
        return {"taskQueues": self.task_queues, "engines": engines}

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming, kill running commands (their claims lapse), free the work directory."""
        if self._stopped:
            return
        self._stopped = True
        if self.faults.crash_running == self.crash_now:
            self.faults.crash_running = None
        self.context.stopping.set()
        self.shell.stop()
        self.shell.join_runs(timeout)
        # A claim loop may sit in a long-polling claimWork; it ends when the server answers
        # (at once once the app is closing). The loops are daemon threads, so a short wait is
        # enough; closing the client under a blocked read would not wake it.
        loops = self.shell.loops + (self.builtin.loops if self.builtin is not None else [])
        end = time.monotonic() + LOOP_GRACE
        for loop in loops:
            loop.join(max(0.0, end - time.monotonic()))
        if not any(loop.is_alive() for loop in loops):
            close_quietly(self.context.queue)
        self.context.livelogs.finish_all()
        self.context.http.close()
        shutil.rmtree(self._work_root, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _shell_queues(given: Iterable[str] | None) -> list[str]:
    """The shell engine's task queues: given, else $TUTORIAL_KIT_SHELL_QUEUES, else defaults.

    An explicitly empty list turns the shell engine off.
    """
    if given is not None and not isinstance(given, str) and not list(given):
        return []
    if given is None:
        text = os.environ.get(SHELL_QUEUES_ENV, "").strip()
        given = [q.strip() for q in text.split(",") if q.strip()] or DEFAULT_TASK_QUEUES
    if isinstance(given, str):
        given = [given]
    queues = list(dict.fromkeys(given))
    pattern = re.compile(PARAM_PATTERNS["taskQueueId"])
    for queue_id in queues:
        if not isinstance(queue_id, str) or not pattern.match(queue_id):
            raise ValueError(f"{queue_id!r} is not a task queue id (<provisionerId>/<workerType>, "
                             "e.g. tutorial/docker-worker)")
        if queue_id in BUILTIN_QUEUES:
            raise ValueError(f"{queue_id} belongs to the built-in workers, not the shell engine")
    if not queues:
        raise ValueError("the shell engine needs at least one task queue")
    return queues


def start_cluster(root_url: str, credentials: Mapping[str, str], *,
                  clock: SimClock | None = None, faults: Faults | None = None,
                  shell_queues: Iterable[str] | None = None,
                  concurrency: int = DEFAULT_CONCURRENCY, builtin: bool = True,
                  work_root: str | pathlib.Path | None = None,
                  sandbox: Unsandboxed | None = None) -> Cluster:
    """Start the built-in workers and the shell engine against a running mock queue.

    The workers reach the queue at `root_url` with `credentials` (``clientId``/``accessToken``
    of a client allowed ``claimWork`` on the cluster's task queues), through the Queue API only,
    as ``tutorial-kit worker`` does on a real deployment. What they need beyond the API the
    wiring hands them: `clock`, the mock's clock, times the reclaims (real time when None);
    `faults`, the mock's :class:`~tutorial_kit.mock.sim.faults.Faults`, feeds the task faults
    (a fresh, empty one when None). `shell_queues` replaces the shell engine's task queues
    (default: ``$TUTORIAL_KIT_SHELL_QUEUES``, comma-separated, else ``DEFAULT_TASK_QUEUES``);
    `concurrency` is how many runs it executes at once per task queue; `work_root` is where run
    directories and logs go (a fresh temporary directory by default, removed on stop);
    `sandbox` is where the shell engine runs commands (default
    :class:`~tutorial_kit.mock.security.sandbox.Unsandboxed`, as this user; a classroom passes
    bubblewrap's, see ``sandbox``).
    """
    queues = _shell_queues(shell_queues)
    if faults is None:
        faults = Faults()
    if clock is None:
        clock = WallClock()
    if sandbox is None:
        sandbox = Unsandboxed()
    elif work_root is None:
        work_root = sandbox_work_root(sandbox)
    root = pathlib.Path(tempfile.mkdtemp(prefix="tutorial-kit-cluster-", dir=work_root))
    (root / "runs").mkdir()
    (root / "logs").mkdir()
    credentials = {"clientId": credentials["clientId"], "accessToken": credentials["accessToken"]}
    context = ClusterContext(
        root_url=root_url.rstrip("/"),
        queue=make_queue(root_url, credentials),
        clock=clock, faults=faults, livelogs=LiveLogs(root / "logs"), runs_dir=root / "runs",
        http=httpx.Client(timeout=60.0, transport=transport(), verify=ssl_context()),
        sandbox=sandbox)
    if context.sandbox.kind == "bwrap":
        root.chmod(0o711)  # a dropped sandbox user must reach its own run directory
        (root / "runs").chmod(0o711)
    return Cluster(context, root, shell_queues=queues, concurrency=concurrency,
                   builtin=builtin).start()
