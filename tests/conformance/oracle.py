"""The official schemas as validators: method -> output schema, exchange -> message schema.

Built like a deployment serves them: ``$id``/``$schema`` made absolute against a root URL,
``$ref`` left relative, draft-06 by default, formats enforced.
"""

from __future__ import annotations

import json
import pathlib
from functools import cached_property
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema
from jsonschema_specifications import REGISTRY as SPECIFICATIONS

ORACLE_ROOT = "https://oracle.invalid"
DRAFT6 = referencing.jsonschema.DRAFT6


def absolutize(schema: dict[str, Any], root_url: str) -> dict[str, Any]:
    out = dict(schema)
    for key in ("$id", "$schema"):
        if isinstance(out.get(key), str) and out[key].startswith("/"):
            out[key] = root_url + out[key]
    return out


class Oracle:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder

    @cached_property
    def schemas(self) -> dict[str, dict[str, Any]]:
        """Abstract path (``/schemas/queue/v1/x.json``) -> schema as stored."""
        out = {}
        for path in sorted((self.folder / "schemas").rglob("*.json")):
            out["/" + path.relative_to(self.folder).as_posix()] = json.loads(path.read_text())
        return out

    @cached_property
    def registry(self) -> referencing.Registry:
        resources = []
        for schema in self.schemas.values():
            schema = absolutize(schema, ORACLE_ROOT)
            resources.append((schema["$id"].rstrip("#"),
                              referencing.Resource.from_contents(schema, default_specification=DRAFT6)))
        return (SPECIFICATIONS.combine(referencing.Registry())).with_resources(resources)

    @cached_property
    def api(self) -> dict[str, Any]:
        return json.loads((self.folder / "references/queue/v1/api.json").read_text())

    @cached_property
    def exchanges(self) -> dict[str, Any]:
        return json.loads((self.folder / "references/queue/v1/exchanges.json").read_text())

    def _validator(self, relative: str) -> jsonschema.Draft6Validator:
        name = relative.split("/", 1)[1].split("#")[0]  # "v1/x.json#" -> "x.json"
        schema = absolutize(self.schemas[f"/schemas/queue/v1/{name}"], ORACLE_ROOT)
        return jsonschema.Draft6Validator(schema, registry=self.registry,
                                          format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER)

    def output_validator(self, method: str) -> jsonschema.Draft6Validator | None:
        for entry in self.api["entries"]:
            if entry["name"] == method:
                return self._validator(entry["output"]) if entry.get("output") else None
        raise KeyError(f"no method {method!r} in the oracle's api.json")

    def message_validator(self, exchange: str) -> jsonschema.Draft6Validator:
        short = exchange.rsplit("/", 1)[-1]
        for entry in self.exchanges["entries"]:
            if entry["exchange"] == short:
                return self._validator(entry["schema"])
        raise KeyError(f"no exchange {exchange!r} in the oracle's exchanges.json")


def errors(validator: jsonschema.Draft6Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


#: Keywords whose value maps names to subschemas (their keys are not keywords).
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
#: Keywords whose value is data, compared as is.
_DATA = ("enum", "const", "default", "examples")


def structure(schema: Any) -> Any:
    """A schema without its prose (``title``/``description``) and without ``$id``/``$schema``."""
    if isinstance(schema, list):
        return [structure(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("title", "description", "$id", "$schema"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: structure(sub) for name, sub in value.items()}
        elif key in _DATA:
            out[key] = value
        else:
            out[key] = structure(value)
    return out
