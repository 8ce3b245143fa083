"""What the sync and async clients share: options, turning a method call into a request,
signing it, and turning the answer into a value or an error. No I/O here.
"""

from __future__ import annotations

import inspect
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Self

from tutorial_kit.api import BY_NAME, ENTRIES, Entry

from . import hawk
from .errors import TaskclusterAuthError, TaskclusterError, error_from_response, gave_up
from .jsonbody import dumps
from .options import Options, make_options, optionsFromEnvironment
from .retry import Attempts
from .tls import ssl_context
from .urls import api_url, with_query_param

_CALL_KEYWORDS = frozenset({"query", "payload", "params", "paginationHandler", "paginationLimit"})
USER_AGENT = "tutorial-kit (python-httpx)"


@dataclass(frozen=True)
class Prepared:
    """One API request, ready to be signed and sent (possibly several times)."""

    entry: Entry
    method: str  # upper-case HTTP verb
    url: str
    body: bytes | None
    content_type: str  # "" without a body


@dataclass
class CallArgs:
    route: tuple[Any, ...]
    payload: Any
    query: dict[str, Any]
    pagination_handler: Callable[[Any], Any] | None


def _fail(entry: Entry | None, message: str) -> TaskclusterError:
    return TaskclusterError(message, code="InvalidArgument",
                            method=entry.name if entry else None)


