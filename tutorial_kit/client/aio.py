"""``AsyncQueue``: the same surface as :class:`~tutorial_kit.client.sync.Queue`, as coroutines
on one ``httpx.AsyncClient``; retries wait with ``asyncio.sleep``."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping

import httpx

from tutorial_kit.api import Entry

from . import download
from .calls import USER_AGENT, Prepared, QueueBase, install_methods, not_paginated
from .errors import connection_error
from .retry import RETRYABLE_ERRORS, backoff, retryable_status
from .transport import async_transport


class AsyncQueue(QueueBase):
    """The Queue for asyncio code: ``status = await queue.status(taskId)``.

    Same options as :class:`Queue`; ``sleep`` replaces ``asyncio.sleep`` between retries.
    Use ``async with AsyncQueue(...) as queue:`` or call ``await queue.aclose()``.
    """

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
                timeout=self.options.timeout, follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
                transport=self._transport or async_transport())
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections (a later call opens new ones)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> "AsyncQueue":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _send(self, prepared: Prepared) -> httpx.Response:
        retries = self.options.maxRetries
        for attempt in range(retries + 1):
            if attempt:
                await self._sleep(backoff(attempt))
            try:
                response = await self._http.request(prepared.method, prepared.url,
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

    async def _request(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                       query: Mapping[str, Any] | None) -> Any:
        prepared = self._prepare(entry, route, payload, query)
        response = await self._send(prepared)
        return self._interpret(entry, response.status_code, response.content,
                               response.reason_phrase, prepared.url)

    async def _call(self, entry: Entry, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = self._split_args(entry, args, kwargs)
        if call.pagination_handler is None:
            return await self._request(entry, call.route, call.payload, call.query)
        async for page in self._pages(entry, call.route, call.payload, call.query):
            result = call.pagination_handler(page)
            if asyncio.iscoroutine(result):
                await result
        return None

    async def _pages(self, entry: Entry, route: tuple[Any, ...], payload: Any,
                     query: dict[str, Any]) -> AsyncIterator[Any]:
        query = dict(query)
        while True:
            page = await self._request(entry, route, payload, query)
            yield page
            token = page.get("continuationToken") if isinstance(page, dict) else None
            if not token:
                return
            query["continuationToken"] = token

    def paginate(self, methodName: str, *args: Any, query: Mapping[str, Any] | None = None,
                 payload: Any = None) -> AsyncIterator[dict[str, Any]]:
        """``async for page in queue.paginate("listTaskGroup", taskGroupId): ...``"""
        entry = self._entry(methodName)
        if not entry.paginated:
            raise not_paginated(entry)
        call = self._split_args(entry, args, {"query": query, "payload": payload})
        return self._pages(entry, call.route, call.payload, call.query)

    async def iterTaskGroup(self, taskGroupId: str, *,
                            limit: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every ``{task, status}`` of a task group, across pages."""
        async for page in self.paginate("listTaskGroup", taskGroupId,
                                        query={} if limit is None else {"limit": limit}):
            for item in page.get("tasks", []):
                yield item

    async def iterArtifacts(self, taskId: str, runId: int | None = None, *,
                            limit: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every artifact of a run (the latest run when ``runId`` is None), across pages."""
        method, args = (("listLatestArtifacts", (taskId,)) if runId is None
                        else ("listArtifacts", (taskId, runId)))
        async for page in self.paginate(method, *args,
                                        query={} if limit is None else {"limit": limit}):
            for item in page.get("artifacts", []):
                yield item

    async def downloadArtifact(self, taskId: str, runId: int, name: str, *, file: Any = None,
                               progress: Callable[[int, int | None], Any] | None = None,
                               chunk_size: int = download.DEFAULT_CHUNK_SIZE) -> bytes | int:
        """As :meth:`Queue.downloadArtifact`."""
        return await self._download("getArtifact", (taskId, runId, name), file, progress,
                                    chunk_size)

    async def downloadLatestArtifact(self, taskId: str, name: str, *, file: Any = None,
                                     progress: Callable[[int, int | None], Any] | None = None,
                                     chunk_size: int = download.DEFAULT_CHUNK_SIZE) -> bytes | int:
        """As :meth:`Queue.downloadLatestArtifact`."""
        return await self._download("getLatestArtifact", (taskId, name), file, progress,
                                    chunk_size)

    async def _download(self, method: str, args: tuple[Any, ...], file: Any,
                        progress: Any, chunk_size: int) -> bytes | int:
        entry = self._entry(method)
        url = self._download_url(method, args)
        sink = download.Sink(file)
        retries = self.options.maxRetries
        try:
            for attempt in range(retries + 1):
                if attempt:
                    await self._sleep(backoff(attempt))
                try:
                    async with self._http.stream("GET", url, follow_redirects=True) as response:
                        status = response.status_code
                        if retryable_status(status) and attempt < retries:
                            continue
                        if status >= 400:
                            await response.aread()
                            self._interpret(entry, status, response.content,
                                            response.reason_phrase, str(response.url))
                        if status >= 300:
                            raise download.unexpected_redirect(response, method)
                        total = download.content_length(response.headers)
                        sink.open()
                        download.report(progress, 0, total)
                        async for chunk in response.aiter_bytes(chunk_size):
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


def _make(entry: Entry) -> Callable[..., Any]:
    async def method(self: AsyncQueue, *args: Any, **kwargs: Any) -> Any:
        return await self._call(entry, args, kwargs)
    return method


install_methods(AsyncQueue, _make, is_async=True)
