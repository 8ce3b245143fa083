"""Run a mock queue: :func:`start` in a background thread, :func:`serve` for the CLI.

``start()`` binds a loopback port (a free one by default), runs uvicorn on its own event loop in
a daemon thread, and returns once the server accepts connections::

    with start() as mock:
        queue = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})

A ticker on the server's loop runs the model's resolvers (claim expiry, deadlines) every 100 ms of
real time and at once whenever the mock's clock is moved. With ``workers=True`` the simulated
cluster (``tutorial_kit.mock.sim.workers.start_cluster``, through ``handle.start_workers``)
starts beside it.
"""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import logging
import pathlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import uvicorn

from .web.app import QueueApp
from .security.auth import Authenticator
from .security.credentials import (Client, issue_temporary_credentials, make_clients,
                                    new_access_token)
from .handle import MockHandle, start_workers, tick_forever
from .web.protocols import http_protocol

if TYPE_CHECKING:
    from .model.contract import QueueModel

log = logging.getLogger("tutorial_kit.mock")

STARTUP_TIMEOUT = 15.0


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MockQueue(MockHandle):
    """A running mock queue. Stop it with :meth:`stop` or use it as a context manager."""

    def __init__(self, *, app: QueueApp, backend: QueueModel, host: str, port: int, prefix: str,
                 credentials: dict[str, str]) -> None:
        self.app = app
        self.backend = backend
        self.host = host
        self.port = port
        url_host = f"[{host}]" if ":" in host else host
        self.root_url = f"http://{url_host}:{port}{prefix}"
        self.credentials = dict(credentials)
        self.cluster: Any = None
        self.cluster_error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self._stop_lock = threading.Lock()

    @property
    def running(self) -> bool:
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers, then the server (long polls and event streams end), then the store."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        # Closing the app first ends parked claimWork long polls at once, so the workers'
        # threads are free to notice that they are being stopped.
        self.app.close()
        if self.cluster is not None:
            try:
                self.cluster.stop()
            except Exception:
                log.exception("stopping the mock cluster failed")
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        self._close_store()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MockQueue {self.root_url} ({state})>"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every keep-alive reply waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def start(*, host: str = "127.0.0.1", port: int = 0, db: str | os.PathLike[str] | None = None,
          claim_timeout: float = 1200.0, claim_wait: float = 20.0, client_id: str = "tutorial",
          access_token: str | None = None, clients: Mapping[str, Any] | None = None,
          workers: bool = True, prefix: str = "", strict: bool = False,
          check_output: bool | None = None, deadline_delay: float = 0.0,
          shell_queues: Sequence[str] | None = None, sandbox: Any = None,
          mode: str = "mock", in_process: bool = False,
          loop: asyncio.AbstractEventLoop | None = None) -> MockQueue:
    """Start a mock queue in a background thread; returns once it accepts connections.

    ``in_process=True``: no server and no socket; the same application behind httpx transports
    that call it in this process (an :class:`~tutorial_kit.mock.inprocess.InProcessMock`, with
    the built-in workers only; ``loop`` a running loop to use instead of a thread of its own).

    ``db``: a SQLite file to keep tasks across restarts (in memory when None).
    ``claim_timeout``: seconds a claim lasts; ``claim_wait``: how long an empty ``claimWork``
    waits. ``client_id``/``access_token``: the built-in tutorial client (scopes ``*``; a random
    token unless given). ``clients``: more clients, ``{clientId: {accessToken, scopes}}``.
    ``workers``: start the simulated cluster when it is installed; ``shell_queues``: the task
    queues its shell engine serves (default: the tutorial's). ``prefix``: a path prefix for
    the rootUrl. ``strict``: required to listen beyond loopback; closes the control plane to
    everyone but the tutorial client. ``check_output``: validate every reply against its schema
    (default: the ``TUTORIAL_KIT_CHECK_OUTPUT`` environment variable). ``sandbox``: where the
    shell engine runs commands (``workers.sandbox``; default: as this user). ``mode``: what the
    server says it is (``GET <rootUrl>/mock/v1/``): ``mock`` or ``classroom``.
    """
    from .model.backend import QueueBackend
    from .sim.faults import Faults
    from .web.validation import Validator

    check_host(host, strict)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer 0-65535 (0 picks a free one), not {port!r}")
    if claim_timeout <= 0 or claim_wait < 0:
        raise ValueError("claim_timeout must be > 0 and claim_wait >= 0")
    if check_output is None:
        check_output = os.environ.get("TUTORIAL_KIT_CHECK_OUTPUT", "") not in ("", "0", "false")

    token = access_token or new_access_token()
    all_clients = make_clients(clients)
    all_clients[client_id] = Client(client_id, token, ("*",))

    def issue(temp_client_id: str, scopes: list, start_at: Any, expiry: Any) -> dict:
        return issue_temporary_credentials(client_id, token, temp_client_id, scopes, start_at,
                                           expiry)

    backend = QueueBackend(db_path=os.fspath(db) if db is not None else None,
                           claim_timeout=claim_timeout, deadline_delay=deadline_delay,
                           credential_issuer=issue)
    authenticator = Authenticator(all_clients,
                                  cert_now=lambda: backend.clock.now().timestamp())
    app = QueueApp(backend, authenticator=authenticator, validator=Validator(), faults=Faults(),
                   prefix=prefix, claim_wait=claim_wait, check_output=check_output,
                   strict=strict, control_client_id=client_id, mode=mode,
                   dashboard_file=pathlib.Path(f"{os.fspath(db)}.dashboard.json") if db else None)

    credentials = {"clientId": client_id, "accessToken": token}
    if in_process:
        from .inprocess import launch_in_process

        try:
            return launch_in_process(app, credentials=credentials, workers=workers, loop=loop,
                                     shell_queues=shell_queues)
        except (ValueError, RuntimeError):
            backend.close()
            raise
    try:
        mock = launch(app, host=host, port=port,
                      credentials={"clientId": client_id, "accessToken": token})
    except (OSError, RuntimeError):
        backend.close()
        raise

    if workers:
        try:
            mock.cluster = app.services.cluster = start_workers(mock, shell_queues=shell_queues,
                                                                sandbox=sandbox)
            app.services.livelogs = mock.cluster.context.livelogs
        except Exception as exc:  # the queue itself stays usable without its workers
            mock.cluster_error = exc
            log.warning("the mock cluster did not start: %s", exc, exc_info=True)
    return mock


