"""``Object`` / ``AsyncObject``: clients of a deployment's Object service (``/api/object/v1``).

Object artifacts keep their bytes there. The upload and download helpers
(:mod:`tutorial_kit.upload`, :mod:`tutorial_kit.download`) take one of these as
``objectService``, as the official helpers do; most learners never build one themselves, since
``downloadArtifact`` makes one from the credentials the queue hands out.

Same options, signing, retries and errors as :class:`~tutorial_kit.client.Queue`: both derive
from the same service clients (``sync.ServiceClient``, ``aio.AsyncServiceClient``); only the
method table (:data:`tutorial_kit.api.OBJECT_ENTRIES`) and the service name differ.
"""

from __future__ import annotations

from tutorial_kit.api import OBJECT_BY_NAME, OBJECT_ENTRIES, OBJECT_SERVICE_NAME, Entry

from .aio import AsyncServiceClient
from .aio import make_method as make_async_method
from .calls import _fail, install_methods
from .methods import AsyncObjectMethods, ObjectMethods
from .sync import ServiceClient, make_method


def _entry(methodName: str) -> Entry:
    entry = OBJECT_BY_NAME.get(methodName) if isinstance(methodName, str) else None
    if entry is None:
        raise _fail(None, f"the Object service has no method {methodName!r}; known methods: "
                          + ", ".join(sorted(OBJECT_BY_NAME)))
    return entry


class Object(ServiceClient, ObjectMethods):
    """The Object service: ``createUpload``, ``finishUpload``, ``startDownload``, ``object``,
    ``download`` (a URL for ``buildSignedUrl``), ``ping``. Options as :class:`Queue`'s."""

    serviceName = OBJECT_SERVICE_NAME
    _entry = staticmethod(_entry)


class AsyncObject(AsyncServiceClient, AsyncObjectMethods):
    """:class:`Object` for asyncio code: ``await objects.startDownload(name, {...})``."""

    serviceName = OBJECT_SERVICE_NAME
    _entry = staticmethod(_entry)


install_methods(Object, make_method, entries=OBJECT_ENTRIES)
install_methods(AsyncObject, make_async_method, entries=OBJECT_ENTRIES)
