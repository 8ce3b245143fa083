"""Uploading an object to the Object service, as the official helpers do (``taskcluster.upload``).

The way: ``createUpload`` offering ``dataInline`` (data under 8 KiB, base64 in the request) and
``putUrl``; if the service picked ``putUrl``, one HTTP PUT of the bytes with the headers it gave;
then ``finishUpload`` with the SHA-256 and SHA-512 of what was sent. For an object *artifact*
the worker first calls the queue's ``createArtifact`` (``storageType: "object"``), uploads with
the credentials it returned, then calls ``finishArtifact``.

Data comes from a *reader* (``read(max_size) -> bytes``, ``b""`` at the end) that a
*reader factory* makes fresh for every attempt. Sync functions here; the ``*_async`` ones are
the same for asyncio code (:mod:`tutorial_kit.aio.upload` names them as the official client).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import time
from typing import Any, Awaitable, Callable

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from .aio import maybe_await
from .aio import retrying as retrying_async
from .errors import TaskclusterError, data_gave_up
from .retry import Attempts, sleep_of
from .slugid import slugid
from .sync import retrying
from .tls import ssl_context

DATA_INLINE_MAX_SIZE = 8192
CHUNK_SIZE = 64 * 1024


class _Hashing:
    """Counts and hashes the bytes read for one attempt."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.sha512 = hashlib.sha512()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.sha512.update(chunk)
        self.size += len(chunk)

    def hashes(self, contentLength: int) -> dict[str, str]:
        if self.size != contentLength:
            raise TaskclusterError(f"read {self.size} bytes but contentLength is {contentLength}",
                                   code="InvalidArgument")
        return {"sha256": self.sha256.hexdigest(), "sha512": self.sha512.hexdigest()}


def _proposal(contentType: str, contentLength: int, data: bytes | None) -> dict[str, Any]:
    proposed: dict[str, Any] = {}
    if data is not None:
        proposed["dataInline"] = {"contentType": contentType,
                                  "objectData": base64.b64encode(data).decode("ascii")}
    proposed["putUrl"] = {"contentType": contentType, "contentLength": contentLength}
    return proposed


def _put_failed(response: httpx.Response) -> TaskclusterError:
    return TaskclusterError(f"the PUT of the object's data answered {response.status_code}: "
                            f"{response.text[:200]}", status_code=response.status_code,
                            code="UploadFailed", url=str(response.request.url))


def _read_all(reader: Any, hashing: _Hashing) -> bytes:
    out = io.BytesIO()
    while chunk := reader.read(CHUNK_SIZE):
        hashing.update(chunk)
        out.write(chunk)
    return out.getvalue()


def _put_target(created: dict[str, Any]) -> dict[str, Any] | None:
    """The ``putUrl`` method the Object service chose, or None when it took the data inline."""
    method = created["uploadMethod"]
    if "putUrl" in method:
        return method["putUrl"]
    if "dataInline" not in method:
        raise TaskclusterError("the Object service accepted none of the upload methods offered",
                               code="NoUploadMethod")
    return None


def _create_upload(projectId: str, uploadId: str, contentType: str, contentLength: int,
                   expires: Any, inline: bytes | None) -> dict[str, Any]:
    return {"expires": expires, "projectId": projectId, "uploadId": uploadId,
            "proposedUploadMethods": _proposal(contentType, contentLength, inline)}


def _finish_upload(projectId: str, uploadId: str, hashing: _Hashing,
                   contentLength: int) -> dict[str, Any]:
    return {"projectId": projectId, "uploadId": uploadId, "hashes": hashing.hashes(contentLength)}


def _check_put(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise _put_failed(response)


def upload(*, projectId: str, name: str, contentType: str, contentLength: int, expires: Any,
           readerFactory: Callable[[], Any], maxRetries: int = 5, uploadId: str | None = None,
           objectService: Any) -> None:
    """Upload an object's data from readers ``readerFactory()`` makes; see the module doc.

    ``objectService`` is an :class:`~tutorial_kit.client.objects.Object` client whose
    credentials allow ``object:upload:<projectId>:<name>``.
    """
    uploadId = uploadId or slugid()
    hashing = _Hashing()
    inline = None
    if contentLength < DATA_INLINE_MAX_SIZE:
        inline = _read_all(readerFactory(), hashing)
    created = objectService.createUpload(name, _create_upload(
        projectId, uploadId, contentType, contentLength, expires, inline))
    put = _put_target(created)
    if put is not None:
        with httpx.Client(timeout=objectService.options.timeout, verify=ssl_context()) as http:
            def attempt() -> httpx.Response:
                nonlocal hashing
                hashing = _Hashing()
                data = _read_all(readerFactory(), hashing)
                return http.put(put["url"], content=data, headers=put["headers"])

            _check_put(retrying(attempt, Attempts(maxRetries, data_gave_up(put["url"])),
                                sleep_of(objectService, time.sleep)))
    objectService.finishUpload(name, _finish_upload(projectId, uploadId, hashing, contentLength))


def uploadFromBuf(*, data: bytes, **kwargs: Any) -> None:
    """``upload`` from bytes in memory (``contentLength`` is still required, as upstream)."""
    upload(readerFactory=lambda: io.BytesIO(data), **kwargs)


def uploadFromFile(*, file: Any, **kwargs: Any) -> None:
    """``upload`` from a binary file object that can ``seek`` (each attempt starts over)."""
    upload(readerFactory=_rewound(file), **kwargs)


def _rewound(file: Any) -> Callable[[], Any]:
    def factory() -> Any:
        file.seek(0)
        return file
    return factory


# -- asyncio --------------------------------------------------------------------------------

async def _read_all_async(reader: Any, hashing: _Hashing) -> bytes:
    out = io.BytesIO()
    while chunk := await maybe_await(reader.read(CHUNK_SIZE)):
        hashing.update(chunk)
        out.write(chunk)
    return out.getvalue()


async def upload_async(*, projectId: str, name: str, contentType: str, contentLength: int,
                       expires: Any, readerFactory: Callable[[], Any | Awaitable[Any]],
                       maxRetries: int = 5, uploadId: str | None = None,
                       objectService: Any) -> None:
    """:func:`upload` for asyncio: ``objectService`` is an ``AsyncObject``; the reader factory
    and the readers may be sync or async."""
    uploadId = uploadId or slugid()
    hashing = _Hashing()
    inline = None
    if contentLength < DATA_INLINE_MAX_SIZE:
        inline = await _read_all_async(await maybe_await(readerFactory()), hashing)
    created = await objectService.createUpload(name, _create_upload(
        projectId, uploadId, contentType, contentLength, expires, inline))
    put = _put_target(created)
    if put is not None:
        async with httpx.AsyncClient(timeout=objectService.options.timeout,
                                     verify=ssl_context()) as http:
            async def attempt() -> httpx.Response:
                nonlocal hashing
                hashing = _Hashing()
                data = await _read_all_async(await maybe_await(readerFactory()), hashing)
                return await http.put(put["url"], content=data, headers=put["headers"])

            _check_put(await retrying_async(attempt,
                                            Attempts(maxRetries, data_gave_up(put["url"])),
                                            sleep_of(objectService, asyncio.sleep)))
    await objectService.finishUpload(name, _finish_upload(projectId, uploadId, hashing,
                                                          contentLength))


async def uploadFromBuf_async(*, data: bytes, **kwargs: Any) -> None:
    await upload_async(readerFactory=lambda: io.BytesIO(data), **kwargs)


async def uploadFromFile_async(*, file: Any, **kwargs: Any) -> None:
    await upload_async(readerFactory=_rewound(file), **kwargs)
