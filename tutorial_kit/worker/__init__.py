"""``tutorial-kit worker``: your own worker for a task queue, on any deployment.

    tutorial-kit worker --task-queue PROVISIONER/WORKERTYPE [--worker-group G] [--worker-id I]
                        [--capacity N] [--work-dir DIR]

Credentials come from ``TASKCLUSTER_ROOT_URL`` / ``TASKCLUSTER_CLIENT_ID`` /
``TASKCLUSTER_ACCESS_TOKEN``, as for every Taskcluster tool. The worker long-polls
``claimWork`` for up to ``capacity`` runs at a time, runs each (see :mod:`.run`) with the
run's temporary credentials, and on SIGINT or SIGTERM reports ``exception``/``worker-shutdown``
for the runs in flight (the queue retries them) and exits. It uses only the public API, so the
same command serves a queue of the mock and of a real deployment. The scopes it needs:

    queue:claim-work:<PROVISIONER/WORKERTYPE>
    queue:worker-id:<G>/<I>

(every call after a claim uses the credentials the claim returns).
"""

from __future__ import annotations

import pathlib
import re
import signal
import socket
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from tutorial_kit.client import Queue, TaskclusterError

from .artifacts import has_object_service
from .livelog import LiveLogs
from .run import Run

__all__ = ["Worker", "required_scopes"]

CLAIM_ERROR_PAUSE = 2.0  # seconds before claimWork is tried again after an error
SHUTDOWN_WAIT = 60.0  # seconds the runs in flight get to report worker-shutdown


def required_scopes(task_queue_id: str, worker_group: str, worker_id: str) -> list[str]:
    """The scopes a client needs to run this worker."""
    return [f"queue:claim-work:{task_queue_id}", f"queue:worker-id:{worker_group}/{worker_id}"]


