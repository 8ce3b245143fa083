"""The mock-only control plane, under ``/mock/v1`` (JSON in and out).

==========================  ===========================================================
``POST /reset``             forget every task, artifact and message; disarm faults
``POST /seed``              ``{"seed": n}``: make generated ids and choices repeatable
``GET  /state``             the model's state (``backend.dump()``)
``GET  /requests``          the request log (``?since=<seq>&limit=<n>``), no secrets
``GET  /events``            Server-Sent Events: every Pulse message in order
                            (``?since=<seq>`` or ``Last-Event-ID``)
``GET|POST /clock``         read or move time: ``{"action": "pause"|"resume"|"advance"|
                            "speed"|"reset"|"now", "seconds": s, "factor": f}``
``GET|POST|DELETE /faults`` list, arm (``Faults.arm``'s JSON) or clear injected faults;
                            ``DELETE /faults/<id>``
==========================  ===========================================================

The simulated cluster adds its own routes here (``cluster_routes.py``: ``/cluster``,
``/tasks/<taskId>/crash``, ``/scenario``, ...); the live logs are served by ``app.py``.

It is a teaching tool, so it needs no credentials on loopback. In strict mode (a server bound
beyond loopback) only the tutorial client may use it: :func:`control_allowed` is the hook.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .answer import Answer
from tutorial_kit.mock.security.auth import HawkRequest
from tutorial_kit.mock.model.errors import QueueError

if TYPE_CHECKING:
    from .app import QueueApp

#: How often an idle event stream sends a comment, so proxies keep it open.
KEEPALIVE_SECONDS = 15.0
#: How often a stream checks whether the server is stopping.
STREAM_POLL_SECONDS = 0.5


def control_allowed(app: QueueApp, request: Request, body: bytes = b"") -> None:
    """Raise QueueError 401/403 unless this request may use the control plane.

    Open by default (loopback teaching setup). In strict mode the caller must sign the request
    as the tutorial client (``app.control_client_id``).
    """
    if not app.strict:
        return
    hawk = HawkRequest(method=request.method, path=app.raw_path(request),
                       query=request.scope.get("query_string", b"").decode("latin-1"),
                       host=request.headers.get("host"), scheme=request.url.scheme,
                       authorization=request.headers.get("authorization"), body=body,
                       content_type=request.headers.get("content-type"))
    caller, _ = app.authenticator.authenticate(hawk)
    if caller.client_id is None or caller.client_id != app.control_client_id:
        raise QueueError("InsufficientScopes",
                         "This mock queue runs in strict mode: its control plane (/mock/v1) only "
                         f"answers requests signed by the client {app.control_client_id!r}.")


def control_routes(app: QueueApp) -> list[Route]:
    """The Starlette routes of the control plane, to mount at ``<prefix>/mock/v1``."""
    c = _Control(app)
    return [
        Route("/", c.index, methods=["GET"]),
        Route("/reset", c.reset, methods=["POST"]),
        Route("/seed", c.seed, methods=["POST"]),
        Route("/state", c.state, methods=["GET"]),
        Route("/requests", c.requests, methods=["GET"]),
        Route("/events", c.events, methods=["GET"]),
        Route("/clock", c.clock, methods=["GET", "POST"]),
        Route("/faults", c.faults, methods=["GET", "POST", "DELETE"]),
        Route("/faults/fired", c.fired_faults, methods=["GET"]),
        Route("/faults/{fault_id:int}", c.remove_fault, methods=["DELETE"]),
    ] + _cluster_routes(app)


def _cluster_routes(app: QueueApp) -> list[Route]:
    """The simulated cluster's endpoints (crash a task's worker, scenarios), when installed."""
    try:
        from .cluster_routes import routes
    except ImportError:
        return []
    return list(routes(app))


def _int_arg(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None,
             default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise QueueError("InputError", f"`{name}` is required")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueueError("InputError", f"`{name}` must be an integer, not {value!r}") from None
    if isinstance(value, bool) or number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise QueueError("InputError", f"`{name}` must be an integer {bounds}, not {value!r}")
    return number


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueueError("InputError", f"`{name}` must be a number, not {value!r}")
    return float(value)


def sse_message(message: Any) -> str:
    """One bus message as a Server-Sent Event."""
    data = {"exchange": message.exchange, "routingKey": message.routing_key,
            "payload": message.payload, "cc": list(message.cc)}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {message.seq}\nevent: message\ndata: {text}\n\n"


class _Control:
    def __init__(self, app: QueueApp) -> None:
        self.app = app

    # -- plumbing --------------------------------------------------------------------------
    async def _run(self, request: Request, name: str, handler: Any) -> Answer | Response:
        from .app import _Context

        ctx = _Context(name=f"mock.{name}")
        try:
            body = await request.body()
            control_allowed(self.app, request, body)
            data: Any = {}
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError as exc:
                    raise QueueError("MalformedPayload", f"Failed to parse JSON body: {exc}") from None
                if not isinstance(data, dict):
                    raise QueueError("MalformedPayload", "The JSON body must be an object")
            ctx.payload = data
            result = handler(request, data)
            if asyncio.iscoroutine(result):
                result = await result
            if isinstance(result, (Answer, Response)):
                return result
            return self.app.json_response(result)
        except QueueError as err:
            return self.app.error_response(err, ctx)
        except Exception as exc:
            return self.app.internal_error(ctx, exc)

    @property
    def backend(self) -> Any:
        return self.app.backend

    # -- endpoints -------------------------------------------------------------------------
    async def index(self, request: Request) -> Answer | Response:
        # Open to everyone, also in strict mode: it says what this server is (the tutorial's
        # mock, or a classroom's), which a learner's connect() and doctor() tell them, and
        # nothing that could change it.
        return self.app.json_response({
            "service": "tutorial-kit mock queue", "mode": getattr(self.app, "mode", "mock"),
            "endpoints": ["POST /mock/v1/reset", "POST /mock/v1/seed",
                          "GET /mock/v1/state", "GET /mock/v1/requests",
                          "GET /mock/v1/events", "GET|POST /mock/v1/clock",
                          "GET|POST|DELETE /mock/v1/faults"],
            "strict": self.app.strict})

    async def reset(self, request: Request) -> Answer | Response:
        def run(_r: Request, _d: Any) -> Any:
            self.backend.reset()
            faults = self.app.faults
            if faults is not None and hasattr(faults, "clear"):
                faults.clear()
            return {"reset": True}
        return await self._run(request, "reset", run)

    async def seed(self, request: Request) -> Answer | Response:
        def run(_r: Request, data: Any) -> Any:
            seed = _int_arg(data.get("seed"), "seed")
            self.backend.seed(seed)
            return {"seed": seed}
        return await self._run(request, "seed", run)

    async def state(self, request: Request) -> Answer | Response:
        return await self._run(request, "state", lambda _r, _d: self.backend.dump())

    async def requests(self, request: Request) -> Answer | Response:
        def run(r: Request, _d: Any) -> Any:
            since = _int_arg(r.query_params.get("since"), "since", default=0)
            limit = _int_arg(r.query_params.get("limit"), "limit", minimum=1, maximum=10000,
                             default=1000)
            records = self.app.request_log.since(since, limit)
            return {"requests": [rec.to_json() for rec in records],
                    "last": self.app.request_log.last_seq}
        return await self._run(request, "requests", run)

    async def clock(self, request: Request) -> Answer | Response:
        def run(r: Request, data: Any) -> Any:
            clock = self.backend.clock
            if r.method == "POST":
                action = data.get("action", "now")
                if action == "pause":
                    clock.pause()
                elif action == "resume":
                    clock.resume()
                elif action == "advance":
                    seconds = _number(data.get("seconds"), "seconds")
                    try:
                        clock.advance(seconds)
                    except ValueError as exc:
                        raise QueueError("InputError", str(exc)) from None
                elif action == "speed":
                    try:
                        clock.set_speed(_number(data.get("factor"), "factor"))
                    except ValueError as exc:
                        raise QueueError("InputError", str(exc)) from None
                elif action == "reset" and hasattr(clock, "reset"):
                    clock.reset()
                elif action != "now":
                    raise QueueError("InputError",
                                     f"unknown clock action {action!r}; use pause, resume, "
                                     "advance (with seconds), speed (with factor), reset or now")
                if action != "now":
                    # Run the resolvers at once, so a jump past a deadline shows immediately.
                    self.backend.tick()
            return clock.state()
        return await self._run(request, "clock", run)

    async def faults(self, request: Request) -> Answer | Response:
        def run(r: Request, data: Any) -> Any:
            faults = self.app.faults
            if faults is None:
                raise QueueError("ResourceNotFound", "This mock queue has no fault injection.")
            if r.method == "POST":
                self._arm(faults, data)
            elif r.method == "DELETE":
                faults.clear()
            return faults.describe()
        return await self._run(request, "faults", run)

    @staticmethod
    def _arm(faults: Any, data: dict[str, Any]) -> None:
        """Arm a fault described as JSON (the format is ``Faults.arm``'s)."""
        from tutorial_kit.mock.sim.faults import FaultError

        try:
            faults.arm(data)
        except FaultError as exc:
            raise QueueError("InputError", str(exc)) from None

    async def fired_faults(self, request: Request) -> Answer | Response:
        """The faults that fired lately, as readable lines, and a number that moves whenever a
        fault is armed, fires or is removed (a fault list redraws when it moves)."""
        def run(_r: Request, _d: Any) -> Any:
            faults = self.app.faults
            if faults is None:
                raise QueueError("ResourceNotFound", "This mock queue has no fault injection.")
            return {"fired": faults.fired(), "version": faults.version}
        return await self._run(request, "faults", run)

    async def remove_fault(self, request: Request) -> Answer | Response:
        def run(r: Request, _d: Any) -> Any:
            faults = self.app.faults
            if faults is None or not faults.remove(r.path_params["fault_id"]):
                raise QueueError("ResourceNotFound", "No such fault")
            return faults.describe()
        return await self._run(request, "faults", run)

    async def events(self, request: Request) -> Answer | Response:
        from .app import _Context

        try:
            control_allowed(self.app, request)
            header = request.headers.get("last-event-id")
            since = _int_arg(request.query_params.get("since", header), "since", default=0)
        except QueueError as err:
            return self.app.error_response(err, _Context(name="mock.events"))
        headers = {"cache-control": "no-cache", "x-accel-buffering": "no",
                   "access-control-allow-origin": "*"}
        return StreamingResponse(self._stream(request, since), media_type="text/event-stream",
                                 headers=headers)

    async def _stream(self, request: Request, since: int) -> AsyncIterator[str]:
        bus = self.backend.bus
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        # The bus history is the source of truth (ordered by seq); a subscription only wakes us.
        unsubscribe = bus.subscribe(lambda _m: loop.call_soon_threadsafe(wake.set))
        last = since
        idle = 0.0
        try:
            yield ": connected\n\n"
            while not self.app.closed:
                wake.clear()
                for message in bus.history(last):
                    yield sse_message(message)
                    last = message.seq
                    idle = 0.0
                try:
                    await asyncio.wait_for(wake.wait(), timeout=STREAM_POLL_SECONDS)
                except asyncio.TimeoutError:
                    idle += STREAM_POLL_SECONDS
                    if idle >= KEEPALIVE_SECONDS:
                        idle = 0.0
                        yield ": keep-alive\n\n"
                    if await request.is_disconnected():
                        break
        finally:
            unsubscribe()
