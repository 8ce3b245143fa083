"""``Object`` / ``AsyncObject``: clients of a deployment's Object service (``/api/object/v1``).

Object artifacts keep their bytes there. The upload and download helpers
(:mod:`tutorial_kit.upload`, :mod:`tutorial_kit.download`) take one of these as
``objectService``, as the official helpers do; most learners never build one themselves, since
``downloadArtifact`` makes one from the credentials the queue hands out.

Same options, signing, retries and errors as :class:`~tutorial_kit.client.Queue`: the request
loop is the Queue's own, only the method table (:data:`tutorial_kit.api.OBJECT_ENTRIES`) and the
service name differ.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

from tutorial_kit.api import OBJECT_BY_NAME, OBJECT_ENTRIES, OBJECT_SERVICE_NAME, Entry

from .aio import AsyncQueue
from .calls import QueueBase, _fail, install_methods
from .methods import AsyncObjectMethods, ObjectMethods
from .sync import Queue


def _entry(methodName: str) -> Entry:
    entry = OBJECT_BY_NAME.get(methodName) if isinstance(methodName, str) else None
    if entry is None:
        raise _fail(None, f"the Object service has no method {methodName!r}; known methods: "
                          + ", ".join(sorted(OBJECT_BY_NAME)))
    return entry


class Object(QueueBase, ObjectMethods):
    """The Object service: ``createUpload``, ``finishUpload``, ``startDownload``, ``object``,
    ``download`` (a URL for ``buildSignedUrl``), ``ping``."""

    serviceName = OBJECT_SERVICE_NAME
    _entry = staticmethod(_entry)
    def __init__(self, options: Any = None, *, sleep: Any = None, transport: Any = None,
                 **keywords: Any) -> None:
        QueueBase.__init__(self, options, **keywords)
        self._sleep = sleep or time.sleep
        self._transport = transport
        self._client = None
        self._client_lock = threading.Lock()

    # the Queue's request loop and lifetime, unchanged
    _http = Queue._http
    close = Queue.close
    __enter__ = Queue.__enter__
    __exit__ = Queue.__exit__
    _send = Queue._send
    _request = Queue._request
    _call = Queue._call


class AsyncObject(QueueBase, AsyncObjectMethods):
    """:class:`Object` for asyncio code: ``await objects.startDownload(name, {...})``."""

    serviceName = OBJECT_SERVICE_NAME
    _entry = staticmethod(_entry)

    def __init__(self, options: Any = None, *, sleep: Any = None, transport: Any = None,
                 **keywords: Any) -> None:
        QueueBase.__init__(self, options, **keywords)
        self._sleep = sleep or asyncio.sleep
        self._transport = transport
        self._client = None

    _http = AsyncQueue._http
    aclose = AsyncQueue.aclose
    __aenter__ = AsyncQueue.__aenter__
    __aexit__ = AsyncQueue.__aexit__
    _send = AsyncQueue._send
    _request = AsyncQueue._request
    _call = AsyncQueue._call


def _make_sync(entry: Entry) -> Callable[..., Any]:
    def method(self: Object, *args: Any, **kwargs: Any) -> Any:
        return self._call(entry, args, kwargs)
    return method


def _make_async(entry: Entry) -> Callable[..., Any]:
    async def method(self: AsyncObject, *args: Any, **kwargs: Any) -> Any:
        return await self._call(entry, args, kwargs)
    return method


install_methods(Object, _make_sync, entries=OBJECT_ENTRIES)
install_methods(AsyncObject, _make_async, entries=OBJECT_ENTRIES)
