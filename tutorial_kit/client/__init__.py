"""The Taskcluster Queue client on httpx: ``Queue`` (sync) and ``AsyncQueue``.

Also the helpers the official clients ship: ``slugid()``, ``fromNow()``/``fromNowJSON()`` and
``optionsFromEnvironment()``; and the one error type, ``TaskclusterError``, with its subclasses.
"""

from __future__ import annotations

from .aio import AsyncQueue
from .errors import (ArtifactError, TaskclusterAuthError, TaskclusterConfigError,
                     TaskclusterConnectionError, TaskclusterError)
from .fromnow import fromNow, fromNowJSON
from .options import optionsFromEnvironment
from .slugid import slugid
from .sync import Queue

#: The official clients' spelling (``taskcluster.slugId()``), so their examples run unchanged.
slugId = slugid

__all__ = [
    "ArtifactError",
    "AsyncQueue",
    "Queue",
    "TaskclusterAuthError",
    "TaskclusterConfigError",
    "TaskclusterConnectionError",
    "TaskclusterError",
    "fromNow",
    "fromNowJSON",
    "optionsFromEnvironment",
    "slugId",
    "slugid",
]
