"""Import ``jsonschema`` without paying for format checkers nobody has used yet.

``jsonschema._format`` imports the optional packages behind its format checkers as it loads,
whichever of them are installed (Jupyter's ``jsonschema[format-nongpl]`` extra brings them all).
The worst is ``rfc3987_syntax``, which compiles some forty Lark grammars at import time: about
0.7-1.3 s, most of a kernel's first cell, for the ``iri`` and ``iri-reference`` formats, which
no Queue schema uses; ``rfc3986_validator``, ``rfc3339_validator``, ``fqdn``, ``webcolors`` and
``uri_template`` add another 10 ms or so. Importing this module first imports ``jsonschema``
with a stand-in for each of those (when installed) that loads the real package the first time
its format is actually checked. Nothing else changes: jsonschema's format checker still checks
every format it knows, and a later ``import rfc3987_syntax`` (or any of the others) gets the
real module.

(``isoduration``, ``jsonpointer`` and ``idna`` are left alone: jsonschema needs their exception
classes as it loads.)

Import it before ``jsonschema`` anywhere in the package::

    from tutorial_kit._jsonschema import jsonschema
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

#: The packages deferred, each with the name jsonschema imports from it as it loads (a stand-in
#: function loads the package on its first call), or None where jsonschema keeps the module
#: and reads it only while checking (the stand-in module loads it on the first attribute read).
DEFERRED: dict[str, str | None] = {
    "rfc3987_syntax": "is_valid_syntax",
    "rfc3986_validator": "validate_rfc3986",
    "rfc3339_validator": "validate_rfc3339",
    "fqdn": "FQDN",
    "webcolors": None,
    "uri_template": None,
}


def _deferred(name: str, function: str | None) -> types.ModuleType:
    """A module that stands for the package ``name`` while jsonschema imports it."""
    stand_in = types.ModuleType(name, f"loads the real {name} on first use")

    def real() -> types.ModuleType:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name)

    def attribute_of_real(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system asking (__path__, ...)
            raise AttributeError(attribute)
        return getattr(real(), attribute)

    # PEP 562: read for any attribute the stand-in does not have (also for whoever else imports
    # the package in the moment jsonschema is loading, say in another thread)
    stand_in.__getattr__ = attribute_of_real  # type: ignore[attr-defined]
    if function is not None:
        loaded: list[Any] = []

        def call(*args: Any, **kwargs: Any) -> Any:
            if not loaded:
                loaded.append(getattr(real(), function))
            return loaded[0](*args, **kwargs)

        call.__name__ = function
        setattr(stand_in, function, call)
    return stand_in


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import() -> types.ModuleType:
    if "jsonschema" in sys.modules:
        return importlib.import_module("jsonschema")  # already paid for
    stand_ins = {name: _deferred(name, function) for name, function in DEFERRED.items()
                 if name not in sys.modules and _installed(name)}  # (else not ours to defer)
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("jsonschema")
    finally:
        # jsonschema keeps its references to the stand-ins; everyone else who imports these
        # packages from now on gets the real modules.
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


jsonschema = _import()

__all__ = ["jsonschema"]
