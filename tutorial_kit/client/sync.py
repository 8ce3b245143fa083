"""``Queue``: the synchronous client on one pooled ``httpx.Client``."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, Mapping

import httpx

from tutorial_kit.api import Entry

from . import download
from .calls import USER_AGENT, CallArgs, Prepared, QueueBase, install_methods, not_paginated
from .errors import connection_error
from .retry import RETRYABLE_ERRORS, backoff, retryable_status
from .transport import sync_transport


class Queue(QueueBase):
    """The Taskcluster Queue, one method per API method, named as the official clients do.

    ``Queue({"rootUrl": ..., "credentials": {"clientId": ..., "accessToken": ...}})`` or
    ``Queue(rootUrl=..., credentials=...)`` or ``Queue.fromEnv()``. Options: ``rootUrl``,
    ``credentials`` (with an optional ``certificate``), ``authorizedScopes``, ``maxRetries``
    (5), ``timeout`` (30 s per attempt), ``signedUrlExpiration`` (900 s). ``sleep`` replaces
    ``time.sleep`` between retries (tests); ``transport`` is passed to ``httpx.Client``.

    Calls: ``queue.createTask(taskId, payload)``, ``queue.status(taskId)``,
    ``queue.listTaskGroup(taskGroupId, query={"limit": 2})``. Errors raise
    :class:`~tutorial_kit.client.errors.TaskclusterError`.
    """

    def __init__(self, options: Mapping[str, Any] | None = None, *,
                 sleep: Callable[[float], Any] | None = None,
                 transport: httpx.BaseTransport | None = None, **keywords: Any):
        super().__init__(options, **keywords)
        self._sleep = sleep or time.sleep
        self._transport = transport
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    # -- lifetime ------------------------------------------------------------------------------

    @property
    def _http(self) -> httpx.Client:
        """The pooled HTTP client, made on first use (a client used only for buildUrl, or
        made per claim, never pays for one)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = httpx.Client(
                        timeout=self.options.timeout, follow_redirects=False,
                        headers={"User-Agent": USER_AGENT},
                        transport=self._transport or sync_transport())
        return self._client

    def close(self) -> None:
        """Close the pooled connections (a later call opens new ones)."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> "Queue":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the request loop ------------------------------------------------------------------------

    def _send(self, prepared: Prepared) -> httpx.Response:
        """Send with retries; returns the final answer (possibly a 4xx/5xx)."""
        retries = self.options.maxRetries
        for attempt in range(retries + 1):
            if attempt:
                self._sleep(backoff(attempt))
            try:
                response = self._http.request(prepared.method, prepared.url,
                                              content=prepared.body,
                                              headers=self._headers(prepared))
            except RETRYABLE_ERRORS as exc:
                if attempt < retries:
                    continue
                raise connection_error(self.options.rootUrl, exc, attempts=attempt + 1,
                                       method=prepared.entry.name, url=prepared.url) from exc
            if retryable_status(response.status_code) and attempt < retries:
                continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _request(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                 query: Mapping[str, Any] | None) -> Any:
        prepared = self._prepare(entry, route, payload, query)
        response = self._send(prepared)
        return self._interpret(entry, response.status_code, response.content,
                               response.reason_phrase, prepared.url)

    def _call(self, entry: Entry, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call: CallArgs = self._split_args(entry, args, kwargs)
        if call.pagination_handler is None:
            return self._request(entry, call.route, call.payload, call.query)
        for page in self._pages(entry, call.route, call.payload, call.query):
            call.pagination_handler(page)
        return None

    # -- pagination ----------------------------------------------------------------------------

    def _pages(self, entry: Entry, route: tuple[Any, ...], payload: Any,
               query: dict[str, Any]) -> Iterator[Any]:
        query = dict(query)
        while True:
            page = self._request(entry, route, payload, query)
            yield page
            token = page.get("continuationToken") if isinstance(page, dict) else None
            if not token:
                return
            query["continuationToken"] = token

    def paginate(self, methodName: str, *args: Any, query: Mapping[str, Any] | None = None,
                 payload: Any = None) -> Iterator[dict[str, Any]]:
        """Yield every page of a paginated method, following ``continuationToken``:
        ``for page in queue.paginate("listTaskGroup", taskGroupId): ...``."""
        entry = self._entry(methodName)
        if not entry.paginated:
            raise not_paginated(entry)
        call = self._split_args(entry, args, {"query": query, "payload": payload})
        return self._pages(entry, call.route, call.payload, call.query)

    def iterTaskGroup(self, taskGroupId: str, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every ``{task, status}`` of a task group, across pages (``limit`` = page size)."""
        for page in self.paginate("listTaskGroup", taskGroupId, query=_limit(limit)):
            yield from page.get("tasks", [])

    def iterArtifacts(self, taskId: str, runId: int | None = None, *,
                      limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every artifact of a run (the latest run when ``runId`` is None), across pages."""
        method, args = (("listLatestArtifacts", (taskId,)) if runId is None
                        else ("listArtifacts", (taskId, runId)))
        for page in self.paginate(method, *args, query=_limit(limit)):
            yield from page.get("artifacts", [])

    # -- downloads ---------------------------------------------------------------------------

    def downloadArtifact(self, taskId: str, runId: int, name: str, *, file: Any = None,
                         progress: Callable[[int, int | None], Any] | None = None,
                         chunk_size: int = download.DEFAULT_CHUNK_SIZE) -> bytes | int:
        """Download an artifact's bytes: GET ``getArtifact`` (signed when this client has
        credentials), follow the redirect to wherever the data lives, and stream it.

        Returns the bytes, or with ``file`` (a path or a binary file object) writes them there
        and returns the byte count. ``progress(received, total_or_None)`` is called as data
        arrives. An error artifact raises ``ArtifactError`` (with ``reason``); a missing one
        ``TaskclusterError`` (``ResourceNotFound``)."""
        return self._download("getArtifact", (taskId, runId, name), file, progress, chunk_size)

    def downloadLatestArtifact(self, taskId: str, name: str, *, file: Any = None,
                               progress: Callable[[int, int | None], Any] | None = None,
                               chunk_size: int = download.DEFAULT_CHUNK_SIZE) -> bytes | int:
        """:meth:`downloadArtifact` for the task's latest run."""
        return self._download("getLatestArtifact", (taskId, name), file, progress, chunk_size)

    def _download(self, method: str, args: tuple[Any, ...], file: Any,
                  progress: Any, chunk_size: int) -> bytes | int:
        entry = self._entry(method)
        url = self._download_url(method, args)
        sink = download.Sink(file)
        retries = self.options.maxRetries
        try:
            for attempt in range(retries + 1):
                if attempt:
                    self._sleep(backoff(attempt))
                try:
                    with self._http.stream("GET", url, follow_redirects=True) as response:
                        status = response.status_code
                        if retryable_status(status) and attempt < retries:
                            continue
                        if status >= 400:
                            response.read()
                            self._interpret(entry, status, response.content,
                                            response.reason_phrase, str(response.url))
                        if status >= 300:
                            raise download.unexpected_redirect(response, method)
                        total = download.content_length(response.headers)
                        sink.open()
                        download.report(progress, 0, total)
                        for chunk in response.iter_bytes(chunk_size):
                            sink.write(chunk)
                            download.report(progress, sink.written, total)
                        return sink.result()
                except RETRYABLE_ERRORS as exc:
                    if attempt < retries and sink.can_restart:
                        continue
                    raise connection_error(self.options.rootUrl, exc, attempts=attempt + 1,
                                           method=method, url=url) from exc
                except httpx.TooManyRedirects as exc:
                    raise download.too_many_redirects(exc, method, url) from exc
        finally:
            sink.close()
        raise AssertionError("unreachable")



def _limit(limit: int | None) -> dict[str, Any]:
    return {} if limit is None else {"limit": limit}


def _make(entry: Entry) -> Callable[..., Any]:
    def method(self: Queue, *args: Any, **kwargs: Any) -> Any:
        return self._call(entry, args, kwargs)
    return method


install_methods(Queue, _make)
