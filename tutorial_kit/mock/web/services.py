"""The parts one mock queue's routes share, handed to each group of routes when it is built.

``server.py`` (or ``inprocess.py``) builds the parts, :class:`~.app.QueueApp` puts them in one
:class:`Services`, and every group of routes (the Queue API, the Object service, storage,
documents, the control plane, the inspector) receives it at construction and reads typed
attributes: nothing is looked up on the app later. The simulated cluster starts after the
server does (its workers need the rootUrl), so the host fills in :attr:`Services.cluster` and
:attr:`Services.livelogs` when it has them; a route that needs them reads them per request.
"""

from __future__ import annotations

import pathlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request

from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.security.auth import Authenticator

from .answer import Answer
from .dashboard import Progress
from .envelope import Context, error_answer, incident, json_answer
from .requestlog import RequestLog

if TYPE_CHECKING:
    from tutorial_kit.mock.model.contract import QueueModel
    from tutorial_kit.mock.model.livelog import LiveLogs
    from tutorial_kit.mock.sim.faults import Faults

    from .validation import Validator


class ClusterControl(Protocol):
    """What the control plane asks of the simulated cluster (``sim.workers``)."""

    def describe(self) -> dict[str, Any]:
        """Task queues served, engines, runs in progress."""
        ...

    def crash(self, task_id: str, mode: str) -> dict[str, Any]:
        """Crash the worker running ``task_id`` (``claim-expired`` or ``worker-shutdown``)."""
        ...


@dataclass(eq=False)
class Services:
    """What the routes of one mock queue work with.

    ``validator`` None: no input validation and no schema documents; ``faults`` None: no fault
    injection. ``strict`` closes the control plane to anyone but ``control_client_id``.
    ``check_output`` shows the cause of an ``InternalServerError`` in its message (tests).
    """

    backend: QueueModel
    authenticator: Authenticator
    request_log: RequestLog
    validator: Validator | None = None
    faults: Faults | None = None
    prefix: str = ""
    strict: bool = False
    control_client_id: str | None = "tutorial"
    check_output: bool = False
    public_root_url: str | None = None
    #: What the server says it is (``GET /mock/v1/``): ``mock`` or ``classroom``.
    mode: str = "mock"
    #: The simulated cluster, once started (None: the mock runs without workers).
    cluster: ClusterControl | None = None
    #: The cluster's live logs, if its engines write any.
    livelogs: LiveLogs | None = None
    #: True once the server is stopping: long polls and event streams finish.
    closed: bool = False
    #: Called once when the server stops (e.g. the dashboard saves its history).
    on_close: list[Callable[[], None]] = field(default_factory=list)
    #: Where the classroom dashboard keeps what learners did across restarts (beside a
    #: ``--db`` store; None: for this process only).
    dashboard_file: pathlib.Path | None = None
    started: float = field(default_factory=time.monotonic)
    #: The dashboard's history: every learner call as it is logged, from the server's start,
    #: not from the first request for the dashboard's routes (they are built on first use).
    progress: Progress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = Progress(self.dashboard_file)
        self.request_log.listeners.append(self.progress.observe)
        self.on_close.append(self.progress.save)

    def now(self) -> datetime:
        """The model's time (the one errors and the request log show)."""
        return self.backend.clock.now()

    def root_url(self, request: Request) -> str:
        """The rootUrl a request reached this mock by (or the configured public one)."""
        if self.public_root_url:
            return self.public_root_url
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return f"{request.scope.get('scheme', 'http')}://{host}{self.prefix}"

    @staticmethod
    def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                      *, indent: int | None = None) -> Answer:
        """A JSON answer with the API's headers (see :func:`.envelope.json_answer`)."""
        return json_answer(body, status, headers, indent=indent)

    def error_response(self, error: QueueError, ctx: Context) -> Answer:
        """Taskcluster's error envelope for ``error``, at the model's time."""
        return error_answer(error, ctx, self.now())

    def internal_error(self, ctx: Context, exc: BaseException | None = None,
                       detail: str = "") -> Answer:
        """An ``InternalServerError`` with an incident id; the cause goes to the log."""
        return self.error_response(incident(ctx, exc, detail, show_detail=self.check_output),
                                   ctx)
