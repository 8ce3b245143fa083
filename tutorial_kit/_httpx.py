"""Import ``httpx`` without its command-line client.

``httpx/__init__.py`` imports ``httpx._main`` (the ``httpx`` command) whenever ``rich``, ``click``
and ``pygments`` are installed, as they are beside Jupyter and uvicorn: about 40 ms of a kernel's
first cell, for a command nobody runs from a notebook. Importing this module first imports
``httpx`` with a stand-in for ``httpx._main`` whose ``main`` loads the real module the first time
it is called. Nothing else changes: ``httpx.main()`` still runs the command line client, and a
later ``import httpx._main`` gets the real module.

Import it before ``httpx`` in every module of the package that imports ``httpx``::

    import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
    import httpx
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_NAME = "httpx._main"


def main(*args: Any, **kwargs: Any) -> Any:
    """``httpx.main``: the real command line client, loaded on its first call."""
    if sys.modules.get(_NAME) is _stand_in:
        del sys.modules[_NAME]
    real = importlib.import_module(_NAME).main
    sys.modules["httpx"].main = real  # from now on, no stand-in in the way
    return real(*args, **kwargs)


_stand_in = types.ModuleType(_NAME, "loads the real httpx._main on first use")
_stand_in.main = main  # type: ignore[attr-defined]


def _import() -> types.ModuleType:
    if "httpx" in sys.modules or _NAME in sys.modules:
        return importlib.import_module("httpx")  # already paid for, or not ours to defer
    sys.modules[_NAME] = _stand_in
    try:
        return importlib.import_module("httpx")
    finally:
        # httpx keeps the stand-in's main(); everyone who imports httpx._main from now on gets
        # the real module.
        if sys.modules.get(_NAME) is _stand_in:
            del sys.modules[_NAME]


httpx = _import()

__all__ = ["httpx"]
