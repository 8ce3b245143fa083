"""Import ``jsonschema`` without paying for format checkers nobody has used yet.

``jsonschema._format`` imports ``rfc3987_syntax`` when it is installed (Jupyter's
``jsonschema[format-nongpl]`` extra brings it), and that module compiles some forty Lark grammars
at import time: about 0.7-1.3 s, most of a kernel's first cell, for the ``iri`` and
``iri-reference`` formats, which no Queue schema uses. Importing this module first imports
``jsonschema`` with a stand-in for ``rfc3987_syntax`` whose ``is_valid_syntax`` loads the real
package the first time an IRI format is actually checked. Nothing else changes: jsonschema's
format checker still checks every format it knows, and a later ``import rfc3987_syntax`` gets
the real module.

Import it before ``jsonschema`` anywhere in the package::

    from tutorial_kit._jsonschema import jsonschema
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_NAME = "rfc3987_syntax"


def _deferred() -> types.ModuleType:
    """A module that stands for ``rfc3987_syntax`` while jsonschema imports it."""
    stand_in = types.ModuleType(_NAME, "loads the real rfc3987_syntax on first use")

    def is_valid_syntax(rule: str, value: Any) -> bool:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        return importlib.import_module(_NAME).is_valid_syntax(rule, value)

    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    return stand_in


def _import() -> types.ModuleType:
    if "jsonschema" in sys.modules or _NAME in sys.modules:
        return importlib.import_module("jsonschema")  # already paid for, or not ours to defer
    try:
        installed = importlib.util.find_spec(_NAME) is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        return importlib.import_module("jsonschema")
    stand_in = _deferred()
    sys.modules[_NAME] = stand_in
    try:
        return importlib.import_module("jsonschema")
    finally:
        # jsonschema keeps its reference to the stand-in's function; everyone else who
        # imports rfc3987_syntax from now on gets the real module.
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]


jsonschema = _import()

__all__ = ["jsonschema"]
