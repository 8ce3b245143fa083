"""The mock queue in-process: the same ASGI application, reached through httpx transports that call
it directly. No listening socket, no port, no uvicorn.

``start(in_process=True)`` (and ``tutorial_kit.connect(in_process=True)``) return an
:class:`InProcessMock`. Its ``root_url`` is ``http://in-process-N.mock-queue.invalid``: a name
that never resolves (RFC 6761), so a client that is not given the mock's transport fails at once
instead of reaching some other server::

    mock = tutorial_kit.mock.start(in_process=True)
    queue = mock.queue()                      # tutorial_kit.Queue on mock.transport()
    aqueue = mock.async_queue()               # tutorial_kit.AsyncQueue on mock.async_transport()

Everything async in the mock (the ticker that runs the resolvers when the clock moves, long
polls, the built-in workers) runs as asyncio tasks on **one event loop**, the mock's:

* by default a private loop in a daemon thread, so that a blocking client (``Queue``) can wait
  for an answer while the loop computes it, from any thread, including a Jupyter kernel's
  (whose own loop is busy running the cell);
* or, with ``loop=`` a running loop (``await`` code, or the browser's only loop under
  Pyodide), that loop: no thread at all. Then use ``AsyncQueue`` on that loop (a blocking call
  there would wait forever for the loop it blocks, so it raises instead; from another thread a
  blocking ``Queue`` still works).

The built-in workers (``built-in/succeed``, ``built-in/fail``) are asyncio tasks here, not the
claim-loop threads of the socket mock: they long-poll ``claimWork`` and report through the same
application, so their calls are in the request log as usual. The shell engine runs task commands
as subprocesses from threads: it starts beside them on the mock's own thread (its clients reach
the app through the transport registry of ``tutorial_kit.client.transport``), never with
``loop=``; docs/architecture.md says what it would need under Pyodide.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from .handle import MockHandle, start_workers, tick_forever

if TYPE_CHECKING:
    from .web.app import QueueApp

log = logging.getLogger("tutorial_kit.mock")

__all__ = ["InProcessMock", "InProcessTransport", "AsyncInProcessTransport", "launch_in_process"]

T = TypeVar("T")
#: How long a blocking call waits for the mock's loop (claimWork long polls are well below).
CALL_TIMEOUT = 600.0
_numbers = itertools.count(1)


class InProcessTransport(httpx.BaseTransport):
    """A blocking httpx transport that hands each request to the mock's app on the mock's loop."""

    def __init__(self, mock: InProcessMock) -> None:
        self._mock = mock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return self._mock.call_blocking(self._mock._answer(request, body))


class AsyncInProcessTransport(httpx.AsyncBaseTransport):
    """An async httpx transport onto the mock's app: called directly when the caller runs on the
    mock's loop, else handed over to it (a Jupyter kernel's loop is not the mock's)."""

    def __init__(self, mock: InProcessMock) -> None:
        self._mock = mock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return await self._mock.call_async(self._mock._answer(request, body))


