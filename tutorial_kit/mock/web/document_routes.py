"""The documents a deployment serves beside the queue: its JSON schemas (``/schemas/...``),
its API references (``/references/...``), and the auth service's ``currentScopes``
(``/api/auth/v1/scopes/current``), so a learner's self-check can show their scopes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from .answer import Answer
from .envelope import Context, not_found, preflight, query_string
from .receive import authenticate
from .services import Services


def document_routes(services: Services) -> list[BaseRoute]:
    """The document routes of one mock queue (with its path prefix)."""
    s = services

    async def current_scopes(request: Request) -> Answer:
        """The scopes the caller's credentials carry."""
        ctx = Context(name="currentScopes")
        caller, _query = authenticate(s.authenticator, request, b"", None,
                                      query_string(request))
        if caller.error is not None:
            return s.error_response(caller.error, ctx)
        return s.json_response({"scopes": list(caller.scopes)})

    def document(request: Request, kind: str) -> Answer:
        if request.method == "OPTIONS":
            return preflight()
        path = request.path_params["path"]
        doc = None
        if s.validator is not None and ".." not in path.split("/"):
            if kind == "schema":
                doc = s.validator.schema_document(path, s.root_url(request))
            else:
                doc = s.validator.reference_document(path, s.root_url(request))
        if doc is None:
            return not_found()
        response = s.json_response(doc, indent=2)
        response.headers["cache-control"] = "no-cache"
        return response

    async def schema(request: Request) -> Answer:
        return document(request, "schema")

    async def reference(request: Request) -> Answer:
        return document(request, "reference")

    p = s.prefix
    return [
        Route(p + "/api/auth/v1/scopes/current", current_scopes, methods=["GET"]),
        Route(p + "/schemas/{path:path}", schema, methods=["GET", "HEAD", "OPTIONS"]),
        Route(p + "/references/{path:path}", reference, methods=["GET", "HEAD", "OPTIONS"]),
    ]
