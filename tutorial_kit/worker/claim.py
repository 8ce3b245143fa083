"""Claiming work and holding a claim, the way an external worker does it: over HTTP.

:class:`ClaimLoop` long-polls ``claimWork`` for one task queue in its own thread and hands each
claimed run to a handler. :class:`HeldClaim` keeps one run's claim alive with ``reclaimTask``
(timed on the mock's clock, so a scaled or stepped clock is honoured), swaps in the fresh
temporary credentials each reclaim returns, and notices when the queue says the run is no longer
ours (cancelled, deadline passed: 409).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

log = logging.getLogger("tutorial_kit.worker")

#: Retry pause after a failed claimWork (queue restarting, injected 500s), in real seconds.
CLAIM_ERROR_PAUSE = 0.5


def transport() -> httpx.HTTPTransport:
    # the client's own: TCP_NODELAY and one shared TLS context for every per-run client
    from tutorial_kit.client.transport import sync_transport

    return sync_transport()


def make_queue(root_url: str, credentials: dict[str, Any], *, timeout: float | None = 60.0,
               max_retries: int = 5) -> Any:
    """A tutorial_kit Queue client, as a learner's own worker would build it."""
    from tutorial_kit.client import Queue

    return Queue({"rootUrl": root_url, "credentials": credentials, "timeout": timeout,
                  "maxRetries": max_retries}, transport=transport())