def check_host(host: str, strict: bool) -> None:
    """Only loopback, unless auth is strict: the control plane of a lenient mock is open."""
    if not is_loopback(host) and not strict:
        raise ValueError(
            f"refusing to listen on {host!r}: the mock queue is open to anyone who can reach it "
            "(its control plane needs no credentials). Listen on 127.0.0.1, or ask for strict "
            "auth with start(strict=True) / `tutorial-kit mock-queue serve --strict`.")


def launch(app: QueueApp, *, host: str = "127.0.0.1", port: int = 0,
           credentials: dict[str, str] | None = None) -> MockQueue:
    """Serve an already built :class:`QueueApp` in a background thread (``start`` uses this;
    tests use it to serve an app around a backend of their own)."""
    check_host(host, app.services.strict)
    sock = _bind(host, port)
    mock = MockQueue(app=app, backend=app.backend, host=host, port=sock.getsockname()[1],
                     prefix=app.prefix,
                     credentials=credentials or {"clientId": "", "accessToken": ""})
    _run_in_thread(mock, sock)
    atexit.register(mock.stop)
    return mock


#: How long an idle keep-alive connection stays open: well above the idle expiry of httpx's
#: pool (so of tutorial_kit's client), 5 s, so a client always lets a connection go before the
#: server closes it. With both at 5 s, a request sent on a connection idle for about 5 s could
#: meet the server closing it and fail with a read error; a 32-worker claim storm in CI did.
KEEP_ALIVE_SECONDS = 75


#: uvicorn's event loop and HTTP parser: "auto" takes uvloop and httptools (uvicorn's standard
#: extras, dependencies of the package where the platform has them), about 1.5x the requests a
#: second of asyncio and h11, which serve wherever they are missing ("asyncio", "h11" force them;
#: see ``protocols`` for how either answers a request it cannot parse). The environment variables
#: ``TUTORIAL_KIT_MOCK_LOOP`` / ``TUTORIAL_KIT_MOCK_HTTP`` set them for a process.
LOOP = os.environ.get("TUTORIAL_KIT_MOCK_LOOP", "auto")
HTTP = os.environ.get("TUTORIAL_KIT_MOCK_HTTP", "auto")


