"""The mock's storage stand-ins, plain HTTP without Taskcluster auth (signed URLs instead):
the s3 stand-in for artifacts (``/mock/v1/blobs/<key>``), the object store's
(``/mock/v1/objects/<key>``), and the simulated cluster's live logs
(``/mock/v1/livelog/<taskId>/<runId>``)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse
from starlette.routing import BaseRoute, Route

from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.model.livelog import follow

from .answer import CORS, CORS_HEADERS, NONE, Answer
from .envelope import MAX_BLOB, Context, not_found, preflight, query_string, raw_path, read_body
from .services import Services


def storage_routes(services: Services) -> list[BaseRoute]:
    """The storage routes of one mock queue (with its path prefix)."""
    s = services
    backend = s.backend

    async def storage(request: Request, base: str) -> Answer:
        if request.method == "OPTIONS":
            return preflight()
        started = time.perf_counter()
        arrived = s.now()
        raw = raw_path(request)
        # The model parses the raw (still percent-encoded) key itself (blobs.BlobKey.parse).
        key = raw.split(base, 1)[1]
        qs = query_string(request)
        query = dict(parse_qsl(qs, keep_blank_values=True))
        ctx = Context(name="blob" if base.endswith("blobs/") else "object",
                      params={"key": unquote(key)})
        try:
            if request.method == "PUT":
                declared = request.headers.get("content-length")
                if declared is None or not declared.isdigit():
                    raise QueueError("MissingContentLength",
                                     "An upload must send Content-Length (as S3 requires).",
                                     status=411)
                # refuse what the store would refuse before reading it, not after
                data = await read_body(request, min(MAX_BLOB, backend.max_blob_bytes))
                content_type = request.headers.get("content-type")
                if ctx.name == "blob":
                    backend.put_blob(key, query, data, content_type, content_length=int(declared))
                else:
                    backend.put_object(key, query, data, content_type,
                                       content_length=int(declared))
                response = Answer(b"", 200, content_type=None, fixed=CORS)
            else:
                if ctx.name == "blob":
                    data, content_type = backend.get_blob(key, query)
                else:
                    data, content_type = backend.get_object(key, query)
                # The stored content type exactly, as S3 sends it (media_type= would add a
                # charset to text/* types).
                response = Answer(b"" if request.method == "HEAD" else data, headers={
                    "content-length": str(len(data)),
                    "content-type": content_type or "application/octet-stream"},
                    content_type=None, fixed=CORS)
        except QueueError as err:
            response = s.error_response(err, ctx)
        except ClientDisconnect:
            response = Answer(b"", 400, content_type=None, fixed=NONE)
        except Exception as exc:
            response = s.internal_error(ctx, exc)
        s.request_log.record(time=arrived, method=None, http_method=request.method, route=raw,
                             query_string=qs, status=response.status_code,
                             latency_ms=(time.perf_counter() - started) * 1000, client_id=None)
        return response

    async def blob(request: Request) -> Answer:
        return await storage(request, "/mock/v1/blobs/")

    async def stored_object(request: Request) -> Answer:
        return await storage(request, "/mock/v1/objects/")

    async def livelog(request: Request) -> Any:
        task_id, run_id = request.path_params["taskId"], request.path_params["runId"]
        live = s.livelogs.get(task_id, run_id) if s.livelogs is not None else None
        if live is None:
            return not_found()
        return StreamingResponse(follow(live), media_type="text/plain; charset=utf-8",
                                 headers={**CORS_HEADERS, "cache-control": "no-cache"})

    p = s.prefix
    return [
        Route(p + "/mock/v1/blobs/{key:path}", blob, methods=["GET", "HEAD", "PUT", "OPTIONS"]),
        Route(p + "/mock/v1/objects/{key:path}", stored_object,
              methods=["GET", "HEAD", "PUT", "OPTIONS"]),
        Route(p + "/mock/v1/livelog/{taskId}/{runId:int}", livelog, methods=["GET"]),
    ]
