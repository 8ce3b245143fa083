"""The HTTP layer of the mock's Object service: ``<rootUrl>/api/object/v1/...``.

Routes by :data:`tutorial_kit.api.OBJECT_ENTRIES` over the raw path, as the queue's layer does,
with the same steps and envelope: body, Hawk authentication, URL-parameter pattern, input
schema (``object/v1/...``), then the model (:class:`tutorial_kit.mock.model.objects.ObjectService`),
which checks the scopes (two of them need ``projectId`` from the body). ``download`` answers a
303 to the bytes, so a browser or ``curl -L`` with a signed URL gets the data.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Route

from tutorial_kit import api
from tutorial_kit.mock.model.errors import QueueError

from .answer import NONE, Answer, request_id
from .envelope import MAX_BODY, Context, not_found, preflight, query_string, raw_path
from .monitoring import MONITORING, monitoring_reply
from .receive import check_params, receive
from .services import Services

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


def object_routes(services: Services) -> list[BaseRoute]:
    """The Starlette routes of the Object service of one mock queue."""
    s = services
    base = s.prefix + OBJECT_BASE

    async def handle(request: Request) -> Answer:
        started = time.perf_counter()
        arrived = s.now()
        ctx = Context()
        raw = raw_path(request)
        qs = query_string(request)
        try:
            if request.method == "OPTIONS":
                response = preflight()
            else:
                response = await _dispatch(s, request, ctx, raw[len(base):], qs)
        except QueueError as err:
            response = s.error_response(err, ctx)
        except ClientDisconnect:
            response = Answer(b"", 400, content_type=None, fixed=NONE)
        except Exception as exc:  # never a bare 500
            response = s.internal_error(ctx, exc)
        rid = request_id()
        response.headers["x-for-request-id"] = rid
        response.headers["x-for-trace-id"] = request.headers.get("x-for-trace-id") or rid
        caller = ctx.caller
        s.request_log.record(
            time=arrived, method=ctx.name and f"object.{ctx.name}", http_method=request.method,
            route=raw, query_string=qs, status=response.status_code,
            latency_ms=(time.perf_counter() - started) * 1000,
            client_id=caller.client_id if caller is not None and caller.error is None else None)
        return response

    return [Route(base + "/{rest:path}", handle, methods=_VERBS)]


async def _dispatch(s: Services, request: Request, ctx: Context, route: str,
                    qs: str) -> Answer:
    verb = "GET" if request.method == "HEAD" else request.method
    found = _match(verb, route)
    if found is None:
        return not_found()
    entry, raw_params = found
    payload, caller, _query = await receive(s.authenticator, request, ctx, entry, raw_params,
                                            qs, MAX_BODY)
    check_params(ctx.params)
    name = ctx.params.get("name")
    root_url = s.root_url(request)
    body: Any = None
    if entry.input:
        body = payload if payload is not None else {}
        if s.validator is not None:
            body = s.validator.validate_input(entry.input, body, root_url=root_url)
        ctx.payload = body

    if entry.name in MONITORING:
        reply = monitoring_reply(entry.name, s.started)
        return s.json_response(reply.body, reply.status)
    service = s.backend.objects
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
        return s.json_response({"url": url}, 303, {"location": url})
    if s.check_output and s.validator is not None and entry.output:
        errors = s.validator.output_errors(entry.output, out)
        if errors:
            return s.internal_error(ctx, detail=f"Output of {entry.name} does not match "
                                                f"{entry.output}:\n" + "\n".join(errors))
    return s.json_response(out)
