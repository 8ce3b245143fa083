"""Download helpers as the official client has them (``taskcluster.download``), sync and async.

``artifact``/``latestArtifact`` say how to fetch the content: a URL (s3, reference; links are
followed by the queue), Object-service credentials (object), or why there is none (error).
Writers have ``write(bytes)``; a writer factory makes a fresh one for each attempt. What the
answers mean (:func:`plan`, :class:`Received`, :func:`verify_hashes`) is written once; the two
flavours only send, write and sleep, through the clients' own retry loops
(:func:`tutorial_kit.client.sync.retrying`, :func:`tutorial_kit.client.aio.retrying`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from typing import Any, Callable

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from .aio import maybe_await
from .aio import retrying as retrying_async
from .errors import (ObjectHashVerificationError, TaskclusterArtifactError, TaskclusterError,
                     data_gave_up)
from .objects import AsyncObject, Object
from .retry import Attempts, sleep_of
from .sink import DEFAULT_CHUNK_SIZE
from .sync import retrying
from .tls import ssl_context

ACCEPTABLE_HASHES = ("sha256", "sha512")


def verify_hashes(observed: dict[str, str], expected: dict[str, str]) -> None:
    """Every algorithm both sides know must agree, and one of them must be acceptable."""
    good = False
    for algo, value in observed.items():
        if algo in expected:
            if expected[algo] != value:
                raise ObjectHashVerificationError(f"the object's {algo} hash does not match "
                                                  "the downloaded data")
            good = good or algo in ACCEPTABLE_HASHES
    if not good:
        raise ObjectHashVerificationError("the Object service holds no acceptable hash "
                                          "(sha256 or sha512) for this object")


class Received:
    """What one GET of the data has received so far: restarted for every attempt, hashed
    when the data is an object (whose hashes the Object service holds)."""

    def __init__(self, hashing: bool) -> None:
        self._hashing = hashing
        self.restart()

    def restart(self) -> None:
        self._h = ({"sha256": hashlib.sha256(), "sha512": hashlib.sha512()}
                   if self._hashing else {})

    def update(self, chunk: bytes) -> None:
        for h in self._h.values():
            h.update(chunk)

    def result(self, response: httpx.Response) -> tuple[str, dict[str, str] | None]:
        """(content type, hashes if asked) of a finished GET; its error if it failed."""
        if response.status_code >= 400:
            raise TaskclusterError(f"GET {response.request.url} answered {response.status_code}",
                                   status_code=response.status_code, code="DownloadFailed",
                                   url=str(response.request.url))
        hashes = {k: h.hexdigest() for k, h in self._h.items()} if self._hashing else None
        return response.headers.get("content-type", ""), hashes


def plan(artifact: dict[str, Any]) -> str:
    """How to fetch an artifact that ``artifact``/``latestArtifact`` described: ``"url"`` (s3,
    reference) or ``"object"``; an error artifact or an unknown storage type raises."""
    kind = artifact.get("storageType")
    if kind in ("s3", "reference"):
        return "url"
    if kind == "object":
        return "object"
    if kind == "error":
        raise TaskclusterArtifactError(str(artifact.get("message", "")),
                                       str(artifact.get("reason", "")))
    raise TaskclusterError(f"unknown storageType {kind!r}", code="InvalidResponse")


def _object_options(queueService: Any, maxRetries: int, artifact: dict[str, Any]) -> dict[str, Any]:
    return {"rootUrl": queueService.options["rootUrl"], "maxRetries": maxRetries,
            "credentials": artifact["credentials"]}


def _download_url(started: dict[str, Any]) -> str:
    if started.get("method") != "getUrl":
        raise TaskclusterError(f"unknown download method {started.get('method')!r}",
                               code="InvalidResponse")
    return started["url"]


_START_DOWNLOAD = {"acceptDownloadMethods": {"getUrl": True}}


def _timeout(service: Any) -> Any:
    options = getattr(service, "options", None)
    return getattr(options, "timeout", 30.0) if options is not None else 30.0


# -- sync ------------------------------------------------------------------------------------

def _fetch(url: str, writerFactory: Callable[[], Any], maxRetries: int, timeout: Any,
           sleep: Callable[[float], Any], hashing: bool = False) -> tuple[str, dict[str, str] | None]:
    """GET ``url`` into a fresh writer per attempt; (content type, hashes if asked)."""
    received = Received(hashing)
    with httpx.Client(timeout=timeout, follow_redirects=True, verify=ssl_context()) as http:
        def attempt() -> httpx.Response:
            writer = writerFactory()
            received.restart()
            with http.stream("GET", url) as response:
                if response.status_code >= 400:
                    response.read()
                    return response
                for chunk in response.iter_bytes(DEFAULT_CHUNK_SIZE):
                    writer.write(chunk)
                    received.update(chunk)
                return response

        response = retrying(attempt, Attempts(maxRetries, data_gave_up(url)), sleep)
    return received.result(response)


def download(*, name: str, maxRetries: int = 5, objectService: Any,
             writerFactory: Callable[[], Any]) -> str:
    """Download object ``name`` through the Object service (``startDownload``, ``getUrl``),
    checking its hashes; returns the content type."""
    started = objectService.startDownload(name, _START_DOWNLOAD)
    content_type, observed = _fetch(_download_url(started), writerFactory, maxRetries,
                                    objectService.options.timeout,
                                    sleep_of(objectService, time.sleep), hashing=True)
    verify_hashes(observed or {}, started["hashes"])
    return content_type


def downloadArtifact(*, taskId: str, name: str, runId: int | None = None, maxRetries: int = 5,
                     queueService: Any, writerFactory: Callable[[], Any]) -> str:
    """Download an artifact of any storage type into writers from ``writerFactory``; returns
    the content type. An ``error`` artifact raises
    :class:`~tutorial_kit.client.errors.TaskclusterArtifactError`."""
    if runId is None:
        artifact = queueService.latestArtifact(taskId, name)
    else:
        artifact = queueService.artifact(taskId, runId, name)
    sleep = sleep_of(queueService, time.sleep)
    if plan(artifact) == "url":
        return _fetch(artifact["url"], writerFactory, maxRetries, _timeout(queueService),
                      sleep)[0]
    with Object(_object_options(queueService, maxRetries, artifact), sleep=sleep) as objects:
        return download(name=artifact["name"], maxRetries=maxRetries,
                        objectService=objects, writerFactory=writerFactory)


class _Buffer:
    """A writer factory into memory: each attempt (a retry starts over) gets a fresh buffer;
    the last one holds the bytes."""

    def __init__(self) -> None:
        self._last = io.BytesIO()

    def fresh(self) -> io.BytesIO:
        self._last = io.BytesIO()
        return self._last

    def value(self) -> bytes:
        return self._last.getvalue()


def downloadToBuf(**kwargs: Any) -> tuple[bytes, str]:
    """``download`` into memory: (bytes, content type)."""
    buffer = _Buffer()
    content_type = download(writerFactory=buffer.fresh, **kwargs)
    return buffer.value(), content_type


def downloadToFile(file: Any, **kwargs: Any) -> str:
    """``download`` into a binary file object that can ``seek`` and ``truncate``."""
    return download(writerFactory=_file_factory(file), **kwargs)


def downloadArtifactToBuf(**kwargs: Any) -> tuple[bytes, str]:
    """``downloadArtifact`` into memory: (bytes, content type)."""
    buffer = _Buffer()
    content_type = downloadArtifact(writerFactory=buffer.fresh, **kwargs)
    return buffer.value(), content_type


def downloadArtifactToFile(file: Any, **kwargs: Any) -> str:
    """``downloadArtifact`` into a binary file object that can ``seek`` and ``truncate``."""
    return downloadArtifact(writerFactory=_file_factory(file), **kwargs)


def _file_factory(file: Any) -> Callable[[], Any]:
    def factory() -> Any:
        file.seek(0)
        file.truncate()
        return file
    return factory


# -- asyncio --------------------------------------------------------------------------------

async def _fetch_async(url: str, writerFactory: Callable[[], Any], maxRetries: int,
                       timeout: Any, sleep: Callable[[float], Any],
                       hashing: bool = False) -> tuple[str, dict[str, str] | None]:
    received = Received(hashing)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True,
                                 verify=ssl_context()) as http:
        async def attempt() -> httpx.Response:
            writer = await maybe_await(writerFactory())
            received.restart()
            async with http.stream("GET", url) as response:
                if response.status_code >= 400:
                    await response.aread()
                    return response
                async for chunk in response.aiter_bytes(DEFAULT_CHUNK_SIZE):
                    await maybe_await(writer.write(chunk))
                    received.update(chunk)
                return response

        response = await retrying_async(attempt, Attempts(maxRetries, data_gave_up(url)), sleep)
    return received.result(response)


async def download_async(*, name: str, maxRetries: int = 5, objectService: Any,
                         writerFactory: Callable[[], Any]) -> str:
    """:func:`download` for asyncio (``objectService`` an ``AsyncObject``)."""
    started = await objectService.startDownload(name, _START_DOWNLOAD)
    content_type, observed = await _fetch_async(_download_url(started), writerFactory,
                                                maxRetries, objectService.options.timeout,
                                                sleep_of(objectService, asyncio.sleep),
                                                hashing=True)
    verify_hashes(observed or {}, started["hashes"])
    return content_type


async def downloadArtifact_async(*, taskId: str, name: str, runId: int | None = None,
                                 maxRetries: int = 5, queueService: Any,
                                 writerFactory: Callable[[], Any]) -> str:
    """:func:`downloadArtifact` for asyncio (``queueService`` an ``AsyncQueue``; writer
    factories and writers may be sync or async)."""
    if runId is None:
        artifact = await maybe_await(queueService.latestArtifact(taskId, name))
    else:
        artifact = await maybe_await(queueService.artifact(taskId, runId, name))
    sleep = sleep_of(queueService, asyncio.sleep)
    if plan(artifact) == "url":
        return (await _fetch_async(artifact["url"], writerFactory, maxRetries,
                                   _timeout(queueService), sleep))[0]
    async with AsyncObject(_object_options(queueService, maxRetries, artifact),
                           sleep=sleep) as objects:
        return await download_async(name=artifact["name"], maxRetries=maxRetries,
                                    objectService=objects, writerFactory=writerFactory)


async def downloadArtifactToBuf_async(**kwargs: Any) -> tuple[bytes, str]:
    buffer = _Buffer()
    content_type = await downloadArtifact_async(writerFactory=buffer.fresh, **kwargs)
    return buffer.value(), content_type


async def downloadArtifactToFile_async(file: Any, **kwargs: Any) -> str:
    return await downloadArtifact_async(writerFactory=_file_factory(file), **kwargs)


async def downloadToBuf_async(**kwargs: Any) -> tuple[bytes, str]:
    buffer = _Buffer()
    content_type = await download_async(writerFactory=buffer.fresh, **kwargs)
    return buffer.value(), content_type


async def downloadToFile_async(file: Any, **kwargs: Any) -> str:
    return await download_async(writerFactory=_file_factory(file), **kwargs)