class QueueBase:
    """Options, URLs, signing and reading answers for every service client (``Queue``,
    ``AsyncQueue``, ``Object``, ``AsyncObject``): all of a call but the sending."""

    serviceName = "queue"
    apiVersion = "v1"

    def __init__(self, options: Mapping[str, Any] | None = None, **keywords: Any):
        self.options: Options = make_options(options, **keywords)
        creds = self.options.credentials
        self._ext = hawk.make_ext(creds, self.options.authorizedScopes) if creds else ""

    @classmethod
    def fromEnv(cls, options: Mapping[str, Any] | None = None, **keywords: Any) -> Self:
        """A client configured from ``TASKCLUSTER_*`` variables (over ``options``)."""
        return cls(optionsFromEnvironment(options), **keywords)

    from_env = fromEnv

    @property
    def rootUrl(self) -> str:
        return self.options.rootUrl

    def __repr__(self) -> str:
        who = self.options.credentials.clientId if self.options.credentials else "anonymous"
        return f"<{type(self).__name__} {self.options.rootUrl} as {who}>"

    def _client_options(self) -> dict[str, Any]:
        """How both flavours set up their pooled httpx client: API calls never follow
        redirects (a 303 is an answer, as in the official clients)."""
        return {"timeout": self.options.timeout, "follow_redirects": False,
                "headers": {"User-Agent": USER_AGENT}, "verify": ssl_context()}

    # -- building requests -------------------------------------------------------------------

    @staticmethod
    def _entry(methodName: str) -> Entry:
        entry = BY_NAME.get(methodName) if isinstance(methodName, str) else None
        if entry is None:
            raise _fail(None, f"the Queue has no method {methodName!r}; known methods: "
                              + ", ".join(sorted(BY_NAME)))
        return entry

    @staticmethod
    def _check_query(entry: Entry, query: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(query, Mapping):
            raise _fail(entry, f"{entry.name}(): query must be a dict, got {type(query).__name__}")
        unknown = sorted(set(query) - set(entry.query))
        if unknown:
            allowed = ", ".join(entry.query) or "none"
            raise _fail(entry, f"{entry.name}() does not take query option(s) "
                               f"{', '.join(unknown)} (it takes: {allowed})")
        return dict(query)

    def _split_args(self, entry: Entry, args: tuple[Any, ...], kwargs: dict[str, Any]) -> CallArgs:
        unknown = set(kwargs) - _CALL_KEYWORDS
        if unknown:
            raise _fail(entry, f"{entry.name}() got unexpected keyword(s) {', '.join(sorted(unknown))}; "
                               f"route arguments are positional ({', '.join(entry.args) or 'none'}), "
                               "query options go in query={...}")
        route = list(args)
        payload = kwargs.get("payload")
        if entry.input and payload is None and len(route) == len(entry.args) + 1:
            payload = route.pop()
        params = kwargs.get("params") or {}
        if params:
            missing = [a for a in entry.args[len(route):] if a not in params]
            if missing:
                raise _fail(entry, f"{entry.name}() needs {', '.join(missing)}")
            route += [params[a] for a in entry.args[len(route):]]
        if len(route) != len(entry.args):
            need = ", ".join(entry.args) or "no route arguments"
            extra = f", then the payload ({entry.input})" if entry.input else ""
            raise _fail(entry, f"{entry.name}() takes {need}{extra}; got {len(route)} positional "
                               f"argument(s)")
        if entry.input and payload is None:
            raise _fail(entry, f"{entry.name}() needs a payload ({entry.input}) after "
                               f"{', '.join(entry.args) or 'no route arguments'}")
        if not entry.input and payload is not None:
            raise _fail(entry, f"{entry.name}() takes no payload")
        query = self._check_query(entry, kwargs.get("query") or {})
        limit = kwargs.get("paginationLimit")
        if limit is not None and "limit" in entry.query:
            query["limit"] = limit
        return CallArgs(tuple(route), payload, query, kwargs.get("paginationHandler"))

    def _paginate_args(self, methodName: str, args: tuple[Any, ...], query: Mapping[str, Any] | None,
                       payload: Any) -> tuple[Entry, CallArgs]:
        """The checked arguments of ``paginate(methodName, *args, query=, payload=)``."""
        entry = self._entry(methodName)
        if not entry.paginated:
            raise not_paginated(entry)
        return entry, self._split_args(entry, args, {"query": query, "payload": payload})

    def _prepare(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                 query: Mapping[str, Any] | None) -> Prepared:
        url = api_url(self.options.rootUrl, entry, route, query, service=self.serviceName)
        body = None
        if payload is not None:
            try:
                body = dumps(payload)
            except (TypeError, ValueError) as exc:
                raise _fail(entry, f"{entry.name}(): the payload cannot be sent as JSON: {exc}") from None
        return Prepared(entry, entry.method.upper(), url, body,
                        "application/json" if body is not None else "")

    def _headers(self, prepared: Prepared) -> dict[str, str]:
        """Headers for one attempt: each attempt gets a fresh Hawk ts and nonce."""
        headers = {}
        if prepared.body is not None:
            headers["Content-Type"] = prepared.content_type
        creds = self.options.credentials
        if creds is not None:
            headers["Authorization"] = hawk.authorization_header(
                creds, prepared.method, prepared.url, body=prepared.body or b"",
                content_type=prepared.content_type, ext=self._ext)
        return headers

    def buildUrl(self, methodName: str, *args: Any, **query: Any) -> str:
        """The unsigned URL of a call, e.g. ``buildUrl('getLatestArtifact', taskId, name)``.

        Query options are keywords (``limit=2``) or, as in the official client, ``query={...}``.
        """
        entry = self._entry(methodName)
        merged = dict(query.pop("query", None) or {})
        merged.update(query)
        return api_url(self.options.rootUrl, entry, args, self._check_query(entry, merged),
                       service=self.serviceName)

    def buildSignedUrl(self, methodName: str, *args: Any, expiration: int | None = None,
                       **query: Any) -> str:
        """``buildUrl`` plus a ``bewit`` (last query parameter) valid ``expiration`` seconds
        (default 15 minutes); for GET methods, and it needs credentials."""
        entry = self._entry(methodName)
        if entry.method != "get":
            raise _fail(entry, f"{methodName} is a {entry.method.upper()} method; only GET "
                               "methods can have signed URLs")
        if self.options.credentials is None:
            raise TaskclusterAuthError(
                "buildSignedUrl needs credentials (clientId and accessToken); this client is "
                "anonymous, so use buildUrl for public resources",
                code="MissingCredentials", method=methodName)
        lifetime = self.options.signedUrlExpiration if expiration is None else expiration
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)):
            raise _fail(entry, f"expiration must be a number of seconds, got {lifetime!r}")
        url = self.buildUrl(methodName, *args, **query)
        expires = int(time.time() + lifetime)
        value = hawk.bewit(self.options.credentials, url, expires=expires, ext=self._ext)
        return with_query_param(url, "bewit", value)

    def _download_url(self, method: str, args: tuple[Any, ...]) -> str:
        """Downloads go to a bewit-signed URL when there are credentials: the redirect may
        lead to another origin, which must never see the Authorization header."""
        if self.options.credentials is not None:
            return self.buildSignedUrl(method, *args)
        return self.buildUrl(method, *args)

    # -- reading answers ---------------------------------------------------------------------

    def _attempts(self, method: str, url: str, sink: Any = None) -> Attempts:
        """The retry bookkeeping of one call (or one download into ``sink``): this client's
        ``maxRetries``; a Queue that never answered is a ``TaskclusterConnectionError``."""
        return Attempts(self.options.maxRetries,
                        gave_up(self.options.rootUrl, method=method, url=url),
                        (lambda: sink.can_restart) if sink is not None else (lambda: True))

    def _result(self, prepared: Prepared, response: Any) -> Any:
        """The value of a call whose final answer is ``response`` (an ``httpx.Response``)."""
        return self._interpret(prepared.entry, response.status_code, response.content,
                               response.reason_phrase, prepared.url)

    @staticmethod
    def _interpret(entry: Entry | None, status: int, content: bytes, reason: str,
                   url: str) -> Any:
        """The value of a final answer: JSON for 2xx/3xx (a 303's body included), None for
        204 or an empty body; an exception for 4xx/5xx."""
        name = entry.name if entry else None
        if status >= 400:
            raise error_from_response(status, content, reason_phrase=reason, method=name, url=url)
        if status == 204 or not content.strip():
            return None
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise TaskclusterError(
                f"the Queue answered {status} with a body that is not JSON: "
                f"{content[:200].decode('utf-8', 'replace')!r}; is {url} really a Taskcluster "
                "Queue?", status_code=status, code="InvalidResponse",
                body=content.decode("utf-8", "replace"), method=name, url=url) from None