def close_quietly(queue: Any) -> None:
    close = getattr(queue, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing during shutdown races with in-flight calls; nothing to save
            pass


def status_code(error: BaseException) -> int | None:
    """The HTTP status of a client error, if it has one."""
    return getattr(error, "status_code", None)


def parse_instant(text: str) -> datetime:
    from tutorial_kit.dates import parse_date

    return parse_date(text)


class SimClock(Protocol):
    """The time the workers keep: the mock's ``model.clock.Clock`` (simulated: scaled, paused,
    advanced), or real time (:class:`WallClock`) where none is given."""

    def now(self) -> datetime: ...

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        ...


class WallClock:
    """Stands in for the mock's clock where none is given (real time)."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass(frozen=True)
class WorkerIdentity:
    task_queue_id: str
    worker_group: str
    worker_id: str


class ClaimLoop(threading.Thread):
    """Claims runs from one task queue and hands each to ``handle(claim)``.

    Without `slots`, it claims up to `capacity` runs at a time and handles them in this thread.
    With `slots` (a semaphore of `capacity` permits), it only asks for as many runs
    as there are free slots; ``handle`` must then return at once and release one slot when the
    run is over (the shell engine runs it in a thread pool). One long poll per task queue keeps
    the load on the queue low, as one real worker with a capacity does.
    """

    SLOT_WAIT = 0.1  # real seconds between looks at `stopping` while every slot is busy

    def __init__(self, queue: Any, identity: WorkerIdentity, handle: Callable[[dict], None], *,
                 capacity: int = 1, stopping: threading.Event,
                 slots: threading.Semaphore | None = None):
        super().__init__(name=f"claim {identity.task_queue_id} {identity.worker_id}", daemon=True)
        self.queue = queue
        self.identity = identity
        self.handle = handle
        self.capacity = capacity
        self.stopping = stopping
        self.slots = slots

    def _take_slots(self) -> int:
        """How many runs to ask for: wait for one free slot, then take any others free."""
        if self.slots is None:
            return self.capacity
        while not self.slots.acquire(timeout=self.SLOT_WAIT):
            if self.stopping.is_set():
                return 0
        taken = 1
        while taken < self.capacity and self.slots.acquire(blocking=False):
            taken += 1
        return taken

    def _give_back(self, count: int) -> None:
        if self.slots is not None:
            for _ in range(count):
                self.slots.release()

    def run(self) -> None:
        while not self.stopping.is_set():
            taken = self._take_slots()
            if not taken:
                return
            body = {"tasks": taken, "workerGroup": self.identity.worker_group,
                    "workerId": self.identity.worker_id}
            try:
                claims = (self.queue.claimWork(self.identity.task_queue_id, body)
                          or {}).get("tasks", [])
            except Exception as error:
                self._give_back(taken)
                if self.stopping.is_set():
                    return
                log.warning("claimWork on %s failed: %s", self.identity.task_queue_id, error)
                self.stopping.wait(CLAIM_ERROR_PAUSE)
                continue
            self._give_back(taken - len(claims))
            for claim in claims:
                if self.stopping.is_set():
                    return  # unhandled claims lapse and come back as retries, as on a real pool
                try:
                    self.handle(claim)
                except Exception:  # a bug in one run must not kill the worker
                    log.exception("worker %s failed on task %s", self.identity.worker_id,
                                  claim.get("status", {}).get("taskId"))


class HeldClaim:
    """One claimed run: its task, its per-run client, and the thread that reclaims it."""

    #: Reclaim when less than this share of the claim is left (real workers use a margin too).
    RECLAIM_AT = 1 / 3
    POLL = 0.1  # real seconds between looks at the clock
    REAL_MARGIN = 1.0  # ... and reclaim when less than this many real seconds are left

    def __init__(self, claim: dict[str, Any], root_url: str, clock: SimClock | None, *,
                 on_lost: Callable[[str], None]):
        self.task_id: str = claim["status"]["taskId"]
        self.run_id: int = claim["runId"]
        self.task: dict[str, Any] = claim["task"]
        self.status: dict[str, Any] = claim["status"]
        self.worker_group: str = claim["workerGroup"]
        self.worker_id: str = claim["workerId"]
        self.root_url = root_url
        self.clock = clock or WallClock()
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._queue = make_queue(root_url, claim["credentials"])
        self._previous: Any = None
        self.taken_until = parse_instant(claim["takenUntil"])
        self._span = max((self.taken_until - self.clock.now()).total_seconds(), 1.0)
        self._released = threading.Event()
        self._thread: threading.Thread | None = None
        self.reclaims = 0

    @property
    def queue(self) -> Any:
        """The client holding this run's current temporary credentials."""
        with self._lock:
            return self._queue

    def start_reclaiming(self) -> None:
        self._thread = threading.Thread(target=self._reclaim_loop, daemon=True,
                                        name=f"reclaim {self.task_id}/{self.run_id}")
        self._thread.start()

    def release(self) -> None:
        """Stop reclaiming: the run is resolved, or the worker 'died' and lets the claim lapse."""
        self._released.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.release()
        with self._lock:
            queues = (self._queue, self._previous)
        for queue in queues:
            if queue is not None:
                close_quietly(queue)

    def _due(self) -> bool:
        left = (self.taken_until - self.clock.now()).total_seconds()
        # on a fast clock the share alone may leave too little real time for the call
        speed = self.clock.speed or 1.0
        return left < self._span * self.RECLAIM_AT or left / speed < self.REAL_MARGIN

    def _reclaim_loop(self) -> None:
        while not self._released.wait(self.POLL):
            if not self._due():
                continue
            try:
                reply = self.queue.reclaimTask(self.task_id, self.run_id)
            except Exception as error:
                if self._released.is_set():
                    return
                if status_code(error) == 409:
                    # cancelled, past its deadline, or already resolved: the run is not ours
                    self._on_lost(str(error))
                    return
                log.warning("reclaimTask %s/%s failed: %s", self.task_id, self.run_id, error)
                continue
            fresh = make_queue(self.root_url, reply["credentials"])
            with self._lock:
                # keep the last client open: a call may still be using it in another thread
                retired, self._previous, self._queue = self._previous, self._queue, fresh
                self.taken_until = parse_instant(reply["takenUntil"])
            if retired is not None:
                close_quietly(retired)
            self.reclaims += 1
