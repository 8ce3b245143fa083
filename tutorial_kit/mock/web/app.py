"""The mock queue's HTTP layer: translate HTTP to :class:`Call` and :class:`Reply` and back.

Routing follows :data:`tutorial_kit.api.ENTRIES` over the *raw* path (so ``%2F`` inside a
parameter never splits it), and the checks run in the real service's order (QUEUE-FACTS §0):

1. body parse (``MalformedPayload``, ``InputTooLarge``);
2. authentication, and the scope check when the expression only needs URL parameters;
3. URL-parameter patterns, 4. query-string keys and patterns (``InvalidRequestArguments``);
5. the input schema (``InputValidationError``, defaults filled in);
6. fault injection, then the model (``backend.handle``), which may check scopes itself.

Errors use Taskcluster's envelope ``{code, message, requestInfo}`` with the message footer;
unknown routes answer ``{"error": "Not found"}``. Nothing escapes as a bare 500: any exception
becomes ``InternalServerError`` with an incident id, and is logged.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Mount, Route

from tutorial_kit import api

from tutorial_kit.mock.security import scopes as _scopes
from .answer import CORS, CORS_HEADERS, NONE, Answer, ReplyCache, request_id
from tutorial_kit.mock.security.auth import Authenticator, Caller, HawkRequest
from tutorial_kit.mock.model.call import Call, Reply
from tutorial_kit.dates import to_json
from tutorial_kit.mock.model.errors import QueueError
from .requestlog import RequestLog

log = logging.getLogger("tutorial_kit.mock")

API_BASE = f"/api/{api.SERVICE_NAME}/{api.API_VERSION}"
MAX_BODY = 10 * 1024 * 1024  # the real service's JSON body limit
MAX_BLOB = 256 * 1024 * 1024  # what the mock's s3 stand-in accepts in one PUT

def _route_index() -> dict[tuple[str, str], list[tuple[api.Entry, re.Pattern[str]]]]:
    """The entries by verb and first path segment (every route starts with a literal one)."""
    index: dict[tuple[str, str], list[tuple[api.Entry, re.Pattern[str]]]] = {}
    for entry in api.ENTRIES:
        first = entry.route.split("/")[1]
        assert "<" not in first, entry.route
        index.setdefault((entry.method, first), []).append((entry, entry.regex()))
    return index


_ROUTES = _route_index()
_MONITORING = {"ping", "lbheartbeat", "version", "heartbeat"}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_json(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(body: Any, *, indent: int | None = None) -> bytes:
    """Compact JSON (or indented, for schema documents), UTF-8."""
    if indent is None:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    else:
        text = json.dumps(body, indent=indent, ensure_ascii=False, default=_json_default)
    return text.encode("utf-8")


def footer(method: str, code: str, status: int, when: str) -> str:
    """The block the real service appends to every error message."""
    return (f"\n\n---\n\n* method:     {method}\n* errorCode:  {code}\n"
            f"* statusCode: {status}\n* time:       {when}")


def match_route(http_method: str, raw_route: str) -> tuple[api.Entry, dict[str, str]] | None:
    """The entry for a verb and a raw (percent-encoded) route, with its raw parameters."""
    first = raw_route.split("/", 2)[1] if raw_route.startswith("/") else ""
    for entry, regex in _ROUTES.get((http_method.lower(), first), ()):
        m = regex.match(raw_route)
        if m:
            return entry, m.groupdict()
    return None


class ApiRequest(Request):
    """Starlette's request, with the headers as one plain ``dict`` (lower-case names, the first
    of repeated ones): the API path reads several headers per request, and a dict answers
    each at once where Starlette's ``Headers`` scans the list every time."""

    @property
    def headers(self) -> dict[str, str]:  # type: ignore[override]
        cached = self.__dict__.get("_header_dict")
        if cached is None:
            cached = self.__dict__["_header_dict"] = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in reversed(self.scope["headers"])}
        return cached


class _Context:
    """What is known about a request so far (for the error envelope and the request log)."""

    __slots__ = ("name", "params", "payload", "caller")

    def __init__(self, name: str | None = None, params: dict[str, str] | None = None) -> None:
        self.name = name
        self.params: dict[str, str] = params if params is not None else {}
        self.payload: Any = {}
        self.caller: Caller | None = None


