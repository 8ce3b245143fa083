"""Fetch JSON schemas from a deployment, resolve ``$ref`` across files, build validators.

A deployment serves its schemas at ``<rootUrl>/schemas/<service>/v1/<name>.json`` with absolute
``$id``s, and relative ``$ref``s (``task.json#/properties/priority``). Documents are cached per
URL (so per deployment) for the life of the kernel; :func:`clear_cache` forgets them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

from ._client import get_json

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

_cache: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()

META_PREFIXES = ("http://json-schema.org/", "https://json-schema.org/")


class SchemaLoadError(Exception):
    """A schema (or a document a ``$ref`` points at) could not be fetched or followed."""


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def schema_url(schema: str, root_url: str, service: str = "queue") -> str:
    """The absolute URL of a schema given by name, path or URL.

    ``task-status-response``, ``task-status-response.json``, ``v1/task-status-response.json``,
    ``/schemas/queue/v1/task-status-response.json#`` and a full URL all work.
    """
    name = schema.strip()
    if not name:
        raise ValueError("empty schema name")
    if name.startswith(("http://", "https://")):
        return urldefrag(name)[0]
    name = urldefrag(name)[0]
    if name.startswith("/"):
        return root_url.rstrip("/") + name
    if name.startswith("schemas/"):
        return f"{root_url.rstrip('/')}/{name}"
    if name.startswith("v1/"):
        name = name[3:]
    if "/" in name:  # "queue/v1/x.json" or "common/x.json"
        return f"{root_url.rstrip('/')}/schemas/{name}"
    if not name.endswith(".json"):
        name += ".json"
    return f"{root_url.rstrip('/')}/schemas/{service}/v1/{name}"


def absolutize(document: dict[str, Any], url: str) -> dict[str, Any]:
    """Give a document the absolute ``$id`` a deployment would (root-relative ids get the host)."""
    doc = dict(document)
    for key in ("$id", "$schema"):
        value = doc.get(key)
        if isinstance(value, str) and value.startswith("/"):
            doc[key] = urljoin(url, value)
    if not isinstance(doc.get("$id"), str):
        doc["$id"] = url + "#"
    return doc


def load(url: str) -> dict[str, Any]:
    """The schema document at ``url`` (fragment ignored), fetched once and cached."""
    url = urldefrag(url)[0]
    with _lock:
        cached = _cache.get(url)
    if cached is not None:
        return cached
    try:
        document = get_json(url)
    except Exception as error:
        raise SchemaLoadError(f"cannot load {url}: {type(error).__name__}: {error}") from None
    if not isinstance(document, dict):
        raise SchemaLoadError(f"{url} is not a JSON schema (got {type(document).__name__})")
    document = absolutize(document, url)
    with _lock:
        _cache[url] = document
    return document


def preload(url: str, document: dict[str, Any]) -> None:
    """Put a document in the cache (e.g. a schema given as a dict), under its URL."""
    with _lock:
        _cache[urldefrag(url)[0]] = absolutize(document, urldefrag(url)[0])


def base_of(schema: dict[str, Any], inherited: str) -> str:
    """The base URL for refs inside ``schema``: its own ``$id`` if it has one."""
    own = schema.get("$id")
    return urljoin(inherited, own) if isinstance(own, str) and own else inherited


def pointer(document: Any, fragment: str) -> Any:
    """Follow a JSON pointer fragment (``/properties/priority``) inside a document."""
    if not fragment:
        return document
    node = document
    for raw in fragment.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"#{fragment} has no {part!r}")
    return node


def resolve(ref: str, base: str) -> tuple[dict[str, Any], str, str]:
    """Resolve ``ref`` against ``base``: (target schema, its base URL, the absolute ref)."""
    target = urljoin(base, ref)
    url, fragment = urldefrag(target)
    if url.startswith(META_PREFIXES):
        return {"title": "JSON Schema (draft-06)", "description": f"the meta-schema `{url}`",
                "type": "object"}, url, target
    document = load(url)
    try:
        node = pointer(document, fragment)
    except (KeyError, IndexError, ValueError) as error:
        raise SchemaLoadError(f"$ref {ref!r} from {base}: {error}") from None
    if not isinstance(node, dict):
        raise SchemaLoadError(f"$ref {ref!r} does not point at a schema")
    return node, base_of(node, url), target


def validator(document: dict[str, Any]) -> Validator:
    """A draft-06 validator (formats checked) that fetches referenced files on demand."""
    # Imported here, not with the module: jsonschema and referencing cost a kernel about 50 ms,
    # and most schema tables are only looked at, never asked to check an instance.
    # First: jsonschema with its IRI grammar (rfc3987_syntax, ~1 s at import) built on first use.
    from tutorial_kit._jsonschema import jsonschema  # isort: skip

    import referencing
    import referencing.jsonschema
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS
    from referencing.exceptions import Unresolvable

    def retrieve(uri: str) -> referencing.Resource:
        if uri.startswith(META_PREFIXES):
            return SPECIFICATIONS.get_or_retrieve(uri).value
        try:
            contents = load(uri)
        except SchemaLoadError as error:
            raise Unresolvable(uri) from error
        return referencing.Resource.from_contents(
            contents, default_specification=referencing.jsonschema.DRAFT6)

    registry: referencing.Registry = referencing.Registry(retrieve=retrieve)
    root = referencing.Resource.from_contents(document,
                                              default_specification=referencing.jsonschema.DRAFT6)
    registry = registry.with_resource(document["$id"], root)
    cls = jsonschema.Draft6Validator
    return cls(document, registry=registry, format_checker=cls.FORMAT_CHECKER)
