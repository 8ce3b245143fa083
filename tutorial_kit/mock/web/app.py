"""The mock queue's HTTP layer: translate HTTP to :class:`Call` and :class:`Reply` and back.

Routing follows :data:`tutorial_kit.api.ENTRIES` over the *raw* path (so ``%2F`` inside a
parameter never splits it), and the checks run in the real service's order (QUEUE-FACTS §0):

1. body parse (``MalformedPayload``, ``InputTooLarge``);
2. authentication, and the scope check when the expression only needs URL parameters;
3. URL-parameter patterns, 4. query-string keys and patterns (``InvalidRequestArguments``);
5. the input schema (``InputValidationError``, defaults filled in);
6. fault injection, then the model (``backend.handle``), which may check scopes itself.

Errors use Taskcluster's envelope ``{code, message, requestInfo}`` with the message footer
(``envelope.py``); unknown routes answer ``{"error": "Not found"}``. Nothing escapes as a bare
500: any exception becomes ``InternalServerError`` with an incident id, and is logged.

:class:`QueueApp` serves the Queue API itself and mounts the other groups of routes (Object
service, storage, documents, control plane, inspector), each built from the one
:class:`~.services.Services` of this mock, on the first request for one of them.
"""

from __future__ import annotations

import asyncio
import copy
import pathlib
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request, empty_receive

from tutorial_kit import api
from tutorial_kit.mock.model.call import Call, Reply
from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.model.events import Message
from tutorial_kit.mock.security import scopes as _scopes
from tutorial_kit.mock.security.auth import Authenticator

from .answer import NONE, Answer, ReplyCache, request_id
from .envelope import API_BASE, MAX_BODY, Context, not_found, preflight, query_string, raw_path
from .receive import check_params, check_query, receive
from .requestlog import RequestLog
from .services import Services
from .validation import InputValidationError

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from tutorial_kit.mock.model.contract import QueueModel
    from tutorial_kit.mock.sim.faults import Faults

    from .validation import Validator

__all__ = ["QueueApp", "ApiRequest", "match_route"]


def _route_index() -> dict[tuple[str, str], list[api.Entry]]:
    """The entries by verb and first path segment (every route starts with a literal one)."""
    index: dict[tuple[str, str], list[api.Entry]] = {}
    for entry in api.ENTRIES:
        first = entry.route.split("/")[1]
        assert "<" not in first, entry.route
        index.setdefault((entry.method, first), []).append(entry)
    return index


_ROUTES = _route_index()
#: each group's entries with their regexes, compiled when a request first needs the group
#: (compiling them all cost a mock's start about 7 ms)
_COMPILED: dict[tuple[str, str], list[tuple[api.Entry, re.Pattern[str]]]] = {}


def match_route(http_method: str, raw_route: str) -> tuple[api.Entry, dict[str, str]] | None:
    """The entry for a verb and a raw (percent-encoded) route, with its raw parameters."""
    first = raw_route.split("/", 2)[1] if raw_route.startswith("/") else ""
    key = (http_method.lower(), first)
    group = _COMPILED.get(key)
    if group is None:
        if key not in _ROUTES:
            return None  # (and no entry kept for a path nobody serves)
        # two threads may both compile a group: the same result either way
        group = _COMPILED[key] = [(entry, entry.regex()) for entry in _ROUTES[key]]
    for entry, regex in group:
        m = regex.match(raw_route)
        if m:
            return entry, m.groupdict()
    return None


class KnownRoutes:
    """Raw routes already met whose URL parameters matched their patterns -> (entry, raw
    parameters). A learner polls one URL over and over; matching it (a regex per candidate
    route) and checking its parameters (a regex each) gives the same answer every time.
    Bounded: emptied when full. Used from the server's event loop only."""

    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[api.Entry, dict[str, str]]] = {}

    def get(self, verb: str, route: str) -> tuple[api.Entry, dict[str, str]] | None:
        return self._known.get((verb, route))

    def add(self, verb: str, route: str, found: tuple[api.Entry, dict[str, str]]) -> None:
        """Remember a route whose parameters passed :func:`.receive.check_params`."""
        if len(self._known) >= self.MAX_ENTRIES:
            self._known.clear()
        self._known[verb, route] = found


