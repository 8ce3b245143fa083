"""Live views of the Queue for notebooks: status, schema table, artifacts, events, controls.

Each widget reads through the client (``tutorial_kit.Queue`` or ``AsyncQueue``), so it works
against the mock and against a real deployment; mock-only features say so instead of failing.
Imports are lazy so that ``import tutorial_kit.widgets`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "StatusWidget": "tutorial_kit.widgets.status",
    "SchemaTable": "tutorial_kit.widgets.schema_table",
    "ArtifactBrowser": "tutorial_kit.widgets.artifacts",
    "EventLog": "tutorial_kit.widgets.events",
    "ClusterControls": "tutorial_kit.widgets.controls",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tutorial_kit.widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
