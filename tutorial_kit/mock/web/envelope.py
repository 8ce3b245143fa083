"""Taskcluster's error envelope and the request facts it reports, for every route of the mock.

An error answers ``{code, message, requestInfo}``: the message ends in the footer the real
service appends (method, errorCode, statusCode, time), and ``requestInfo`` repeats the method,
its URL parameters and payload. The Queue API, the Object service, the storage stand-ins, the
control plane and the refusals of the HTTP parser all build it here, so a client meets one
shape of error whichever door it knocked on. Unknown routes answer ``{"error": "Not found"}``.

Also here: the request reading every route shares (the raw path, a body within a limit, the
one parser of a JSON-object body) and the limits themselves.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request

from tutorial_kit import api
from tutorial_kit.dates import to_json
from tutorial_kit.mock.model.errors import QueueError

from .answer import Answer

if TYPE_CHECKING:
    from tutorial_kit.mock.security.auth import Caller

log = logging.getLogger("tutorial_kit.mock")

API_BASE = f"/api/{api.SERVICE_NAME}/{api.API_VERSION}"
MAX_BODY = 10 * 1024 * 1024  # the real service's JSON body limit
MAX_BLOB = 256 * 1024 * 1024  # what the mock's s3 stand-in accepts in one PUT


class Context:
    """What is known about a request so far (for the error envelope and the request log)."""

    __slots__ = ("name", "params", "payload", "caller")

    def __init__(self, name: str | None = None, params: dict[str, str] | None = None) -> None:
        self.name = name
        self.params: dict[str, str] = params if params is not None else {}
        self.payload: Any = {}
        self.caller: Caller | None = None


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


def error_body(code: str, message: str, status: int, ctx: Context, when: str) -> dict[str, Any]:
    """The envelope ``{code, message, requestInfo}`` of one error."""
    name = ctx.name or "unknown"
    return {
        "code": code,
        "message": message + footer(name, code, status, when),
        "requestInfo": {"method": name, "params": dict(ctx.params),
                        "payload": ctx.payload if ctx.payload is not None else {},
                        "time": when},
    }


def json_answer(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                *, indent: int | None = None) -> Answer:
    """A JSON answer with the API's headers; ``body`` None is an empty reply (no type)."""
    if body is None:
        return Answer(b"", status, dict(headers or {}), content_type=None)
    return Answer(dump_json(body, indent=indent), status, dict(headers or {}))


def error_answer(error: QueueError, ctx: Context, now: datetime) -> Answer:
    """The envelope of ``error`` as an answer (401s say ``www-authenticate: hawk``)."""
    body = error_body(error.code, error.message, error.status, ctx, to_json(now))
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("www-authenticate", "hawk")
    return json_answer(body, error.status, headers)


def incident(ctx: Context, exc: BaseException | None = None, detail: str = "",
             *, show_detail: bool = False) -> QueueError:
    """An ``InternalServerError`` with a fresh incident id; the cause goes to the log (and to
    the message too when ``show_detail``, as in tests checking output schemas)."""
    incident_id = str(uuid.uuid4())
    if exc is not None:
        log.error("incident %s in %s", incident_id, ctx.name or "request", exc_info=exc)
    else:
        log.error("incident %s in %s: %s", incident_id, ctx.name or "request", detail)
    message = f"Internal Server Error, incidentId {incident_id}."
    if detail and show_detail:
        message += "\n" + detail
    return QueueError("InternalServerError", message)


def not_found() -> Answer:
    """An unknown route, as the real service answers it."""
    return json_answer({"error": "Not found"}, 404)


def preflight() -> Answer:
    """The answer to a CORS preflight (the fixed headers carry the CORS set)."""
    return Answer(b"", 204, content_type=None)


def raw_path(request: Request) -> str:
    """The request's path as sent (still percent-encoded), without the query."""
    raw = request.scope.get("raw_path")
    if raw is None:
        return quote(request.scope["path"])
    return raw.decode("latin-1").split("?", 1)[0]


def query_string(request: Request) -> str:
    """The request's query string as sent."""
    return request.scope.get("query_string", b"").decode("latin-1")


def has_body(headers: Mapping[str, str]) -> bool:
    """Does a request with these headers carry a body? (HTTP/1.1: not without a
    ``Content-Length`` or a ``Transfer-Encoding``.)"""
    return "content-length" in headers or "transfer-encoding" in headers


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; ``InputTooLarge`` as soon as it is known to exceed ``limit``."""
    if not has_body(request.headers):
        return b""
    declared = request.headers.get("content-length")
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


def parse_json_object(data: bytes) -> dict[str, Any]:
    """A JSON-object body (``{}`` when empty); ``MalformedPayload`` when it is anything else."""
    if not data.strip():
        return {}
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise QueueError("MalformedPayload", f"Failed to parse JSON body: {exc}") from None
    if not isinstance(value, dict):
        raise QueueError("MalformedPayload", "The JSON body must be an object")
    return value
