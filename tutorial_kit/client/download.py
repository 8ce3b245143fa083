"""Where downloaded artifact bytes go (memory, a path, or a file object) and progress reports.

The HTTP loops live in ``sync.py`` and ``aio.py``; this module holds what they share.
"""

from __future__ import annotations

import io
import os
from typing import Any, Callable

import httpx

from .errors import TaskclusterError

DEFAULT_CHUNK_SIZE = 64 * 1024


class Sink:
    """The destination of one download: ``None`` (collect bytes), a path, or a binary file
    object. A retry may restart it only while nothing was written to a caller's file object."""

    def __init__(self, file: Any):
        if file is not None and not isinstance(file, (str, os.PathLike)) and not hasattr(file, "write"):
            raise TaskclusterError(
                f"file must be a path or a binary file object, got {type(file).__name__}",
                code="InvalidArgument")
        self._file = file
        self._out: Any = None
        self.written = 0

    @property
    def can_restart(self) -> bool:
        return self.written == 0 or not hasattr(self._file, "write")

    def open(self) -> None:
        """(Re)start writing from the beginning."""
        self.close()
        self.written = 0
        if self._file is None:
            self._out = io.BytesIO()
        elif isinstance(self._file, (str, os.PathLike)):
            self._out = open(self._file, "wb")
        else:
            self._out = self._file

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self.written += len(chunk)

    def close(self) -> None:
        if self._out is not None and isinstance(self._file, (str, os.PathLike)):
            self._out.close()

    def result(self) -> bytes | int:
        """The bytes when collecting in memory, else the number of bytes written."""
        if self._file is None:
            return self._out.getvalue()
        return self.written


def content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length")
    # a compressed answer's Content-Length counts compressed bytes, not what we receive
    if value is None or not value.isdigit() or headers.get("content-encoding"):
        return None
    return int(value)


def report(progress: Callable[[int, int | None], Any] | None, received: int,
           total: int | None) -> None:
    if progress is not None:
        progress(received, total)


def unexpected_redirect(response: httpx.Response, method: str) -> TaskclusterError:
    """A 3xx that httpx did not follow (no usable Location)."""
    return TaskclusterError(
        f"{method} answered {response.status_code} without a usable Location header",
        status_code=response.status_code, code="InvalidResponse", method=method,
        url=str(response.url))


def too_many_redirects(exc: Exception, method: str, url: str) -> TaskclusterError:
    return TaskclusterError(f"{method}: too many redirects while downloading ({exc})",
                            code="TooManyRedirects", method=method, url=url)


# -- the official helpers' way: downloadArtifact with a writer factory -----------------------
# ``artifact``/``latestArtifact`` say how to fetch the content: a URL (s3, reference; links
# are followed by the queue), Object-service credentials (object), or why there is none (error).
# Writers have ``write(bytes)``; a writer factory makes a fresh one for each attempt.

ACCEPTABLE_HASHES = ("sha256", "sha512")


def verify_hashes(observed: dict[str, str], expected: dict[str, str]) -> None:
    """Every algorithm both sides know must agree, and one of them must be acceptable."""
    from .errors import ObjectHashVerificationError

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


class _HashingWriter:
    def __init__(self, inner: Any) -> None:
        import hashlib

        self.inner = inner
        self._h = {"sha256": hashlib.sha256(), "sha512": hashlib.sha512()}

    def update(self, chunk: bytes) -> None:
        for h in self._h.values():
            h.update(chunk)

    def hashes(self) -> dict[str, str]:
        return {k: h.hexdigest() for k, h in self._h.items()}


def _artifact_error(artifact: dict[str, Any]) -> TaskclusterError:
    from .errors import TaskclusterArtifactError

    return TaskclusterArtifactError(str(artifact.get("message", "")),
                                    str(artifact.get("reason", "")))


def _unknown(artifact: dict[str, Any]) -> TaskclusterError:
    return TaskclusterError(f"unknown storageType {artifact.get('storageType')!r}",
                            code="InvalidResponse")


def _get_failed(response: httpx.Response) -> TaskclusterError:
    return TaskclusterError(f"GET {response.request.url} answered {response.status_code}",
                            status_code=response.status_code, code="DownloadFailed",
                            url=str(response.request.url))


def _fetch(url: str, writerFactory: Callable[[], Any], maxRetries: int, timeout: Any,
           hashing: bool = False) -> tuple[str, dict[str, str] | None]:
    """GET ``url`` into a fresh writer per attempt; (content type, hashes if asked)."""
    import time

    from .retry import RETRYABLE_ERRORS, backoff, retryable_status

    with httpx.Client(timeout=timeout, follow_redirects=True) as http:
        for attempt in range(maxRetries + 1):
            if attempt:
                time.sleep(backoff(attempt))
            writer = writerFactory()
            hasher = _HashingWriter(writer)
            try:
                with http.stream("GET", url) as response:
                    if retryable_status(response.status_code) and attempt < maxRetries:
                        continue
                    if response.status_code >= 400:
                        raise _get_failed(response)
                    for chunk in response.iter_bytes(DEFAULT_CHUNK_SIZE):
                        writer.write(chunk)
                        if hashing:
                            hasher.update(chunk)
                    content_type = response.headers.get("content-type", "")
            except RETRYABLE_ERRORS:
                if attempt < maxRetries:
                    continue
                raise
            return content_type, hasher.hashes() if hashing else None
    raise AssertionError("unreachable")