class InProcessMock(MockHandle):
    """A mock queue without a server. Same handle as :class:`~tutorial_kit.mock.server.MockQueue`
    (``root_url``, ``credentials``, ``clock``, ``faults``, ``request_log``, ``cluster``,
    ``stop()``), plus the transports and ready-made clients."""

    in_process = True

    def __init__(self, *, app: QueueApp, credentials: dict[str, str],
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.app = app
        self.backend = app.backend
        self.number = next(_numbers)
        self.host = f"in-process-{self.number}.mock-queue.invalid"
        self.port = None
        self.root_url = f"http://{self.host}{app.prefix}"
        self.credentials = dict(credentials)
        self.cluster: Any = None
        self.cluster_error: BaseException | None = None
        self._own_loop = loop is None
        self._loop = loop or asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task] = []
        self._stopped = False
        self._asgi = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))

    # -- the handle ----------------------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def running(self) -> bool:
        return not self._stopped

    def env(self) -> dict[str, str]:
        """The three Taskcluster variables. Only this process can reach an in-process mock (the
        rootUrl resolves nowhere): a subprocess or official client needs ``start()`` instead."""
        return super().env()

    def transport(self) -> InProcessTransport:
        """For ``httpx.Client(transport=...)`` and ``tutorial_kit.Queue(transport=...)``."""
        return InProcessTransport(self)

    def async_transport(self) -> AsyncInProcessTransport:
        """For ``httpx.AsyncClient(transport=...)`` and ``AsyncQueue(transport=...)``."""
        return AsyncInProcessTransport(self)

    def queue(self, credentials: dict[str, str] | None = None, **options: Any) -> Any:
        """A ``tutorial_kit.Queue`` on this mock, with the tutorial client's credentials unless
        others are given (``credentials={}`` for an anonymous client)."""
        from tutorial_kit.client import Queue

        creds = dict(self.credentials) if credentials is None else credentials
        return Queue({"rootUrl": self.root_url, **({"credentials": creds} if creds else {}),
                      **options}, transport=self.transport())

    def async_queue(self, credentials: dict[str, str] | None = None, **options: Any) -> Any:
        """A ``tutorial_kit.AsyncQueue`` on this mock (see :meth:`queue`)."""
        from tutorial_kit.client import AsyncQueue

        creds = dict(self.credentials) if credentials is None else credentials
        return AsyncQueue({"rootUrl": self.root_url, **({"credentials": creds} if creds else {}),
                           **options}, transport=self.async_transport())

    # -- calling the app -------------------------------------------------------------------------
    async def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        """Run one request through the app on the mock's loop; the body is read there too."""
        if self._stopped:
            raise httpx.ConnectError("the in-process mock queue has been stopped", request=request)
        fresh = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await self._asgi.handle_async_request(fresh)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content,
                              request=request)

    def _on_mock_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def call_blocking(self, coro: Awaitable[T]) -> T:
        """Run `coro` on the mock's loop and wait for it, from a thread that is not that loop's."""
        if self._on_mock_loop() or self._loop.is_closed():
            close = getattr(coro, "close", None)
            if close is not None:
                close()
            raise RuntimeError(
                "a blocking call on the event loop that has to answer it would wait forever: "
                "use tutorial_kit.AsyncQueue (mock.async_queue()) here, or start the mock "
                "without loop= so it runs on its own thread (or the mock has been stopped)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT)

    async def call_async(self, coro: Awaitable[T]) -> T:
        if self._on_mock_loop():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    # -- lifetime ---------------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        """Start a background task on the mock's loop (from any thread)."""
        def create() -> None:
            self._tasks.append(self._loop.create_task(coro, name=name))

        if self._on_mock_loop():
            create()
        else:
            self._loop.call_soon_threadsafe(create)

    def start(self, *, workers: bool, shell_queues: Any = None) -> InProcessMock:
        from tutorial_kit.client.transport import IN_PROCESS

        # Every client of the package reaches this mock by its rootUrl alone from now on.
        IN_PROCESS[self.host] = (self.transport(), self.async_transport())
        if self._own_loop:
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(self._loop)
                self._loop.call_soon(ready.set)
                self._loop.run_forever()

            self._thread = threading.Thread(target=run, daemon=True,
                                            name=f"mock-queue:in-process-{self.number}")
            self._thread.start()
            ready.wait(10)
        self._spawn(tick_forever(self.backend, self.app), "mock-queue ticker")
        if workers:
            from .sim.workers.inprocess import BuiltinWorkers

            self.cluster = self.app.services.cluster = BuiltinWorkers(
                faults=self.faults, client=lambda: self.async_queue(maxRetries=0),
                closed=lambda: self.app.closed)
            for coro, name in self.cluster.loops():
                self._spawn(coro, name)
            if self._own_loop:
                self._start_shell(shell_queues)
        return self

    def _start_shell(self, shell_queues: Any) -> None:
        """The shell engine, where threads and subprocesses exist (it runs task commands in
        them): its workers' clients reach this mock by rootUrl through the transport registry."""
        from .sim.workers import _shell_queues

        try:
            if not _shell_queues(shell_queues):
                return
            self.cluster.shell = start_workers(self, shell_queues=shell_queues, builtin=False)
            self.app.services.livelogs = self.cluster.shell.context.livelogs
        except Exception as exc:  # the queue and the built-in workers stay usable
            self.cluster_error = exc
            log.warning("the in-process mock's shell engine did not start: %s", exc,
                        exc_info=True)

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.cluster is not None:
            await self.cluster.aclose()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers and the ticker, then the store. From a coroutine on the mock's own
        loop use :meth:`astop`."""
        if self._stopped:
            return
        self.app.close()  # parked long polls return at once
        shell = self.cluster.shell if self.cluster is not None else None
        if shell is not None:  # its threads need the loop to answer them while they stop
            try:
                shell.stop()
            except Exception:
                log.exception("stopping the in-process mock's shell engine failed")
        self._unregister()
        if self._own_loop and self._loop.is_running() and not self._on_mock_loop():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout)
            except Exception:
                log.exception("stopping the in-process mock's tasks failed")
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout)
            self._loop.close()
        else:
            for task in self._tasks:
                task.cancel()
        self._stopped = True
        self._close_store()

    async def astop(self) -> None:
        """Stop from a coroutine (the way to stop a mock started with ``loop=``)."""
        if self._stopped:
            return
        if self._own_loop and not self._on_mock_loop():
            await asyncio.get_running_loop().run_in_executor(None, self.stop)
            return
        self._unregister()
        self.app.close()
        await self._shutdown()
        self._stopped = True
        self._close_store()

    def _unregister(self) -> None:
        from tutorial_kit.client.transport import IN_PROCESS

        IN_PROCESS.pop(self.host, None)

    async def __aenter__(self) -> InProcessMock:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    def __repr__(self) -> str:
        return f"<InProcessMock {self.root_url} ({'running' if self.running else 'stopped'})>"


def launch_in_process(app: QueueApp, *, credentials: dict[str, str], workers: bool = True,
                      loop: asyncio.AbstractEventLoop | None = None,
                      shell_queues: Any = None) -> InProcessMock:
    """Serve a built QueueApp in-process (``start(in_process=True)`` uses this)."""
    if loop is not None and not loop.is_running():
        raise ValueError("loop= must be the running loop of the calling coroutine "
                         "(asyncio.get_running_loop()); leave it out for a loop of the mock's own")
    mock = InProcessMock(app=app, credentials=credentials, loop=loop)
    return mock.start(workers=workers, shell_queues=shell_queues)
