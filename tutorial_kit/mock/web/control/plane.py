"""The one door of the control plane: guard, body, envelope.

:class:`ControlPlane` turns a handler ``(request, body) -> result`` into a Starlette endpoint:
strict mode's guard first, then the body (a JSON object through the one parser,
:func:`..envelope.parse_json_object`, or the raw bytes for a scenario file), then the handler;
a dict comes back as JSON with the Queue API's headers, and every refusal as Taskcluster's
envelope ``{code, message, requestInfo}``: the model's ``QueueError`` as it is, a bad fault or
scenario as ``InputError`` (400), a missing part (no workers, no fault injection) as
``RequestConflict`` (409), anything else as ``InternalServerError`` with an incident id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.security.auth import HawkRequest
from tutorial_kit.mock.sim.faults import FaultError
from tutorial_kit.mock.sim.scenario import ScenarioError

from ..answer import Answer
from ..envelope import Context, parse_json_object, query_string, raw_path
from ..services import Services

Handler = Callable[[Request, Any], Any]
Endpoint = Callable[[Request], Awaitable[Answer | Response]]


class ControlPlane:
    """The control plane's plumbing around the parts of one mock queue."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def allowed(self, request: Request, body: bytes = b"") -> None:
        """Raise QueueError 401/403 unless this request may use the control plane.

        Open by default (loopback teaching setup). In strict mode the caller must sign the
        request as the tutorial client (``services.control_client_id``).
        """
        s = self.services
        if not s.strict:
            return
        hawk = HawkRequest(method=request.method, path=raw_path(request),
                           query=query_string(request), host=request.headers.get("host"),
                           scheme=request.url.scheme,
                           authorization=request.headers.get("authorization"), body=body,
                           content_type=request.headers.get("content-type"))
        caller, _ = s.authenticator.authenticate(hawk)
        if caller.client_id is None or caller.client_id != s.control_client_id:
            raise QueueError("InsufficientScopes",
                             "This mock queue runs in strict mode: its control plane (/mock/v1) "
                             "only answers requests signed by the client "
                             f"{s.control_client_id!r}.")

    def route(self, path: str, name: str, handler: Handler, methods: list[str], *,
              body: Literal["json", "raw"] = "json") -> Route:
        """A guarded route; ``name`` is the method the error envelope names (``mock.<name>``)."""
        return Route(path, self.endpoint(name, handler, body=body), methods=methods)

    def endpoint(self, name: str, handler: Handler, *,
                 body: Literal["json", "raw"] = "json") -> Endpoint:
        async def run(request: Request) -> Answer | Response:
            ctx = Context(name=f"mock.{name}",
                          params={k: str(v) for k, v in request.path_params.items()})
            try:
                data: Any = await request.body()
                self.allowed(request, data)
                if body == "json":
                    data = ctx.payload = parse_json_object(data)
                result = handler(request, data)
                if asyncio.iscoroutine(result):
                    result = await result
                if isinstance(result, (Answer, Response)):
                    return result
                return self.services.json_response(result)
            except Exception as exc:  # every refusal in the envelope, never a traceback
                return self.refusal(exc, ctx)
        return run

    def refusal(self, exc: Exception, ctx: Context) -> Answer:
        """The envelope for what a control endpoint raised."""
        if isinstance(exc, (FaultError, ScenarioError)):
            exc = QueueError("InputError", str(exc))
        elif isinstance(exc, LookupError) and not isinstance(exc, QueueError):
            exc = QueueError("RequestConflict", str(exc.args[0] if exc.args else exc))
        if isinstance(exc, QueueError):
            return self.services.error_response(exc, ctx)
        return self.services.internal_error(ctx, exc)

    # -- the parts a route may need, or a clear 409 -------------------------------------------
    def faults(self) -> Any:
        found = self.services.faults
        if found is None:
            raise LookupError("this mock queue runs without fault injection")
        return found

    def cluster(self) -> Any:
        found = self.services.cluster
        if found is None:
            raise LookupError("this mock queue runs without workers (start it with workers=True)")
        return found


def int_arg(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None,
            default: int | None = None) -> int:
    """An integer argument (a query parameter or a body field), or ``InputError``."""
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


def number_arg(value: Any, name: str) -> float:
    """A number from the body, or ``InputError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueueError("InputError", f"`{name}` must be a number, not {value!r}")
    return float(value)