def download(*, name: str, maxRetries: int = 5, objectService: Any,
             writerFactory: Callable[[], Any]) -> str:
    """Download object ``name`` through the Object service (``startDownload``, ``getUrl``),
    checking its hashes; returns the content type."""
    started = objectService.startDownload(name, {"acceptDownloadMethods": {"getUrl": True}})
    if started.get("method") != "getUrl":
        raise TaskclusterError(f"unknown download method {started.get('method')!r}",
                               code="InvalidResponse")
    content_type, observed = _fetch(started["url"], writerFactory, maxRetries,
                                    objectService.options.timeout, hashing=True)
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
    kind = artifact.get("storageType")
    if kind in ("s3", "reference"):
        return _fetch(artifact["url"], writerFactory, maxRetries, _timeout(queueService))[0]
    if kind == "object":
        from .objects import Object

        with Object({"rootUrl": queueService.options["rootUrl"], "maxRetries": maxRetries,
                     "credentials": artifact["credentials"]}) as objects:
            return download(name=artifact["name"], maxRetries=maxRetries,
                            objectService=objects, writerFactory=writerFactory)
    if kind == "error":
        raise _artifact_error(artifact)
    raise _unknown(artifact)


def _timeout(service: Any) -> Any:
    options = getattr(service, "options", None)
    return getattr(options, "timeout", 30.0) if options is not None else 30.0


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

async def _maybe_await(value: Any) -> Any:
    """``value``, awaited when it is awaitable (factories and writers may be sync or async)."""
    import inspect

    return await value if inspect.isawaitable(value) else value


async def _fetch_async(url: str, writerFactory: Callable[[], Any], maxRetries: int,
                       timeout: Any, hashing: bool = False) -> tuple[str, dict[str, str] | None]:
    import asyncio

    from .retry import RETRYABLE_ERRORS, backoff, retryable_status

    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as http:
        for attempt in range(maxRetries + 1):
            if attempt:
                await asyncio.sleep(backoff(attempt))
            writer = await _maybe_await(writerFactory())
            hasher = _HashingWriter(writer)
            try:
                async with http.stream("GET", url) as response:
                    if retryable_status(response.status_code) and attempt < maxRetries:
                        continue
                    if response.status_code >= 400:
                        raise _get_failed(response)
                    async for chunk in response.aiter_bytes(DEFAULT_CHUNK_SIZE):
                        await _maybe_await(writer.write(chunk))
                        if hashing:
                            hasher.update(chunk)
                    content_type = response.headers.get("content-type", "")
            except RETRYABLE_ERRORS:
                if attempt < maxRetries:
                    continue
                raise
            return content_type, hasher.hashes() if hashing else None
    raise AssertionError("unreachable")


async def download_async(*, name: str, maxRetries: int = 5, objectService: Any,
                         writerFactory: Callable[[], Any]) -> str:
    """:func:`download` for asyncio (``objectService`` an ``AsyncObject``)."""
    started = await objectService.startDownload(name, {"acceptDownloadMethods": {"getUrl": True}})
    if started.get("method") != "getUrl":
        raise TaskclusterError(f"unknown download method {started.get('method')!r}",
                               code="InvalidResponse")
    content_type, observed = await _fetch_async(started["url"], writerFactory, maxRetries,
                                                objectService.options.timeout, hashing=True)
    verify_hashes(observed or {}, started["hashes"])
    return content_type


async def downloadArtifact_async(*, taskId: str, name: str, runId: int | None = None,
                                 maxRetries: int = 5, queueService: Any,
                                 writerFactory: Callable[[], Any]) -> str:
    """:func:`downloadArtifact` for asyncio (``queueService`` an ``AsyncQueue``; writer
    factories and writers may be sync or async)."""
    if runId is None:
        artifact = await _maybe_await(queueService.latestArtifact(taskId, name))
    else:
        artifact = await _maybe_await(queueService.artifact(taskId, runId, name))
    kind = artifact.get("storageType")
    if kind in ("s3", "reference"):
        return (await _fetch_async(artifact["url"], writerFactory, maxRetries,
                                   _timeout(queueService)))[0]
    if kind == "object":
        from .objects import AsyncObject

        async with AsyncObject({"rootUrl": queueService.options["rootUrl"],
                                "maxRetries": maxRetries,
                                "credentials": artifact["credentials"]}) as objects:
            return await download_async(name=artifact["name"], maxRetries=maxRetries,
                                        objectService=objects, writerFactory=writerFactory)
    if kind == "error":
        raise _artifact_error(artifact)
    raise _unknown(artifact)


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
