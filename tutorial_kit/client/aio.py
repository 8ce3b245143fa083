"""``AsyncQueue``: the same surface as :class:`~tutorial_kit.client.sync.Queue`, as coroutines
on one ``httpx.AsyncClient``; retries wait with ``asyncio.sleep``."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Self

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.api import Entry

from .calls import (Prepared, QueueBase, artifacts_method, install_methods,
                    limit_query, next_page)
from .methods import AsyncQueueMethods
from .retry import Attempts
from .sink import DEFAULT_CHUNK_SIZE, Progress, Sink, finish, too_many_redirects, wants_body
from .transport import async_transport


class AsyncServiceClient(QueueBase):
    """:class:`~tutorial_kit.client.sync.ServiceClient` for asyncio: one pooled
    ``httpx.AsyncClient``, the retry loop, calls and pagination, as coroutines."""

    def __init__(self, options: Mapping[str, Any] | None = None, *,
                 sleep: Callable[[float], Awaitable[Any]] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, **keywords: Any):
        super().__init__(options, **keywords)
        self._sleep = sleep or asyncio.sleep
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        """The pooled HTTP client, made on first use (no await between check and set, so
        one event loop cannot make two)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport or async_transport(), **self._client_options())
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections (a later call opens new ones)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # -- sending: everything else is in calls.py ----------------------------------------------

    async def _send(self, prepared: Prepared) -> httpx.Response:
        """Send with retries; returns the final answer (possibly a 4xx/5xx)."""
        return await retrying(lambda: self._http.request(prepared.method, prepared.url,
                                                         content=prepared.body,
                                                         headers=self._headers(prepared)),
                              self._attempts(prepared.entry.name, prepared.url), self._sleep)

    async def _request(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                       query: Mapping[str, Any] | None) -> Any:
        prepared = self._prepare(entry, route, payload, query)
        return self._result(prepared, await self._send(prepared))

    async def _call(self, entry: Entry, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = self._split_args(entry, args, kwargs)
        if call.pagination_handler is None:
            return await self._request(entry, call.route, call.payload, call.query)
        async for page in self._pages(entry, call.route, call.payload, call.query):
            await maybe_await(call.pagination_handler(page))
        return None

    # -- pagination ----------------------------------------------------------------------------

    async def _pages(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                     query: dict[str, Any] | None) -> AsyncIterator[Any]:
        while query is not None:
            page = await self._request(entry, route, payload, query)
            yield page
            query = next_page(page, query)

    def paginate(self, methodName: str, *args: Any, query: Mapping[str, Any] | None = None,
                 payload: Any = None) -> AsyncIterator[dict[str, Any]]:
        """``async for page in queue.paginate("listTaskGroup", taskGroupId): ...``"""
        entry, call = self._paginate_args(methodName, args, query, payload)
        return self._pages(entry, call.route, call.payload, call.query)


class AsyncQueue(AsyncServiceClient, AsyncQueueMethods):
    """The Queue for asyncio code: ``status = await queue.status(taskId)``.

    Same options as :class:`Queue`; ``sleep`` replaces ``asyncio.sleep`` between retries.
    Use ``async with AsyncQueue(...) as queue:`` or call ``await queue.aclose()``.
    """

    async def iterTaskGroup(self, taskGroupId: str, *,
                            limit: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every ``{task, status}`` of a task group, across pages."""
        async for page in self.paginate("listTaskGroup", taskGroupId, query=limit_query(limit)):
            for item in page.get("tasks", []):
                yield item

    async def iterArtifacts(self, taskId: str, runId: int | None = None, *,
                            limit: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every artifact of a run (the latest run when ``runId`` is None), across pages."""
        method, args = artifacts_method(taskId, runId)
        async for page in self.paginate(method, *args, query=limit_query(limit)):
            for item in page.get("artifacts", []):
                yield item

    # -- downloads ---------------------------------------------------------------------------

    async def downloadArtifact(self, taskId: str, runId: int, name: str, *, file: Any = None,
                               progress: Progress | None = None,
                               chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes | int:
        """As :meth:`Queue.downloadArtifact`."""
        return await self._download("getArtifact", (taskId, runId, name), Sink(file, progress),
                                    chunk_size)

    async def downloadLatestArtifact(self, taskId: str, name: str, *, file: Any = None,
                                     progress: Progress | None = None,
                                     chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes | int:
        """As :meth:`Queue.downloadLatestArtifact`."""
        return await self._download("getLatestArtifact", (taskId, name), Sink(file, progress),
                                    chunk_size)

    async def _download(self, method: str, args: tuple[Any, ...], sink: Sink,
                        chunk_size: int) -> bytes | int:
        url = self._download_url(method, args)

        async def attempt() -> httpx.Response:
            async with self._http.stream("GET", url, follow_redirects=True) as response:
                if not wants_body(response.status_code):
                    await response.aread()
                    return response
                sink.start(response.headers)
                async for chunk in response.aiter_bytes(chunk_size):
                    sink.write(chunk)
                return response

        try:
            response = await retrying(attempt, self._attempts(method, url, sink), self._sleep)
            return finish(response, sink, method)
        except httpx.TooManyRedirects as exc:
            raise too_many_redirects(exc, method, url) from exc
        finally:
            sink.close()


async def retrying(attempt: Callable[[], Awaitable[httpx.Response]], attempts: Attempts,
                   sleep: Callable[[float], Awaitable[Any]]) -> httpx.Response:
    """:func:`tutorial_kit.client.sync.retrying` for asyncio: the same steps, awaited."""
    while True:
        try:
            response = await attempt()
        except Exception as exc:
            await sleep(attempts.failed(exc))
            continue
        delay = attempts.answered(response.status_code)
        if delay is None:
            return response
        await response.aclose()
        await sleep(delay)


async def maybe_await(value: Any) -> Any:
    """``value``, awaited when it is awaitable (callbacks, factories and writers given by the
    caller may be sync or async)."""
    return await value if inspect.isawaitable(value) else value


def make_method(entry: Entry) -> Callable[..., Any]:
    """The coroutine for one row of an API table (see ``install_methods``)."""
    async def method(self: AsyncServiceClient, *args: Any, **kwargs: Any) -> Any:
        return await self._call(entry, args, kwargs)
    return method


install_methods(AsyncQueue, make_method)
