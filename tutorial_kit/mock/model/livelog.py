"""The live log: a run's output, readable over HTTP while the run is still going.

A real worker serves ``public/logs/live.log`` from the machine that runs the task and points the
artifact (a ``reference``) at it; when the run ends it uploads the whole log and re-points the
artifact at the stored copy. The shell engine does the same: :class:`LiveLog` is the growing file,
:class:`LiveLogs` finds it by (taskId, runId), and :func:`follow` yields its bytes as they arrive
until the run ends, which ``cluster_routes`` serves at ``/mock/v1/livelog/<taskId>/<runId>``.
"""

from __future__ import annotations

import asyncio
import pathlib
import threading
from collections.abc import AsyncIterator

CHUNK = 64 * 1024
KEEP = 100  # finished logs kept on disk per cluster


def livelog_path(task_id: str, run_id: int) -> str:
    """Where the mock serves a run's live log, relative to the rootUrl."""
    return f"/mock/v1/livelog/{task_id}/{run_id}"


class LiveLog:
    """One run's log file: written by the engine (and the task's process), read by followers."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self._file = open(path, "ab", buffering=0)  # unbuffered: readers see every write at once
        self._lock = threading.Lock()
        self.finished = threading.Event()

    def fileno(self) -> int:
        """The descriptor the task's process writes its stdout/stderr to."""
        return self._file.fileno()

    def write(self, text: str) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.write(text.encode("utf-8", "replace"))

    def line(self, text: str) -> None:
        self.write(text.rstrip("\n") + "\n")

    def finish(self) -> None:
        """The run is over: followers drain what is left and stop."""
        with self._lock:
            if not self._file.closed:
                self._file.close()
        self.finished.set()

    def read_all(self) -> bytes:
        return self.path.read_bytes()


class LiveLogs:
    """The live logs of one cluster, by (taskId, runId)."""

    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self._logs: dict[tuple[str, int], LiveLog] = {}
        self._lock = threading.Lock()

    def open(self, task_id: str, run_id: int) -> LiveLog:
        log = LiveLog(self.directory / f"{task_id}-{run_id}.log")
        with self._lock:
            old = self._logs.pop((task_id, run_id), None)
            self._logs[(task_id, run_id)] = log
            # A finished run's live.log points at its stored copy, so only the newest files are
            # kept for readers still holding the live URL; a long-lived mock's disk stays bounded.
            finished = [key for key, kept in self._logs.items() if kept.finished.is_set()]
            dropped = [self._logs.pop(key) for key in finished[:max(0, len(finished) - KEEP)]]
        if old is not None:
            old.finish()
        for gone in dropped:
            gone.path.unlink(missing_ok=True)
        return log

    def get(self, task_id: str, run_id: int) -> LiveLog | None:
        with self._lock:
            return self._logs.get((task_id, run_id))

    def finish_all(self) -> None:
        with self._lock:
            logs = list(self._logs.values())
        for log in logs:
            log.finish()


async def follow(log: LiveLog, *, poll: float = 0.05, idle_limit: float = 3600.0
                 ) -> AsyncIterator[bytes]:
    """Yield the log's bytes from the start, then new bytes as they are written, until the run
    ends (or nothing new arrives for `idle_limit` seconds, so no reader hangs forever)."""
    idle = 0.0
    with open(log.path, "rb") as reader:
        while True:
            finished = log.finished.is_set()  # read before draining, so no tail is lost
            chunk = reader.read(CHUNK)
            if chunk:
                idle = 0.0
                yield chunk
                continue
            if finished or idle >= idle_limit:
                return
            await asyncio.sleep(poll)
            idle += poll

