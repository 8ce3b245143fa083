"""The schemas and references the package ships (``mock/schemas``, ``mock/references``), as the
mock's validators find them and as a deployment serves them.

The documents are read on first use, once per process, and jsonschema is imported with the
first validator (a mock starts, in a kernel's first cell, without it). Schemas are registered
in a ``referencing`` registry under a made-up origin, so relative ``$ref``s resolve as they would
under a real rootUrl; :meth:`SchemaRegistry.compiled` builds a draft-06 validator per schema
with its ``$ref``s inlined where that is bounded; the served forms carry the caller's rootUrl.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

if TYPE_CHECKING:
    from jsonschema import Draft6Validator
    from referencing import Registry

__all__ = ["SchemaRegistry", "UnknownSchema", "ORIGIN"]

#: Schemas are registered under this made-up origin, so their root-relative ``$id``s become
#: absolute URIs and relative ``$ref``s resolve exactly as they would under a real rootUrl.
ORIGIN = "https://tutorial-kit.invalid"


#: keywords whose values are data, not schemas (never searched for `$ref`)
_LITERAL_KEYWORDS = frozenset({"enum", "const", "default", "examples", "required"})
#: keywords whose values map names to schemas
_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})


class UnknownSchema(LookupError):
    """A schema or reference name that the package does not ship."""


def _walk_json(folder: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for child in sorted(folder.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk_json(child, rel + "/")
        elif child.name.endswith(".json"):
            yield rel, json.loads(child.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _package_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """(schemas by path under schemas/, references by path under references/), read once."""
    base = resources.files("tutorial_kit.mock")
    schemas = dict(_walk_json(base.joinpath("schemas")))
    references = dict(_walk_json(base.joinpath("references")))
    return schemas, references


def _absolute(uri: Any, root_url: str) -> Any:
    return root_url.rstrip("/") + uri if isinstance(uri, str) and uri.startswith("/") else uri


def _schema_path(name: str) -> str:
    """Normalise the ways a schema gets named to its path under ``schemas/``.

    ``create-task-request.json``, ``v1/create-task-request.json#`` (as api.json writes it),
    ``queue/v1/create-task-request.json`` and ``/schemas/queue/v1/create-task-request.json#``
    all name the same file.
    """
    if not isinstance(name, str):
        raise UnknownSchema(f"schema name must be a string, not {type(name).__name__}")
    path = name.split("#", 1)[0].lstrip("/")
    if path.startswith("schemas/"):
        path = path[len("schemas/"):]
    if path.startswith("v1/"):
        path = "queue/" + path
    if "/" not in path:
        path = "queue/v1/" + path
    return path


class SchemaRegistry:
    """The shipped schemas and references, their ``referencing`` registry, and a compiled
    draft-06 validator per schema (with Ajv's formats)."""

    def __init__(self) -> None:
        # The documents and the registry are read and built on first use, not here: a mock
        # starts (a kernel's first cell) without reading every schema file.
        self._validators: dict[str, Draft6Validator] = {}

    @property
    def _schemas(self) -> dict[str, Any]:
        return _package_documents()[0]

    @property
    def _references(self) -> dict[str, Any]:
        return _package_documents()[1]

    @functools.cached_property
    def _registry(self) -> Registry:
        # first: imports jsonschema with its IRI grammar (rfc3987_syntax, ~1 s) built on first use
        from tutorial_kit._jsonschema import jsonschema  # noqa: F401  # isort: skip

        from jsonschema_specifications import REGISTRY as SPECIFICATIONS
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT6

        resources_ = [
            (ORIGIN + doc["$id"].split("#", 1)[0],
             Resource.from_contents(doc, default_specification=DRAFT6))
            for doc in self._schemas.values()
        ]
        # draft-06 itself is the one outside target (metaschema.json points at it)
        return Registry().with_resources(resources_).combine(SPECIFICATIONS)

    # -- lookups ---------------------------------------------------------------------------

    def schema_names(self) -> list[str]:
        """Every shipped schema, as a path under ``schemas/`` (``queue/v1/task.json``, ...)."""
        return sorted(self._schemas)

    def compiled(self, schema_name: str) -> tuple[str, Draft6Validator]:
        """The path of a schema under ``schemas/`` and its validator (built once)."""
        path = _schema_path(schema_name)
        validator = self._validators.get(path)
        if validator is None:
            schema = self._schemas.get(path)
            if schema is None:
                raise UnknownSchema(f"no schema named {schema_name!r} in tutorial_kit/mock/schemas")
            base = ORIGIN + schema["$id"].split("#")[0]
            # an absolute $id, so relative $refs resolve in the registry
            rooted = {**schema, "$id": base + "#"}
            registry = self._registry  # (imports jsonschema)
            from jsonschema import Draft6Validator

            from .ajv import FORMATS

            validator = Draft6Validator(self._inlined(rooted, base) or rooted,
                                        registry=registry, format_checker=FORMATS)
            self._validators[path] = validator
        return path, validator

    def _inlined(self, schema: dict, base: str) -> dict | None:
        """``schema`` with its ``$ref``s replaced by their targets, or None if that grows too big.

        Following a ``$ref`` through the registry costs more than validating what it points to,
        and a createTask body crosses seventeen of them; inlined, validation is over twice as
        fast. Recursive references (the meta-schemas) are left as ``$ref``s. In draft-06 a
        ``$ref`` replaces its siblings anyway, so nothing else changes.
        """
        budget = [20_000]  # nodes; shared sub-schemas are copied, so bound the total

        def walk(node: Any, base: str, stack: frozenset[tuple[str, str]],
                 names: bool = False) -> Any:
            """``names``: ``node`` maps names to schemas (``properties``, ``definitions``)."""
            budget[0] -= 1
            if budget[0] < 0:
                raise OverflowError
            if isinstance(node, list):
                return [walk(x, base, stack) for x in node]
            if not isinstance(node, dict):
                return node
            if names:
                return {k: walk(x, base, stack) for k, x in node.items()}
            ref = node.get("$ref")
            if isinstance(ref, str):
                target_uri = urljoin(base, ref)
                url, fragment = urldefrag(target_uri)
                if (url, fragment) in stack:
                    return {**node, "$ref": target_uri}  # absolute: it may now sit elsewhere
                target = self._registry.resolver(base_uri=base).lookup(ref).contents
                inlined = walk(target, url, stack | {(url, fragment)})
                if isinstance(inlined, dict) and "$id" in inlined:
                    # keep the base for any refs left inside; `$schema` means nothing down here
                    inlined = {**{k: x for k, x in inlined.items() if k != "$schema"},
                               "$id": url + "#"}
                return inlined
            return {k: (x if k in _LITERAL_KEYWORDS
                        else walk(x, base, stack, names=k in _NAME_MAPS))
                    for k, x in node.items()}

        try:
            return walk(schema, base, frozenset({(base, "")}))
        except (OverflowError, LookupError, RecursionError):
            return None

    # -- documents served under /schemas and /references -------------------------------------

    def schema_document(self, path: str, root_url: str) -> dict | None:
        """A schema as a deployment serves it: ``$id``/``$schema`` prefixed with ``root_url``.

        ``path`` is relative to ``/schemas/`` (``queue/v1/task-status.json``); ``None`` if the
        package has no such schema. Nothing else (in particular no ``$ref``) is rewritten.
        """
        doc = self._schemas.get(path.split("#", 1)[0].lstrip("/")) if isinstance(path, str) else None
        return None if doc is None else self._absolutized(doc, root_url)

    def reference_document(self, path: str, root_url: str) -> dict | None:
        """``queue/v1/api.json``, ``queue/v1/exchanges.json`` or ``manifest.json``, served form."""
        doc = self._references.get(path.lstrip("/")) if isinstance(path, str) else None
        return None if doc is None else self._absolutized(doc, root_url)

    @staticmethod
    def _absolutized(doc: dict, root_url: str) -> dict:
        out = copy.deepcopy(doc)
        for key in ("$id", "$schema"):
            if key in out:
                out[key] = _absolute(out[key], root_url)
        return out
