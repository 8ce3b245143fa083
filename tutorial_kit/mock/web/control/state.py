"""The control plane's endpoints on the model: reset, seed, state, request log, event stream,
clock and faults (the table is in the package's docstring)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.model.events import Message

from ..answer import CORS_HEADERS, Answer
from ..envelope import Context
from .plane import ControlPlane, int_arg, number_arg

#: How often an idle event stream sends a comment, so proxies keep it open.
KEEPALIVE_SECONDS = 15.0
#: How often a stream checks whether the server is stopping.
STREAM_POLL_SECONDS = 0.5
#: What ``GET /mock/v1/`` lists.
ENDPOINTS = ["POST /mock/v1/reset", "POST /mock/v1/seed", "GET /mock/v1/state",
             "GET /mock/v1/requests", "GET /mock/v1/events", "GET|POST /mock/v1/clock",
             "GET|POST|DELETE /mock/v1/faults"]


def sse_message(message: Message) -> str:
    """One bus message as a Server-Sent Event."""
    data = {"exchange": message.exchange, "routingKey": message.routing_key,
            "payload": message.payload, "cc": list(message.cc)}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {message.seq}\nevent: message\ndata: {text}\n\n"


def state_routes(plane: ControlPlane) -> list[BaseRoute]:
    """The model's control routes, relative to the ``/mock/v1`` mount."""
    s = plane.services
    backend = s.backend

    async def index(request: Request) -> Answer:
        # Open to everyone, also in strict mode: it says what this server is (the tutorial's
        # mock, or a classroom's), which a learner's connect() and doctor() tell them, and
        # nothing that could change it.
        return s.json_response({"service": "tutorial-kit mock queue", "mode": s.mode,
                                "endpoints": ENDPOINTS, "strict": s.strict})

    def reset(_r: Request, _d: Any) -> Any:
        backend.reset()
        if s.faults is not None:
            s.faults.clear()
        return {"reset": True}

    def seed(_r: Request, data: dict[str, Any]) -> Any:
        number = int_arg(data.get("seed"), "seed")
        backend.seed(number)
        return {"seed": number}

    def requests(r: Request, _d: Any) -> Any:
        since = int_arg(r.query_params.get("since"), "since", default=0)
        limit = int_arg(r.query_params.get("limit"), "limit", minimum=1, maximum=10000,
                        default=1000)
        return {"requests": [rec.to_json() for rec in s.request_log.since(since, limit)],
                "last": s.request_log.last_seq}

    def clock(r: Request, data: dict[str, Any]) -> Any:
        model_clock = backend.clock
        if r.method == "POST":
            action = data.get("action", "now")
            try:
                if action == "pause":
                    model_clock.pause()
                elif action == "resume":
                    model_clock.resume()
                elif action == "advance":
                    model_clock.advance(number_arg(data.get("seconds"), "seconds"))
                elif action == "speed":
                    model_clock.set_speed(number_arg(data.get("factor"), "factor"))
                elif action == "reset":
                    model_clock.reset()
                elif action != "now":
                    raise QueueError("InputError",
                                     f"unknown clock action {action!r}; use pause, resume, "
                                     "advance (with seconds), speed (with factor), reset or now")
            except ValueError as exc:
                raise QueueError("InputError", str(exc)) from None
            if action != "now":
                # Run the resolvers at once, so a jump past a deadline shows immediately.
                backend.tick()
        return model_clock.state()

    def faults(r: Request, data: dict[str, Any]) -> Any:
        armed = plane.faults()
        if r.method == "POST":
            armed.arm(data)  # Faults.arm's JSON; a FaultError is an InputError
        elif r.method == "DELETE":
            armed.clear()
        return armed.describe()

    def fired_faults(_r: Request, _d: Any) -> Any:
        """The faults that fired lately, as readable lines, and a number that moves whenever a
        fault is armed, fires or is removed (a fault list redraws when it moves)."""
        armed = plane.faults()
        return {"fired": armed.fired(), "version": armed.version}

    def remove_fault(r: Request, _d: Any) -> Any:
        armed = plane.faults()
        if not armed.remove(r.path_params["fault_id"]):
            raise QueueError("ResourceNotFound", "No such fault")
        return armed.describe()

    async def events(request: Request) -> Answer | Response:
        try:
            plane.allowed(request)
            header = request.headers.get("last-event-id")
            since = int_arg(request.query_params.get("since", header), "since", default=0)
        except QueueError as err:
            return s.error_response(err, Context(name="mock.events"))
        headers = {**CORS_HEADERS, "cache-control": "no-cache", "x-accel-buffering": "no"}
        return StreamingResponse(stream(request, since), media_type="text/event-stream",
                                 headers=headers)

    async def stream(request: Request, since: int) -> AsyncIterator[str]:
        bus = backend.bus
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        # The bus history is the source of truth (ordered by seq); a subscription only wakes us.
        unsubscribe = bus.subscribe(lambda _m: loop.call_soon_threadsafe(wake.set))
        last = since
        idle = 0.0
        try:
            yield ": connected\n\n"
            while not s.closed:
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

    return [
        Route("/", index, methods=["GET"]),
        plane.route("/reset", "reset", reset, ["POST"]),
        plane.route("/seed", "seed", seed, ["POST"]),
        plane.route("/state", "state", lambda _r, _d: backend.dump(), ["GET"]),
        plane.route("/requests", "requests", requests, ["GET"]),
        Route("/events", events, methods=["GET"]),
        plane.route("/clock", "clock", clock, ["GET", "POST"]),
        plane.route("/faults", "faults", faults, ["GET", "POST", "DELETE"]),
        plane.route("/faults/fired", "faults", fired_faults, ["GET"]),
        plane.route("/faults/{fault_id:int}", "faults", remove_fault, ["DELETE"]),
    ]
