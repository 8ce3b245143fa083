"""``tutorial_kit.connect()``: a Queue client for whichever deployment is live.

With ``TASKCLUSTER_ROOT_URL`` set, the client talks to that deployment with the credentials from
the environment (``TASKCLUSTER_CLIENT_ID`` / ``TASKCLUSTER_ACCESS_TOKEN``), exactly as
``Queue.fromEnv()`` would. Without it, an embedded mock queue is started (once per process, then
reused), so every notebook runs with no account and no setup. One line says plainly which it
is: the embedded mock, a mock named by ``TASKCLUSTER_ROOT_URL`` (``make lab``'s), a classroom's
shared queue, or a real deployment::

    queue = tutorial_kit.connect()
    # Connected to the embedded mock queue (started by this notebook) at http://127.0.0.1:43117

On a mock queue (embedded, or named by ``TASKCLUSTER_ROOT_URL`` as ``make lab`` does),
``fromNow``/``fromNowJSON`` then count from the mock's clock, so a task created after the clock
was moved forward still has a ``created`` the queue accepts.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["connect", "embedded_mock", "deployment_kind", "describe_deployment"]

#: What :func:`deployment_kind` may answer.
MOCK, CLASSROOM, DEPLOYMENT = "mock", "classroom", "deployment"

_lock = threading.Lock()
_mock: Any = None


def embedded_mock() -> Any:
    """The MockQueue :func:`connect` started in this process, or None."""
    return _mock if _mock is not None and getattr(_mock, "running", True) else None


def _start_mock() -> Any:
    global _mock
    with _lock:
        if _mock is None or not getattr(_mock, "running", True):
            from tutorial_kit.mock import start

            _mock = start()
        return _mock


def deployment_kind(root_url: str, *, timeout: float = 5.0) -> str:
    """What answers at ``root_url``: ``"classroom"`` (a teacher's ``tutorial-kit classroom
    serve``), ``"mock"`` (the tutorial's mock queue) or ``"deployment"`` (anything else: a real
    Taskcluster deployment, or nothing reachable).

    The mock says what it is at ``GET <rootUrl>/mock/v1/``, open even in a classroom's strict
    mode; a real deployment has no such endpoint.
    """
    import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
    import httpx

    from tutorial_kit.client.transport import http_client

    try:
        with http_client(timeout=timeout) as http:
            answer = http.get(f"{root_url.rstrip('/')}/mock/v1/")
        if answer.status_code == 200:
            mode = answer.json().get("mode")
            return CLASSROOM if mode == CLASSROOM else MOCK
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    return DEPLOYMENT


def describe_deployment(kind: str, root_url: str, *, embedded: bool = False) -> str:
    """One plain phrase for a learner: which queue this is and where it comes from."""
    if embedded:
        return f"the embedded mock queue (started by this notebook) at {root_url}"
    if kind == CLASSROOM:
        return (f"a classroom's shared mock queue at {root_url} (run by your teacher with "
                "`tutorial-kit classroom serve`; named by TASKCLUSTER_ROOT_URL)")
    if kind == MOCK:
        return (f"the tutorial's mock queue at {root_url} (a separate mock process, e.g. "
                "`make lab`'s, named by TASKCLUSTER_ROOT_URL)")
    return f"a real Taskcluster deployment at {root_url} (named by TASKCLUSTER_ROOT_URL)"


_in_process: Any = None


def _start_in_process() -> Any:
    global _in_process
    with _lock:
        if _in_process is None or not _in_process.running:
            from tutorial_kit.mock import start

            _in_process = start(in_process=True)
        return _in_process


def connect(*, quiet: bool = False, in_process: bool = False) -> Any:
    """A ``tutorial_kit.Queue`` for the live deployment: the one named by
    ``TASKCLUSTER_ROOT_URL``, else an embedded mock queue (started on first use).

    ``in_process=True``: the embedded mock without a server or socket (the client reaches it
    through an in-process transport; see ``tutorial_kit.mock.inprocess``), whatever
    ``TASKCLUSTER_ROOT_URL`` says. Only this process can reach it."""
    from tutorial_kit.client import Queue
    from tutorial_kit.client.fromnow import use_clock
    from tutorial_kit.mockctl import MockControl

    if in_process:
        mock = _start_in_process()
        use_clock(mock.clock.now)
        if not quiet:
            print(f"Connected to an in-process mock queue ({mock.root_url}; no socket)")
        return mock.queue()

    root_url = os.environ.get("TASKCLUSTER_ROOT_URL", "").strip().rstrip("/")
    if root_url:
        queue = Queue.fromEnv()
        kind = deployment_kind(root_url)
        control = MockControl(root_url)
        # a classroom's clock is the teacher's (its control plane answers only them); a
        # learner's fromNow() counts from the wall clock there, as on a real deployment
        on_mock = kind == MOCK and control.is_mock()
        use_clock(control.now if on_mock else None)
        if not quiet:
            who = os.environ.get("TASKCLUSTER_CLIENT_ID") or "no credentials (anonymous)"
            print(f"Connected to {describe_deployment(kind, root_url)} as {who}")
        return queue
    mock = _start_mock()
    use_clock(mock.clock.now)
    queue = Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials)})
    if not quiet:
        print(f"Connected to {describe_deployment(MOCK, mock.root_url, embedded=True)} "
              "(set TASKCLUSTER_ROOT_URL to use another queue)")
    return queue