def default_worker_id() -> str:
    """This machine's name, as a worker ID may spell it (1-38 of ``[a-zA-Z0-9_-]``)."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", socket.gethostname())[:38].strip("-")
    return name or "my-worker"


class Worker:
    """Claims and runs tasks of one task queue until :meth:`stop`."""

    def __init__(self, queue: Queue, task_queue_id: str, *, worker_group: str = "tutorial-kit",
                 worker_id: str | None = None, capacity: int = 1,
                 work_dir: pathlib.Path | None = None,
                 say: Callable[[str], None] = print) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.queue = queue
        self.task_queue_id = task_queue_id
        self.worker_group = worker_group
        self.worker_id = worker_id or default_worker_id()
        self.capacity = capacity
        self.work_dir = pathlib.Path(work_dir or tempfile.mkdtemp(prefix="tutorial-kit-worker-"))
        self.say = say
        self.stopping = threading.Event()
        self.use_object = has_object_service(queue.options.rootUrl)
        self._runs: dict[tuple[str, int], Run] = {}
        self._lock = threading.Lock()
        self._free = threading.Semaphore(capacity)
        self._pool = ThreadPoolExecutor(max_workers=capacity, thread_name_prefix="run")
        self.livelogs = LiveLogs()
        self.results: list[tuple[str, int, str]] = []

    # -- the claim loop ----------------------------------------------------------------------
    def serve(self) -> None:
        """Claim and run tasks until stopped; then shut the runs in flight down."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        storage = "object (Object service)" if self.use_object else "s3"
        waiting_said = False
        while not self.stopping.is_set():
            if not self._free.acquire(timeout=0.2):
                continue
            if self.stopping.is_set():  # stopped while every slot was busy
                self._release(1)
                break
            taken = 1
            while taken < self.capacity and self._free.acquire(blocking=False):
                taken += 1
            if not waiting_said and self.idle:
                self.say(f"waiting for tasks on {self.task_queue_id} as {self.worker_group}/"
                         f"{self.worker_id} (capacity {self.capacity}, artifacts as {storage}); "
                         "Ctrl-C to stop")
                waiting_said = True
            try:
                claims = self.queue.claimWork(self.task_queue_id, {
                    "tasks": taken, "workerGroup": self.worker_group,
                    "workerId": self.worker_id}).get("tasks", [])
            except TaskclusterError as error:
                self._release(taken)
                if self.stopping.is_set():
                    break
                self.say(f"claimWork failed: {error}")
                if error.status_code in (401, 403):
                    raise
                self.stopping.wait(CLAIM_ERROR_PAUSE)
                continue
            self._release(taken - len(claims))
            for claim in claims:
                waiting_said = False
                if self.stopping.is_set():
                    self._refuse_claim(claim)
                    self._release(1)
                else:
                    self._start(claim)
        self._shutdown()

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._runs

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._free.release()

    def _start(self, claim: dict[str, Any]) -> None:
        run = Run(claim, self.queue.options.rootUrl, self.work_dir, use_object=self.use_object,
                  say=self.say, livelogs=self.livelogs)
        key = (run.held.task_id, run.held.run_id)
        with self._lock:
            self._runs[key] = run
        self.say(f"claimed {run.name}")

        def work() -> None:
            try:
                result = run.execute()
            except Exception as error:  # a bug in one run must not stop the worker
                result = f"crashed ({error})"
            finally:
                with self._lock:
                    self._runs.pop(key, None)
                self._free.release()
            self.results.append((*key, result))
            self.say(f"{run.name}: {result}")

        self._pool.submit(work)

    def _refuse_claim(self, claim: dict[str, Any]) -> None:
        """A run claimed while stopping: give it back at once (the queue retries it)."""
        task_id, run_id = claim["status"]["taskId"], claim["runId"]
        worker = Queue({"rootUrl": self.queue.options.rootUrl,
                        "credentials": claim["credentials"], "maxRetries": 2})
        try:
            worker.reportException(task_id, run_id, {"reason": "worker-shutdown"})
        except TaskclusterError as error:
            self.say(f"giving back task {task_id} run {run_id} failed: {error}")
        finally:
            worker.close()

    # -- stopping ------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop claiming; runs in flight report worker-shutdown (call from a signal handler)."""
        self.stopping.set()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.interrupt("worker-shutdown")

    def _shutdown(self) -> None:
        self.stop()
        with self._lock:
            busy = len(self._runs)
        if busy:
            self.say(f"shutting down: {busy} run(s) report worker-shutdown")
        self._pool.shutdown(wait=True)
        self.livelogs.close()


def main(task_queue_id: str, *, worker_group: str, worker_id: str | None, capacity: int,
         work_dir: str | None) -> int:
    """``tutorial-kit worker``: serve until SIGINT/SIGTERM; returns the exit status."""
    try:
        queue = Queue.fromEnv()
    except TaskclusterError as error:
        print(f"tutorial-kit worker: {error}", file=sys.stderr)
        return 2
    if queue.options.credentials is None:
        print("tutorial-kit worker: set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (a "
              "client with the scopes "
              + ", ".join(required_scopes(task_queue_id, worker_group,
                                          worker_id or default_worker_id())) + ")",
              file=sys.stderr)
        return 2
    worker = Worker(queue, task_queue_id, worker_group=worker_group, worker_id=worker_id,
                    capacity=capacity,
                    work_dir=pathlib.Path(work_dir) if work_dir else None,
                    say=lambda text: print(text, flush=True))

    def on_signal(signum: int, _frame: Any) -> None:
        worker.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = threading.Thread(target=worker.serve, name="claim loop", daemon=True)
    server.start()
    # The main thread only waits, so signals are handled at once; a claimWork long poll in
    # flight is left to the daemon thread when the runs have shut down.
    while server.is_alive():
        server.join(timeout=0.2)
        if worker.stopping.is_set():
            break
    if worker.stopping.is_set():
        worker._pool.shutdown(wait=True)
    print("worker stopped", flush=True)
    return 0
