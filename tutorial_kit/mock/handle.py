"""What the served mock (`server.MockQueue`) and the in-process one (`inprocess.InProcessMock`)
have in common: the handle's views of the app and backend, the three Taskcluster variables,
closing the store, and the ticker that runs the resolvers (claim expiry, deadlines)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Self

from tutorial_kit.api import BY_NAME

from .model.call import Call
from .model.errors import QueueError
from .security.auth import Caller
from .web.requestlog import RequestLog

if TYPE_CHECKING:
    from .model.contract import QueueModel
    from .sim.faults import Faults
    from .web.app import QueueApp
    from .security.sandbox import Unsandboxed
    from .sim.workers import Cluster

log = logging.getLogger("tutorial_kit.mock")

TICK_SECONDS = 0.1


class MockHandle:
    """The part of a mock's handle that only reads ``app``, ``backend``, ``root_url`` and
    ``credentials``; a subclass sets them and provides ``stop()``."""

    app: QueueApp
    backend: QueueModel
    root_url: str
    credentials: dict[str, str]

    @property
    def clock(self) -> Any:
        return self.backend.clock

    @property
    def bus(self) -> Any:
        return self.backend.bus

    @property
    def faults(self) -> Faults | None:
        return self.app.faults

    @property
    def request_log(self) -> RequestLog:
        return self.app.request_log

    def env(self) -> dict[str, str]:
        """The three variables Taskcluster clients read (``Queue.fromEnv()``, ``fromEnvVars()``)."""
        return {"TASKCLUSTER_ROOT_URL": self.root_url,
                "TASKCLUSTER_CLIENT_ID": self.credentials["clientId"],
                "TASKCLUSTER_ACCESS_TOKEN": self.credentials["accessToken"]}

    def stop(self, timeout: float = 10.0) -> None:
        raise NotImplementedError

    def _close_store(self) -> None:
        try:
            self.backend.close()
        except Exception:
            log.exception("closing the mock queue's store failed")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def tick_forever(backend: QueueModel, app: QueueApp) -> None:
    """The resolvers (``backend.tick()``) every `TICK_SECONDS`, and at once when the clock
    moves, until the app is closed."""
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    remove = backend.clock.add_listener(lambda: loop.call_soon_threadsafe(wake.set))
    try:
        while not app.closed:
            try:
                await asyncio.wait_for(wake.wait(), timeout=TICK_SECONDS)
            except asyncio.TimeoutError:
                pass
            wake.clear()
            try:
                backend.tick()
            except Exception:  # a resolver bug must not stop time
                log.exception("backend.tick() failed")
    finally:
        remove()


def task_state_reader(backend: Any) -> Callable[[str], str | None]:
    """A task's state (None: no such task), asked of the model's ``status`` method as the API
    would answer it: the faults use it so the crash button never arms a crash for a later run
    of a task that is over. The wiring hands it to the faults; workers never read the model."""
    entry = BY_NAME["status"]
    caller = Caller(None, ())  # status needs no scopes

    def task_state(task_id: str) -> str | None:
        call = Call(entry=entry, params={"taskId": task_id}, query={}, body=None, caller=caller,
                    root_url="")
        try:
            reply = backend.status(call)
        except QueueError as error:
            if error.code == "ResourceNotFound":
                return None
            raise
        return reply.body["status"]["state"]

    return task_state


def start_workers(mock: MockHandle, *, shell_queues: Iterable[str] | None = None,
                  builtin: bool = True, sandbox: Unsandboxed | None = None) -> Cluster:
    """Start the simulated cluster (``sim.workers``) beside a running mock. The workers get the
    rootUrl and credentials to call the Queue API with, the mock's clock and faults; the faults
    get the task state reader (see :func:`task_state_reader`)."""
    from .sim.workers import start_cluster

    cluster = start_cluster(mock.root_url, mock.credentials, clock=mock.clock, faults=mock.faults,
                            shell_queues=shell_queues, builtin=builtin, sandbox=sandbox)
    cluster.faults.task_state = task_state_reader(mock.backend)
    return cluster