class ApiRequest(Request):
    """Starlette's request, with the headers as one plain ``dict`` (lower-case names, the first
    of repeated ones): the API path reads several headers per request, and a dict answers
    each at once where Starlette's ``Headers`` scans the list every time. Every API request
    reads some, so the dict is built with the request."""

    def __init__(self, scope: dict, receive: Callable = empty_receive) -> None:
        super().__init__(scope, receive)
        self._header_dict = {k.decode("latin-1"): v.decode("latin-1")
                             for k, v in reversed(scope["headers"])}

    @property
    def headers(self) -> dict[str, str]:  # type: ignore[override]
        return self._header_dict


#: Methods whose scope expression URL parameters alone satisfy: checked before the handler, as
#: upstream does (which is why they answer 403 before 404).
_UP_FRONT = frozenset(e.name for e in api.ENTRIES if e.scopes is not None
                      and _scopes.required_params(e.scopes) <= set(e.args))


class QueueApp:
    """The ASGI application of one mock queue.

    ``backend`` is the model (:class:`~tutorial_kit.mock.model.contract.QueueModel`);
    ``validator`` the validation contract (may be None: no input validation or schema
    documents). ``check_output`` validates every reply against its output schema and turns a
    mismatch into a 500 (on in tests). ``claim_wait`` is how long an empty ``claimWork`` waits
    for work. ``strict`` closes the control plane to anyone but the tutorial client
    (``control_client_id``); ``mode`` is what the server says it is. The parts are kept in
    :attr:`services`, which the host completes with the cluster once it runs.
    """

    def __init__(self, backend: QueueModel, *, authenticator: Authenticator | None = None,
                 validator: Validator | None = None, faults: Faults | None = None,
                 prefix: str = "", claim_wait: float = 20.0, check_output: bool = False,
                 request_log: RequestLog | None = None, strict: bool = False,
                 control_client_id: str | None = "tutorial",
                 public_root_url: str | None = None, mode: str = "mock",
                 dashboard_file: pathlib.Path | None = None) -> None:
        self.services = Services(
            backend=backend, authenticator=authenticator or Authenticator(),
            request_log=request_log if request_log is not None else RequestLog(),
            validator=validator, faults=faults,
            prefix="/" + prefix.strip("/") if prefix.strip("/") else "", strict=strict,
            control_client_id=control_client_id, check_output=check_output,
            public_root_url=public_root_url.rstrip("/") if public_root_url else None, mode=mode,
            dashboard_file=dashboard_file)
        self.claim_wait = claim_wait
        self._api_base = self.prefix + API_BASE
        self._api_root = self._api_base + "/"
        self._reads = ReplyCache(backend)
        self._known_routes = KnownRoutes()
        self.long_polls = 0  # claimWork calls waiting for work right now
        self._starlette: Starlette | None = None
        self._starlette_lock = threading.Lock()

    # -- the parts the hosts read ----------------------------------------------------------
    @property
    def backend(self) -> QueueModel:
        return self.services.backend

    @property
    def prefix(self) -> str:
        return self.services.prefix

    @property
    def request_log(self) -> RequestLog:
        return self.services.request_log

    @property
    def faults(self) -> Faults | None:
        return self.services.faults

    @property
    def authenticator(self) -> Authenticator:
        return self.services.authenticator

    # -- ASGI ------------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        # The Queue API skips Starlette's router and middleware: it routes on the raw path
        # itself (see _dispatch) and turns every failure into an envelope, and a learner's
        # status poll is the busiest request the mock serves.
        if scope["type"] == "http" and scope["path"].startswith(self._api_root):
            answer = await self._api(ApiRequest(scope, receive))
            await answer(scope, receive, send)
        else:
            await self.starlette(scope, receive, send)

    @property
    def starlette(self) -> Starlette:
        """Starlette, routing everything but the Queue API (Object service, storage, documents,
        control plane, inspector, dashboard), built on the first request for one of them: a
        mock started by a kernel's first cell serves createTask and status without it."""
        built = self._starlette
        if built is None:
            with self._starlette_lock:
                if self._starlette is None:
                    self._starlette = self._build_starlette()
                built = self._starlette
        return built

    def _build_starlette(self) -> Starlette:
        from starlette.applications import Starlette

        built = Starlette(routes=self._routes(),
                          exception_handlers={404: self._not_found, 405: self._not_found,
                                              Exception: self._crash})
        # '/api/queue/v1' and '/api/queue/v1/' are unknown routes, not redirects.
        built.router.redirect_slashes = False
        return built

    def close(self) -> None:
        """Ask long polls and event streams to finish (the server is stopping)."""
        self.services.closed = True
        for hook in self.services.on_close:
            hook()

    @property
    def closed(self) -> bool:
        return self.services.closed

    def _routes(self) -> list[BaseRoute]:
        from starlette.routing import Mount

        from tutorial_kit.mock.web.inspector_routes import inspector_routes

        from .control import control_routes
        from .document_routes import document_routes
        from .object_routes import object_routes
        from .storage_routes import storage_routes

        s = self.services
        return [  # (the Queue API itself is served by __call__)
            *document_routes(s),
            *storage_routes(s),
            *object_routes(s),
            # the task inspector at a deployment UI's paths, and the classroom dashboard
            *inspector_routes(s),
            Mount(s.prefix + "/mock/v1", routes=control_routes(s)),
        ]

    async def _not_found(self, request: Request, exc: Exception) -> Answer:
        return not_found()

    async def _crash(self, request: Request, exc: Exception) -> Answer:
        return self.services.internal_error(Context(), exc)

    # -- /api/queue/v1 ---------------------------------------------------------------------
    async def _api(self, request: Request) -> Answer:
        s = self.services
        started = time.perf_counter()
        arrived = s.now()
        ctx = Context()
        raw = raw_path(request)
        qs = query_string(request)
        try:
            response = await self._dispatch(request, ctx, raw, qs)
        except QueueError as err:
            response = s.error_response(err, ctx)
        except ClientDisconnect:  # the caller went away mid-body: nobody to answer, nothing to log
            response = Answer(b"", 400, content_type=None, fixed=NONE)
        except Exception as exc:  # the last line of defence: never a bare 500 or a dead server
            response = s.internal_error(ctx, exc)
        rid = request_id()
        response.headers["x-for-request-id"] = rid
        response.headers["x-for-trace-id"] = request.headers.get("x-for-trace-id") or rid
        caller = ctx.caller
        s.request_log.record(
            time=arrived, method=ctx.name, http_method=request.scope["method"], route=raw,
            query_string=qs, status=response.status_code,
            latency_ms=(time.perf_counter() - started) * 1000,
            client_id=caller.client_id if caller is not None and caller.error is None else None)
        return response

    async def _dispatch(self, request: Request, ctx: Context, raw: str,
                        query_string: str) -> Answer:
        s = self.services
        method = request.scope["method"]
        if method == "OPTIONS":
            return preflight()
        base = self._api_base
        route = raw[len(base):] if raw.startswith(base) else raw
        verb = "GET" if method == "HEAD" else method
        found = self._known_routes.get(verb, route)
        checked = found is not None  # its URL parameters matched their patterns before
        if found is None:
            found = match_route(verb, route)
            if found is None:
                return not_found()
        entry, raw_params = found
        # 1. the body, 2. who is calling
        payload, caller, query_string = await receive(s.authenticator, request, ctx, entry,
                                                      raw_params, query_string, MAX_BODY)
        # scopes first when URL parameters are enough to check them
        if entry.name in _UP_FRONT:
            caller.authorize(entry.scopes, ctx.params)

        # 3. URL parameters, 4. the query string
        if not checked:
            check_params(ctx.params)
            self._known_routes.add(verb, route, found)
        query = check_query(entry, query_string)

        # 5. the input schema (defaults filled in)
        body: Any = None
        if entry.input:
            body = copy.deepcopy(payload if payload is not None else {})
            ctx.payload = body  # the envelope shows the payload with defaults, as upstream
            if s.validator is not None:
                try:
                    body = s.validator.validate_input(entry.input, body,
                                                      root_url=s.root_url(request))
                except InputValidationError as err:
                    # The envelope shows the payload with the defaults filled in, as upstream.
                    ctx.payload = err.payload
                    raise
                ctx.payload = body
        elif payload is not None:
            body = payload  # e.g. the legacy {"success": false} of reportCompleted

        # 6. faults, then the model (or its last answer, while the state is unchanged)
        if s.faults is not None and s.faults.armed:
            injected = await s.faults.apply(entry.name)
            if injected is not None:
                raise injected
        cached, version = self._reads.lookup(entry.name, ctx.params)
        if cached is None:
            params: dict[str, Any] = dict(ctx.params)
            if "runId" in params:
                params["runId"] = int(params["runId"])
            call = Call(entry=entry, params=params, query=query, body=body, caller=caller,
                        root_url=s.root_url(request))
            reply = await self._handle(call, request)
        # A handler that never checked scopes must not let a bad signature through.
        if caller.error is not None and entry.scopes is not None:
            raise caller.error
        if cached is not None:
            return Answer(cached)
        answer = self._reply(entry, reply, ctx)
        if answer.status_code == 200 and not answer.headers:
            self._reads.put(entry.name, ctx.params, version, answer.body)
        return answer

    async def _handle(self, call: Call, request: Request) -> Reply:
        reply = self.backend.handle(call)
        if call.entry.name == "claimWork":
            reply = await self._long_poll(call, reply, request)
        return reply

    async def _long_poll(self, call: Call, reply: Reply, request: Request) -> Reply:
        """An empty claimWork waits for work up to ``claim_wait`` seconds, like the real queue."""
        def empty(r: Reply) -> bool:
            return (r.status == 200 and isinstance(r.body, dict) and r.body.get("tasks") == [])

        if not empty(reply) or self.claim_wait <= 0:
            return reply
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def on_message(message: Message) -> None:
            if message.exchange.endswith("task-pending"):
                loop.call_soon_threadsafe(wake.set)

        unsubscribe = self.backend.bus.subscribe(on_message)
        self.long_polls += 1
        try:
            deadline = time.monotonic() + self.claim_wait
            while empty(reply) and not self.services.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    # Woken at once by a task-pending message; otherwise poll, since a task
                    # may also become claimable by time passing (a retry, a resolved claim).
                    await asyncio.wait_for(wake.wait(), timeout=min(0.05, remaining))
                except asyncio.TimeoutError:
                    pass
                wake.clear()
                if await request.is_disconnected():
                    break
                reply = self.backend.handle(call)
        finally:
            self.long_polls -= 1
            unsubscribe()
        return reply

    def _reply(self, entry: api.Entry, reply: Reply, ctx: Context) -> Answer:
        if not isinstance(reply, Reply):
            return self.services.internal_error(
                ctx, detail=f"{entry.name} returned {type(reply).__name__}, not a Reply")
        validator = self.services.validator
        if (self.services.check_output and validator is not None and entry.output
                and reply.status in (200, 303) and reply.body is not None):
            errors = validator.output_errors(entry.output, reply.body)
            if errors:
                return self.services.internal_error(
                    ctx, detail=f"Output of {entry.name} does not match {entry.output}:\n"
                                + "\n".join(f"  * {e}" for e in errors))
        body = None if reply.status == 204 else reply.body
        return self.services.json_response(body, reply.status, reply.headers)
