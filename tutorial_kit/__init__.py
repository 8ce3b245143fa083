"""tutorial-kit: learn the Taskcluster Queue API hands-on.

The public surface is small and imported lazily, so ``import tutorial_kit`` stays cheap in a
kernel that only needs the client.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Queue": "tutorial_kit.client",
    "AsyncQueue": "tutorial_kit.client",
    "TaskclusterError": "tutorial_kit.client",
    "TaskclusterAuthError": "tutorial_kit.client",
    "TaskclusterConnectionError": "tutorial_kit.client",
    "TaskclusterConfigError": "tutorial_kit.client",
    "ArtifactError": "tutorial_kit.client",
    "TaskclusterArtifactError": "tutorial_kit.client.errors",
    "Object": "tutorial_kit.client.objects",
    "AsyncObject": "tutorial_kit.client.objects",
    "optionsFromEnvironment": "tutorial_kit.client",
    "slugid": "tutorial_kit.client",
    "slugId": "tutorial_kit.client",
    "fromNow": "tutorial_kit.client",
    "fromNowJSON": "tutorial_kit.client",
    "connect": "tutorial_kit.connection",
    "embedded_mock": "tutorial_kit.connection",
    "doctor": "tutorial_kit.selfcheck",
}

# Submodules a notebook may reach as attributes: `tk.lessons.wait_resolved(...)`.
_SUBMODULES = {"lessons", "frames", "widgets", "exercises", "mockctl", "mock", "api",
               "upload", "download", "aio"}
_SUBMODULES.add("inspector")  # tk.inspector.inspector_url(rootUrl, taskId): a task's page

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"tutorial_kit.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tutorial_kit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__ + sorted(_SUBMODULES)
