"""The mock queue: a wire-compatible Taskcluster Queue v1 service for the tutorials.

``start()`` runs one in a background thread and returns a :class:`MockQueue` handle
(``root_url``, ``credentials``, ``env()``, ``stop()``); ``start(in_process=True)`` runs the same
application with no server or socket (``inprocess.py``). Imports are lazy, so importing
``tutorial_kit.mock`` does not load the server until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import MockQueue, start

__all__ = ["MockQueue", "start"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module 'tutorial_kit.mock' has no attribute {name!r}")
