"""Receiving an API call, the steps the Queue API and the Object service share, in the real
service's order (QUEUE-FACTS §0): the body (``InputTooLarge``, ``MalformedPayload``), the caller
(Hawk, or anonymous), then the URL parameters' and the query string's patterns
(``InvalidRequestArguments``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request

from tutorial_kit import api
from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.security.auth import Authenticator, Caller, HawkRequest

from .envelope import Context, has_body, raw_path, read_body


def parse_body(entry: api.Entry, data: bytes, content_type: str | None) -> Any:
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


def credentials_sent(headers: Mapping[str, str], query_string: str) -> bool:
    """Does a request say who sends it (a Hawk header or a bewit)? If not, it is anonymous."""
    return "authorization" in headers or "bewit=" in query_string


def authenticate(authenticator: Authenticator, request: Request, data: bytes,
                 content_type: str | None, query_string: str) -> tuple[Caller, str]:
    """The caller, and the query string without its bewit. A failed signature is kept in the
    caller and raised when scopes are checked (see ``auth.Caller``)."""
    if not credentials_sent(request.headers, query_string):
        return authenticator.anonymous(), query_string  # the common read: no Hawk
    hawk = HawkRequest(method=request.method, path=raw_path(request),
                       query=query_string, host=request.headers.get("host"),
                       scheme=request.url.scheme,
                       authorization=request.headers.get("authorization"),
                       body=data, content_type=content_type)
    try:
        return authenticator.authenticate(hawk)
    except QueueError as err:
        stripped = re.sub(r"(?:^|&)bewit=[^&]*", "", query_string)
        return Caller(None, authenticator.anonymous_scopes, error=err), stripped


async def receive(authenticator: Authenticator, request: Request, ctx: Context,
                  entry: api.Entry, raw_params: dict[str, str], query_string: str,
                  max_body: int) -> tuple[Any, Caller, str]:
    """The first steps of every API call: name the call, read and parse the body,
    authenticate. Returns the parsed payload, the caller and the query string without its
    bewit."""
    ctx.name = entry.name
    ctx.params = {k: unquote(v) for k, v in raw_params.items()}
    headers = request.headers
    if not has_body(headers) and not credentials_sent(headers, query_string):
        # A learner's poll: nothing to read or verify (what the steps below would conclude).
        ctx.payload = {}
        ctx.caller = caller = authenticator.anonymous()
        return None, caller, query_string
    content_type = headers.get("content-type")
    data = await read_body(request, max_body)
    payload = parse_body(entry, data, content_type)
    ctx.payload = payload if payload is not None else {}
    caller, query_string = authenticate(authenticator, request, data, content_type,
                                        query_string)
    ctx.caller = caller
    return payload, caller, query_string


#: The URL parameters' patterns, compiled once (every API request checks them)
_PARAM_RES = {name: re.compile(pattern) for name, pattern in api.PARAM_PATTERNS.items()
              if pattern}


def check_params(params: dict[str, str]) -> None:
    """Every URL parameter matches its pattern, or ``InvalidRequestArguments`` lists those
    that do not."""
    errors = []
    for name, value in params.items():
        regex = _PARAM_RES.get(name)
        if regex is not None and not regex.match(value):
            errors.append(f"URL parameter '{name}' given as '{value}' must match regular "
                          f"expression: '/{regex.pattern}/'")
    if errors:
        raise QueueError("InvalidRequestArguments",
                         "Invalid URL patterns:\n" + "\n".join(errors))


def check_query(entry: api.Entry, query_string: str) -> dict[str, str]:
    """The query string's keys the method takes, each matching its pattern, or
    ``InvalidRequestArguments``."""
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