def _new_loop(config: uvicorn.Config) -> asyncio.AbstractEventLoop:
    """A fresh event loop of the kind ``config.loop`` names (uvloop's where installed)."""
    get_factory = getattr(config, "get_loop_factory", None)
    if get_factory is not None:
        factory = get_factory()
        return factory() if factory is not None else asyncio.new_event_loop()
    # uvicorn before 0.36 only offers setup_event_loop(), which sets the process-wide policy
    # (a kernel's too): make the loop here instead
    if config.loop in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if config.loop == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _run_in_thread(mock: MockQueue, sock: socket.socket) -> None:
    config = uvicorn.Config(mock.app, log_level="warning", access_log=False, lifespan="off",
                            loop=LOOP, http=http_protocol(HTTP), ws="none",
                            timeout_graceful_shutdown=3,
                            timeout_keep_alive=KEEP_ALIVE_SECONDS)
    server = uvicorn.Server(config)
    mock._server = server
    failed: list[BaseException] = []

    async def main() -> None:
        ticker = asyncio.create_task(tick_forever(mock.backend, mock.app))
        try:
            await server.serve(sockets=[sock])
        finally:
            mock.app.close()
            ticker.cancel()
            try:
                await ticker
            except (asyncio.CancelledError, Exception):
                pass

    def run() -> None:
        loop = _new_loop(config)
        asyncio.set_event_loop(loop)
        mock._loop = loop
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to start() if it happens before startup
            failed.append(exc)
            log.exception("the mock queue's server stopped with an error")
        finally:
            sock.close()
            loop.close()

    thread = threading.Thread(target=run, name=f"mock-queue:{mock.port}", daemon=True)
    mock._thread = thread
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if failed or not thread.is_alive():
            raise RuntimeError(f"the mock queue failed to start: {failed[0] if failed else 'exited'}")
        if time.monotonic() > deadline:
            mock.stop()
            raise RuntimeError("the mock queue did not start within "
                               f"{STARTUP_TIMEOUT:.0f} s")
        time.sleep(0.002)  # startup takes a few ms: a coarser step would be most of the wait


def serve(*, host: str = "127.0.0.1", port: int = 0, db: str | None = None,
          claim_timeout: float = 1200.0, access_token: str | None = None, workers: bool = True,
          strict: bool = False, prefix: str = "", claim_wait: float = 20.0,
          shell_queues: Sequence[str] | None = None,
          clients: Mapping[str, Any] | None = None, sandbox: Any = None,
          mode: str = "mock", dashboard: bool = False, verbose: bool = False) -> int:
    """Run a mock queue in the foreground until Ctrl-C or SIGTERM (for the CLI).

    The first three lines on stdout are ``export TASKCLUSTER_...=...`` lines, so
    ``eval "$(tutorial-kit mock-queue serve | head -3)"`` works; logs go to stderr.
    ``dashboard``: also print the classroom dashboard's URL, with the teacher's token, on stderr.
    ``verbose``: also log every request the built-in workers make (httpx's lines).
    """
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # httpx logs each request at INFO: the workers' claimWork polls would bury the lines a
    # teacher needs (where it listens, the dashboard, errors)
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
    mock = start(host=host, port=port, db=db, claim_timeout=claim_timeout,
                 access_token=access_token, workers=workers, strict=strict, prefix=prefix,
                 claim_wait=claim_wait, shell_queues=shell_queues, clients=clients,
                 sandbox=sandbox, mode=mode)
    import shlex

    for name, value in mock.env().items():
        sys.stdout.write(f"export {name}={shlex.quote(value)}\n")
    sys.stdout.flush()
    if dashboard:
        from tutorial_kit.mock.web.inspector_routes import dashboard_url

        sys.stderr.write("tutorial-kit: the teacher's dashboard (the token in it is yours; keep "
                         "it from learners):\n    "
                         f"{dashboard_url(mock.root_url, mock.credentials['accessToken'])}\n")
        sys.stderr.flush()

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    store = f"file {db}" if db else "in memory"
    log.info("mock queue listening on %s (store %s, workers %s); Ctrl-C stops it", mock.root_url,
             store, "on" if mock.cluster is not None else "off")
    try:
        while not stop.is_set() and mock.running:
            stop.wait(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopping the mock queue")
        mock.stop()
    if not stop.is_set():
        log.error("the mock queue's server stopped by itself (see the errors above)")
        return 1
    return 0