#: Methods whose scope expression URL parameters alone satisfy: checked before the handler, as
#: upstream does (which is why they answer 403 before 404).
_UP_FRONT = frozenset(e.name for e in api.ENTRIES if e.scopes is not None
                      and _scopes.required_params(e.scopes) <= set(e.args))

class QueueApp:
    """The ASGI application of one mock queue.

    ``backend`` implements the model contract (``implements``, ``handle``, ``clock``, ``bus``,
    ``put_blob``/``get_blob``); ``validator`` the validation contract (may be None: no input
    validation or schema documents). ``check_output`` validates every reply against its output
    schema and turns a mismatch into a 500 (on in tests). ``claim_wait`` is how long an empty
    ``claimWork`` waits for work. ``strict`` closes the control plane to anyone but the
    tutorial client (see ``control.py``).
    """

    def __init__(self, backend: Any, *, authenticator: Authenticator | None = None,
                 validator: Any = None, faults: Any = None, prefix: str = "",
                 claim_wait: float = 20.0, check_output: bool = False,
                 request_log: RequestLog | None = None, strict: bool = False,
                 control_client_id: str | None = "tutorial",
                 public_root_url: str | None = None) -> None:
        self.backend = backend
        self.authenticator = authenticator or Authenticator()
        self.validator = validator
        self.faults = faults
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.claim_wait = claim_wait
        self.check_output = check_output
        self.request_log = request_log if request_log is not None else RequestLog()
        self.strict = strict
        self.control_client_id = control_client_id
        self.public_root_url = public_root_url.rstrip("/") if public_root_url else None
        self.started = time.monotonic()
        self._api_root = self.prefix + API_BASE + "/"
        self._reads = ReplyCache(backend)
        self.long_polls = 0  # claimWork calls waiting for work right now
        self.cluster: Any = None  # the simulated cluster (workers.Cluster), once started
        self.livelogs: Any = None  # the cluster's live logs (workers.livelog.LiveLogs), if any
        self._closed = False
        self.on_close: list[Callable[[], None]] = []  # e.g. the dashboard saves its history
        self.starlette = Starlette(routes=self._routes(),
                                   exception_handlers={404: self._not_found,
                                                       405: self._not_found,
                                                       Exception: self._crash})
        # '/api/queue/v1' and '/api/queue/v1/' are unknown routes, not redirects.
        self.starlette.router.redirect_slashes = False

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

    def close(self) -> None:
        """Ask long polls and event streams to finish (the server is stopping)."""
        self._closed = True
        for hook in self.on_close:
            hook()

    @property
    def closed(self) -> bool:
        return self._closed

    def _routes(self) -> list[BaseRoute]:
        from .control import control_routes
        from tutorial_kit.inspector.routes import inspector_routes
        from .object_routes import object_routes

        p = self.prefix
        return [  # (the Queue API itself is served by __call__)
            Route(p + "/api/auth/v1/scopes/current", self._current_scopes, methods=["GET"]),
            Route(p + "/schemas/{path:path}", self._schema, methods=["GET", "HEAD", "OPTIONS"]),
            Route(p + "/references/{path:path}", self._reference,
                  methods=["GET", "HEAD", "OPTIONS"]),
            Route(p + "/mock/v1/blobs/{key:path}", self._blob, methods=["GET", "HEAD", "PUT",
                                                                          "OPTIONS"]),
            Route(p + "/mock/v1/objects/{key:path}", self._object,
                  methods=["GET", "HEAD", "PUT", "OPTIONS"]),
            *object_routes(self),
            Route(p + "/mock/v1/livelog/{taskId}/{runId:int}", self._livelog, methods=["GET"]),
            # the task inspector at a deployment UI's paths, and the classroom dashboard
            *inspector_routes(self),
            Mount(p + "/mock/v1", routes=control_routes(self)),
        ]

    # -- helpers ---------------------------------------------------------------------------
    def now(self) -> datetime:
        clock = getattr(self.backend, "clock", None)
        return clock.now() if clock is not None else datetime.now(timezone.utc)

    def root_url(self, request: Request) -> str:
        if self.public_root_url:
            return self.public_root_url
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return f"{request.scope.get('scheme', 'http')}://{host}{self.prefix}"

    def raw_path(self, request: Request) -> str:
        raw = request.scope.get("raw_path")
        if raw is None:
            return quote(request.scope["path"])
        return raw.decode("latin-1").split("?", 1)[0]

    def json_response(self, body: Any, status: int = 200, headers: dict[str, str] | None = None,
                      *, indent: int | None = None) -> Answer:
        """A JSON answer with the API's headers; ``body`` None is an empty reply (no type)."""
        if body is None:
            return Answer(b"", status, dict(headers or {}), content_type=None)
        return Answer(dump_json(body, indent=indent), status, dict(headers or {}))

    def error_response(self, error: QueueError, ctx: _Context) -> Answer:
        when = to_json(self.now())
        name = ctx.name or "unknown"
        body = {
            "code": error.code,
            "message": error.message + footer(name, error.code, error.status, when),
            "requestInfo": {"method": name, "params": dict(ctx.params),
                            "payload": ctx.payload if ctx.payload is not None else {},
                            "time": when},
        }
        headers = dict(error.headers)
        if error.status == 401:
            headers.setdefault("www-authenticate", "hawk")
        return self.json_response(body, error.status, headers)

    def internal_error(self, ctx: _Context, exc: BaseException | None = None,
                       detail: str = "") -> Answer:
        incident = str(uuid.uuid4())
        if exc is not None:
            log.error("incident %s in %s", incident, ctx.name or "request", exc_info=exc)
        else:
            log.error("incident %s in %s: %s", incident, ctx.name or "request", detail)
        message = f"Internal Server Error, incidentId {incident}."
        if detail and self.check_output:
            message += "\n" + detail
        return self.error_response(QueueError("InternalServerError", message), ctx)

    async def _not_found(self, request: Request, exc: Exception) -> Answer:
        return self.json_response({"error": "Not found"}, 404)

    async def _crash(self, request: Request, exc: Exception) -> Answer:
        return self.internal_error(_Context(), exc)

    def _preflight(self) -> Answer:
        return Answer(b"", 204, content_type=None)

    # -- /api/queue/v1 ---------------------------------------------------------------------
    async def _api(self, request: Request) -> Answer:
        started = time.perf_counter()
        arrived = self.now()
        ctx = _Context()
        raw = self.raw_path(request)
        query_string = request.scope.get("query_string", b"").decode("latin-1")
        try:
            response = await self._dispatch(request, ctx, raw, query_string)
        except QueueError as err:
            response = self.error_response(err, ctx)
        except ClientDisconnect:  # the caller went away mid-body: nobody to answer, nothing to log
            response = Answer(b"", 400, content_type=None, fixed=NONE)
        except Exception as exc:  # the last line of defence: never a bare 500 or a dead server
            response = self.internal_error(ctx, exc)
        rid = request_id()
        response.headers["x-for-request-id"] = rid
        response.headers["x-for-trace-id"] = request.headers.get("x-for-trace-id") or rid
        caller = ctx.caller
        self.request_log.record(
            time=arrived, method=ctx.name, http_method=request.method, route=raw,
            query_string=query_string, status=response.status_code,
            latency_ms=(time.perf_counter() - started) * 1000,
            client_id=caller.client_id if caller is not None and caller.error is None else None)
        return response

    async def _dispatch(self, request: Request, ctx: _Context, raw: str,
                        query_string: str) -> Answer:
        if request.method == "OPTIONS":
            return self._preflight()
        base = self.prefix + API_BASE
        route = raw[len(base):] if raw.startswith(base) else raw
        verb = "GET" if request.method == "HEAD" else request.method
        found = match_route(verb, route)
        if found is None:
            return self.json_response({"error": "Not found"}, 404)
        entry, raw_params = found
        # 1. the body, 2. who is calling
        payload, caller, query_string = await self._receive(request, ctx, entry, raw_params,
                                                            query_string, MAX_BODY)
        # scopes first when URL parameters are enough to check them
        if entry.name in _UP_FRONT:
            caller.authorize(entry.scopes, ctx.params)

        # 3. URL parameters, 4. the query string
        self._check_params(ctx.params)
        query = self._check_query(entry, query_string)

        # 5. the input schema (defaults filled in)
        body: Any = None
        if entry.input:
            body = copy.deepcopy(payload if payload is not None else {})
            ctx.payload = body  # the envelope shows the payload with defaults, as upstream
            if self.validator is not None:
                try:
                    body = self.validator.validate_input(entry.input, body,
                                                         root_url=self.root_url(request))
                except QueueError as err:
                    # The envelope shows the payload with the defaults filled in, as upstream.
                    ctx.payload = getattr(err, "payload", ctx.payload)
                    raise
                ctx.payload = body
        elif payload is not None:
            body = payload  # e.g. the legacy {"success": false} of reportCompleted

        # 6. faults, then the model (or its last answer, while the state is unchanged)
        if self.faults is not None:
            injected = await self.faults.apply(entry.name)
            if injected is not None:
                raise injected
        cached, version = self._reads.lookup(entry.name, ctx.params)
        if cached is None:
            params: dict[str, Any] = dict(ctx.params)
            if "runId" in params:
                params["runId"] = int(params["runId"])
            call = Call(entry=entry, params=params, query=query, body=body, caller=caller,
                        root_url=self.root_url(request))
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

    async def _read_body(self, request: Request, limit: int) -> bytes:
        declared = request.headers.get("content-length")
        if declared is None and "transfer-encoding" not in request.headers:
            return b""  # HTTP/1.1: a request with neither header has no body
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise QueueError("InputTooLarge", f"The request body is larger than {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise QueueError("InputTooLarge", f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _parse_body(entry: api.Entry, data: bytes, content_type: str | None) -> Any:
        """The JSON body, None when empty; MalformedPayload when it is not JSON."""
        is_json = (content_type or "").split(";")[0].strip().lower() == "application/json"
        if not data.strip():
            return None
        if not is_json:
            if entry.input:
                raise QueueError("MalformedPayload",
                                 "Payload must be JSON with content-type: application/json "
                                 f"(got {content_type or 'no content-type'!s})")
            return None  # a body on a method without input is ignored, as upstream
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise QueueError("MalformedPayload", f"Failed to parse JSON body: {exc}") from None
        if not isinstance(value, (dict, list)):
            raise QueueError("MalformedPayload", "The JSON body must be an object or an array")
        return value

    def _authenticate(self, request: Request, data: bytes, content_type: str | None,
                      query_string: str) -> tuple[Caller, str]:
        if "authorization" not in request.headers and "bewit=" not in query_string:
            return self.authenticator.anonymous(), query_string  # the common read: no Hawk
        hawk = HawkRequest(method=request.method, path=self.raw_path(request),
                           query=query_string, host=request.headers.get("host"),
                           scheme=request.url.scheme,
                           authorization=request.headers.get("authorization"),
                           body=data, content_type=content_type)
        try:
            return self.authenticator.authenticate(hawk)
        except QueueError as err:
            # Remember the failure; it is raised when scopes are checked (see auth.Caller).
            stripped = re.sub(r"(?:^|&)bewit=[^&]*", "", query_string)
            return Caller(None, self.authenticator.anonymous_scopes, error=err), stripped

    async def _receive(self, request: Request, ctx: Any, entry: api.Entry,
                       raw_params: dict[str, str], query_string: str,
                       max_body: int) -> tuple[Any, Any, str]:
        """The first steps of every API call (the Queue's and the Object service's): name the
        call, read and parse the body, authenticate. Returns the parsed payload, the caller
        and the query string without its bewit."""
        ctx.name = entry.name
        ctx.params = {k: unquote(v) for k, v in raw_params.items()}
        content_type = request.headers.get("content-type")
        data = await self._read_body(request, max_body)
        payload = self._parse_body(entry, data, content_type)
        ctx.payload = payload if payload is not None else {}
        caller, query_string = self._authenticate(request, data, content_type, query_string)
        ctx.caller = caller
        return payload, caller, query_string

    @staticmethod
    def _check_params(params: dict[str, str]) -> None:
        errors = []
        for name, value in params.items():
            pattern = api.PARAM_PATTERNS.get(name)
            if pattern and not re.match(pattern, value):
                errors.append(f"URL parameter '{name}' given as '{value}' must match regular "
                              f"expression: '/{pattern}/'")
        if errors:
            raise QueueError("InvalidRequestArguments",
                             "Invalid URL patterns:\n" + "\n".join(errors))

    @staticmethod
    def _check_query(entry: api.Entry, query_string: str) -> dict[str, str]:
        query: dict[str, str] = {}
        if not query_string:
            return query
        errors = []
        for key, value in parse_qsl(query_string, keep_blank_values=True):
            if key not in entry.query:
                errors.append(f"Query-string parameter: {key} is not supported!")
                continue
            pattern = api.QUERY_PATTERNS.get(key)
            if pattern and not re.match(pattern, value):
                errors.append(f"Query-string parameter: {key}=\"{value}\" does not match "
                              f"'/{pattern}/'")
                continue
            query[key] = value
        if errors:
            raise QueueError("InvalidRequestArguments", "\n".join(errors))
        return query

    async def _handle(self, call: Call, request: Request) -> Reply:
        name = call.entry.name
        implements = getattr(self.backend, "implements", None)
        if implements is not None and not implements(name):
            if name in _MONITORING:
                return self._monitoring(name)
            raise QueueError("NotImplemented",
                             f"The mock queue does not implement `{name}` (yet). The method exists "
                             "in the real Queue API; try it against a real deployment.")
        reply = self.backend.handle(call)
        if name == "claimWork":
            reply = await self._long_poll(call, reply, request)
        return reply

    def _monitoring(self, name: str) -> Reply:
        from tutorial_kit import __version__

        if name == "ping":
            return Reply({"alive": True, "uptime": round(time.monotonic() - self.started, 3)})
        if name == "version":
            return Reply({"version": __version__, "commit": "mock", "build": "tutorial-kit",
                          "source": "https://github.com/taskcluster/taskcluster"})
        return Reply({})

    async def _long_poll(self, call: Call, reply: Reply, request: Request) -> Reply:
        """An empty claimWork waits for work up to ``claim_wait`` seconds, like the real queue."""
        def empty(r: Reply) -> bool:
            return (r.status == 200 and isinstance(r.body, dict) and r.body.get("tasks") == [])

        if not empty(reply) or self.claim_wait <= 0:
            return reply
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        unsubscribe = None
        bus = getattr(self.backend, "bus", None)
        if bus is not None:
            def on_message(message: Any) -> None:
                if str(getattr(message, "exchange", "")).endswith("task-pending"):
                    loop.call_soon_threadsafe(wake.set)
            unsubscribe = bus.subscribe(on_message)
        self.long_polls += 1
        try:
            deadline = time.monotonic() + self.claim_wait
            while empty(reply) and not self._closed:
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
            if unsubscribe is not None:
                unsubscribe()
        return reply

    def _reply(self, entry: api.Entry, reply: Reply, ctx: _Context) -> Answer:
        if not isinstance(reply, Reply):
            return self.internal_error(ctx, detail=f"{entry.name} returned {type(reply).__name__}, "
                                                   "not a Reply")
        if (self.check_output and self.validator is not None and entry.output
                and reply.status in (200, 303) and reply.body is not None):
            errors = self.validator.output_errors(entry.output, reply.body)
            if errors:
                return self.internal_error(
                    ctx, detail=f"Output of {entry.name} does not match {entry.output}:\n"
                                + "\n".join(f"  * {e}" for e in errors))
        body = None if reply.status == 204 else reply.body
        return self.json_response(body, reply.status, reply.headers)

    # -- /api/auth/v1/scopes/current ---------------------------------------------------------
    async def _current_scopes(self, request: Request) -> Answer:
        """The auth service's ``currentScopes`` (a deployment serves it beside the queue): the
        scopes the caller's credentials carry, so a learner's self-check can show them."""
        ctx = _Context(name="currentScopes")
        query_string = request.scope.get("query_string", b"").decode("latin-1")
        caller, _query = self._authenticate(request, b"", None, query_string)
        if caller.error is not None:
            return self.error_response(caller.error, ctx)
        return self.json_response({"scopes": list(caller.scopes)})

    # -- /schemas, /references -------------------------------------------------------------
    async def _schema(self, request: Request) -> Answer:
        return self._document(request, "schema_document")

    async def _reference(self, request: Request) -> Answer:
        return self._document(request, "reference_document")

    def _document(self, request: Request, kind: str) -> Answer:
        if request.method == "OPTIONS":
            return self._preflight()
        path = request.path_params["path"]
        doc = None
        if self.validator is not None and ".." not in path.split("/"):
            doc = getattr(self.validator, kind)(path, self.root_url(request))
        if doc is None:
            return self.json_response({"error": "Not found"}, 404)
        response = self.json_response(doc, indent=2)
        response.headers["cache-control"] = "no-cache"
        return response

    # -- live logs of the simulated cluster ------------------------------------------------
    async def _livelog(self, request: Request) -> Any:
        task_id, run_id = request.path_params["taskId"], request.path_params["runId"]
        live = self.livelogs.get(task_id, run_id) if self.livelogs is not None else None
        if live is None:
            return self.json_response({"error": "Not found"}, 404)
        from starlette.responses import StreamingResponse

        from tutorial_kit.mock.model.livelog import follow

        return StreamingResponse(follow(live), media_type="text/plain; charset=utf-8",
                                 headers={**CORS_HEADERS, "cache-control": "no-cache"})

    # -- the s3 stand-in and the object upload ------------------------------------------------
    async def _blob(self, request: Request) -> Answer:
        return await self._storage(request, "/mock/v1/blobs/")

    async def _object(self, request: Request) -> Answer:
        return await self._storage(request, "/mock/v1/objects/")

    async def _storage(self, request: Request, base: str) -> Answer:
        """Plain-HTTP uploads and downloads (no Taskcluster auth; signed URLs instead)."""
        if request.method == "OPTIONS":
            return self._preflight()
        started = time.perf_counter()
        arrived = self.now()
        raw = self.raw_path(request)
        # The model parses the raw (still percent-encoded) key itself (blobs.BlobKey.parse).
        key = raw.split(base, 1)[1]
        query_string = request.scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        ctx = _Context(name="blob" if base.endswith("blobs/") else "object",
                       params={"key": unquote(key)})
        try:
            if request.method == "PUT":
                declared = request.headers.get("content-length")
                if declared is None or not declared.isdigit():
                    raise QueueError("MissingContentLength",
                                     "An upload must send Content-Length (as S3 requires).",
                                     status=411)
                # refuse what the store would refuse before reading it, not after
                limit = min(MAX_BLOB, getattr(self.backend, "max_blob_bytes", MAX_BLOB))
                data = await self._read_body(request, limit)
                content_type = request.headers.get("content-type")
                if ctx.name == "blob":
                    self.backend.put_blob(key, query, data, content_type,
                                          content_length=int(declared))
                else:
                    self.backend.put_object(key, query, data, content_type,
                                            content_length=int(declared))
                response = Answer(b"", 200, content_type=None, fixed=CORS)
            else:
                if ctx.name == "blob":
                    data, content_type = self.backend.get_blob(key, query)
                else:
                    data, content_type = self.backend.get_object(key, query)
                # The stored content type exactly, as S3 sends it (media_type= would add a
                # charset to text/* types).
                response = Answer(b"" if request.method == "HEAD" else data, headers={
                    "content-length": str(len(data)),
                    "content-type": content_type or "application/octet-stream"},
                    content_type=None, fixed=CORS)
        except QueueError as err:
            response = self.error_response(err, ctx)
        except ClientDisconnect:
            response = Answer(b"", 400, content_type=None, fixed=NONE)
        except Exception as exc:
            response = self.internal_error(ctx, exc)
        self.request_log.record(time=arrived, method=None, http_method=request.method, route=raw,
                                query_string=query_string, status=response.status_code,
                                latency_ms=(time.perf_counter() - started) * 1000, client_id=None)
        return response