def next_page(page: Any, query: Mapping[str, Any]) -> dict[str, Any] | None:
    """The query for the page after ``page``, or None when it was the last."""
    token = page.get("continuationToken") if isinstance(page, dict) else None
    return {**query, "continuationToken": token} if token else None


def artifacts_method(taskId: str, runId: int | None) -> tuple[str, tuple[Any, ...]]:
    """The listing behind ``iterArtifacts``: the latest run's when ``runId`` is None."""
    return (("listLatestArtifacts", (taskId,)) if runId is None
            else ("listArtifacts", (taskId, runId)))


def limit_query(limit: int | None) -> dict[str, Any]:
    return {} if limit is None else {"limit": limit}


def not_paginated(entry: Entry) -> TaskclusterError:
    return _fail(entry, f"{entry.name} is not paginated (it takes no continuationToken)")


def _doc(entry: Entry, service: str = "queue") -> str:
    lines = [entry.title or f"The {service.capitalize()} service's ``{entry.name}`` method.", "",
             f"``{entry.method.upper()} /api/{service}/v1{entry.route}`` ({entry.stability}).",
             ""]
    if entry.args:
        lines.append("Route arguments: " + ", ".join(f"``{a}``" for a in entry.args) + ".")
    if entry.input:
        lines.append(f"Payload: ``{entry.input}``.")
    if entry.query:
        lines.append("Query options (``query={...}``): " + ", ".join(entry.query) + ".")
    if entry.paginated:
        lines.append("Paginated: pass ``paginationHandler=fn`` to get every page, or use "
                     "``paginate()``.")
    lines.append(f"Returns: ``{entry.output}``." if entry.output else "Returns: None.")
    return "\n".join(lines)


def _signature(entry: Entry) -> inspect.Signature:
    P = inspect.Parameter
    params = [P("self", P.POSITIONAL_ONLY)]
    params += [P(a, P.POSITIONAL_ONLY) for a in entry.args]
    if entry.input:
        params.append(P("payload", P.POSITIONAL_OR_KEYWORD))
    if entry.query:
        params.append(P("query", P.KEYWORD_ONLY, default=None))
    if entry.paginated:
        params += [P("paginationHandler", P.KEYWORD_ONLY, default=None),
                   P("paginationLimit", P.KEYWORD_ONLY, default=None)]
    return inspect.Signature(params)


def install_methods(cls: type, make: Callable[[Entry], Callable[..., Any]], *,
                    entries: tuple[Entry, ...] = ENTRIES) -> type:
    """Give ``cls`` one method per row of ``entries`` (the Queue's, unless told)."""
    for entry in entries:
        func = make(entry)
        func.__name__ = func.__qualname__ = entry.name
        func.__doc__ = _doc(entry, getattr(cls, "serviceName", "queue"))
        func.__signature__ = _signature(entry)  # type: ignore[attr-defined]
        setattr(cls, entry.name, func)
    setattr(cls, "funcinfo", {e.name: e for e in entries})
    return cls
