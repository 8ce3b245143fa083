"""``Queue``: the synchronous client on one pooled ``httpx.Client``."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, Mapping, Self

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.api import Entry

from .calls import (Prepared, QueueBase, artifacts_method, install_methods,
                    limit_query, next_page)
from .methods import QueueMethods
from .retry import Attempts
from .sink import DEFAULT_CHUNK_SIZE, Progress, Sink, finish, too_many_redirects, wants_body
from .transport import sync_transport


class ServiceClient(QueueBase):
    """What every synchronous client of a Taskcluster service has: one pooled ``httpx.Client``,
    the retry loop, calls and pagination. :class:`Queue` and
    :class:`~tutorial_kit.client.objects.Object` add their API tables' methods."""

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
                        transport=self._transport or sync_transport(), **self._client_options())
        return self._client

    def close(self) -> None:
        """Close the pooled connections (a later call opens new ones)."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- sending: everything else is in calls.py ----------------------------------------------

    def _send(self, prepared: Prepared) -> httpx.Response:
        """Send with retries; returns the final answer (possibly a 4xx/5xx)."""
        return retrying(lambda: self._http.request(prepared.method, prepared.url,
                                                   content=prepared.body,
                                                   headers=self._headers(prepared)),
                        self._attempts(prepared.entry.name, prepared.url), self._sleep)

    def _request(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                 query: Mapping[str, Any] | None) -> Any:
        prepared = self._prepare(entry, route, payload, query)
        return self._result(prepared, self._send(prepared))

    def _call(self, entry: Entry, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = self._split_args(entry, args, kwargs)
        if call.pagination_handler is None:
            return self._request(entry, call.route, call.payload, call.query)
        for page in self._pages(entry, call.route, call.payload, call.query):
            call.pagination_handler(page)
        return None

    # -- pagination ----------------------------------------------------------------------------

    def _pages(self, entry: Entry, route: tuple[Any, ...], payload: Any,
               query: dict[str, Any] | None) -> Iterator[Any]:
        while query is not None:
            page = self._request(entry, route, payload, query)
            yield page
            query = next_page(page, query)

    def paginate(self, methodName: str, *args: Any, query: Mapping[str, Any] | None = None,
                 payload: Any = None) -> Iterator[dict[str, Any]]:
        """Yield every page of a paginated method, following ``continuationToken``:
        ``for page in queue.paginate("listTaskGroup", taskGroupId): ...``."""
        entry, call = self._paginate_args(methodName, args, query, payload)
        return self._pages(entry, call.route, call.payload, call.query)


class Queue(ServiceClient, QueueMethods):
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

    def iterTaskGroup(self, taskGroupId: str, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every ``{task, status}`` of a task group, across pages (``limit`` = page size)."""
        for page in self.paginate("listTaskGroup", taskGroupId, query=limit_query(limit)):
            yield from page.get("tasks", [])

    def iterArtifacts(self, taskId: str, runId: int | None = None, *,
                      limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every artifact of a run (the latest run when ``runId`` is None), across pages."""
        method, args = artifacts_method(taskId, runId)
        for page in self.paginate(method, *args, query=limit_query(limit)):
            yield from page.get("artifacts", [])

    # -- downloads ---------------------------------------------------------------------------

    def downloadArtifact(self, taskId: str, runId: int, name: str, *, file: Any = None,
                         progress: Progress | None = None,
                         chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes | int:
        """Download an artifact's bytes: GET ``getArtifact`` (signed when this client has
        credentials), follow the redirect to wherever the data lives, and stream it.

        Returns the bytes, or with ``file`` (a path or a binary file object) writes them there
        and returns the byte count. ``progress(received, total_or_None)`` is called as data
        arrives. An error artifact raises ``ArtifactError`` (with ``reason``); a missing one
        ``TaskclusterError`` (``ResourceNotFound``)."""
        return self._download("getArtifact", (taskId, runId, name), Sink(file, progress),
                              chunk_size)

    def downloadLatestArtifact(self, taskId: str, name: str, *, file: Any = None,
                               progress: Progress | None = None,
                               chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes | int:
        """:meth:`downloadArtifact` for the task's latest run."""
        return self._download("getLatestArtifact", (taskId, name), Sink(file, progress),
                              chunk_size)

    def _download(self, method: str, args: tuple[Any, ...], sink: Sink,
                  chunk_size: int) -> bytes | int:
        url = self._download_url(method, args)

        def attempt() -> httpx.Response:
            with self._http.stream("GET", url, follow_redirects=True) as response:
                if not wants_body(response.status_code):
                    response.read()
                    return response
                sink.start(response.headers)
                for chunk in response.iter_bytes(chunk_size):
                    sink.write(chunk)
                return response

        try:
            response = retrying(attempt, self._attempts(method, url, sink), self._sleep)
            return finish(response, sink, method)
        except httpx.TooManyRedirects as exc:
            raise too_many_redirects(exc, method, url) from exc
        finally:
            sink.close()


def retrying(attempt: Callable[[], httpx.Response], attempts: Attempts,
             sleep: Callable[[float], Any]) -> httpx.Response:
    """Make ``attempt()`` until ``attempts`` (which asks :func:`~tutorial_kit.client.retry.decide`)
    calls its outcome final, sleeping in between; returns the final answer (possibly a
    4xx/5xx), or raises the final error."""
    while True:
        try:
            response = attempt()
        except Exception as exc:
            sleep(attempts.failed(exc))
            continue
        delay = attempts.answered(response.status_code)
        if delay is None:
            return response
        response.close()
        sleep(delay)


def make_method(entry: Entry) -> Callable[..., Any]:
    """The method for one row of an API table (see ``install_methods``)."""
    def method(self: ServiceClient, *args: Any, **kwargs: Any) -> Any:
        return self._call(entry, args, kwargs)
    return method


install_methods(Queue, make_method)
