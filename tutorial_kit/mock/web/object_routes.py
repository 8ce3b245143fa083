"""The HTTP layer of the mock's Object service: ``<rootUrl>/api/object/v1/...``.

Routes by :data:`tutorial_kit.api.OBJECT_ENTRIES` over the raw path, as the queue's layer does,
with the same steps and envelope: body, Hawk authentication, URL-parameter pattern, input
schema (``object/v1/...``), then the model (:class:`tutorial_kit.mock.model.objects.ObjectService`),
which checks the scopes (two of them need ``projectId`` from the body). ``download`` answers a
303 to the bytes, so a browser or ``curl -L`` with a signed URL gets the data.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Route

from tutorial_kit import api

from .answer import NONE, Answer, request_id
from tutorial_kit.mock.model.errors import QueueError

if TYPE_CHECKING:
    from .app import QueueApp

OBJECT_BASE = f"/api/{api.OBJECT_SERVICE_NAME}/v1"
_ROUTES = [(entry, entry.regex()) for entry in api.OBJECT_ENTRIES]
_VERBS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]


def _match(verb: str, route: str) -> tuple[api.Entry, dict[str, str]] | None:
    for entry, regex in _ROUTES:
        if entry.method == verb.lower():
            m = regex.match(route)
            if m:
                return entry, m.groupdict()
    return None


def object_routes(app: QueueApp) -> list[BaseRoute]:
    """The Starlette routes of the Object service for one mock queue app."""
    base = app.prefix + OBJECT_BASE

    async def handle(request: Request) -> Answer:
        from .app import MAX_BODY, _Context

        started = time.perf_counter()
        arrived = app.now()
        ctx = _Context()
        raw = app.raw_path(request)
        query_string = request.scope.get("query_string", b"").decode("latin-1")
        try:
            if request.method == "OPTIONS":
                response = app._preflight()
            else:
                response = await _dispatch(app, request, ctx, raw[len(base):], query_string,
                                           MAX_BODY)
        except QueueError as err:
            response = app.error_response(err, ctx)
        except ClientDisconnect:
            response = Answer(b"", 400, content_type=None, fixed=NONE)
        except Exception as exc:  # never a bare 500
            response = app.internal_error(ctx, exc)
        rid = request_id()
        response.headers["x-for-request-id"] = rid
        response.headers["x-for-trace-id"] = request.headers.get("x-for-trace-id") or rid
        caller = ctx.caller
        app.request_log.record(
            time=arrived, method=ctx.name and f"object.{ctx.name}", http_method=request.method,
            route=raw, query_string=query_string, status=response.status_code,
            latency_ms=(time.perf_counter() - started) * 1000,
            client_id=caller.client_id if caller is not None and caller.error is None else None)
        return response

    return [Route(base + "/{rest:path}", handle, methods=_VERBS)]


async def _dispatch(app: QueueApp, request: Request, ctx: Any, route: str, query_string: str,
                    max_body: int) -> Answer:
    verb = "GET" if request.method == "HEAD" else request.method
    found = _match(verb, route)
    if found is None:
        return app.json_response({"error": "Not found"}, 404)
    entry, raw_params = found
    payload, caller, _query = await app._receive(request, ctx, entry, raw_params, query_string,
                                                 max_body)
    app._check_params(ctx.params)
    name = ctx.params.get("name")
    root_url = app.root_url(request)
    body: Any = None
    if entry.input:
        body = payload if payload is not None else {}
        if app.validator is not None:
            body = app.validator.validate_input(entry.input, body, root_url=root_url)
        ctx.payload = body

    service = getattr(app.backend, "objects", None)
    if entry.name in ("ping", "lbheartbeat", "version", "heartbeat"):
        reply = app._monitoring(entry.name)
        return app.json_response(reply.body, reply.status)
    if service is None:
        raise QueueError("NotImplemented", "This mock has no Object service")
    if entry.name == "createUpload":
        out: Any = service.createUpload(name, body, caller, root_url)
    elif entry.name == "finishUpload":
        out = service.finishUpload(name, body, caller)
    elif entry.name == "startDownload":
        out = service.startDownload(name, body, caller, root_url)
    elif entry.name == "object":
        out = service.object(name, caller)
    else:  # download: a redirect to the bytes
        url = service.download(name, caller, root_url)
        return app.json_response({"url": url}, 303, {"location": url})
    if app.check_output and app.validator is not None and entry.output:
        errors = app.validator.output_errors(entry.output, out)
        if errors:
            return app.internal_error(ctx, detail=f"Output of {entry.name} does not match "
                                                  f"{entry.output}:\n" + "\n".join(errors))
    return app.json_response(out)
