"""Schema validation for the mock queue, over the schema files the package ships.

The real Queue validates with Ajv (draft-06, ``useDefaults``, formats enforced, every error
collected). :class:`Validator` does the same with ``jsonschema``'s draft-06 validator over a
``referencing`` registry of ``mock/schemas``:

* request bodies get the ``default`` values of their input schema filled in *before* the check,
  as Ajv does, and a failure raises :class:`InputValidationError` (a ``QueueError``) whose message
  reads like the real service's ("Schema Validation Failed!" ... ``  * data/retries must be <= 49``);
* replies and pulse messages can be checked against their output/message schema;
* the schema and reference documents are served in their absolute form for a given rootUrl.

Validators are built once per schema name and cached; the package never reads ``../shared``.
"""

from __future__ import annotations

import calendar
import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urldefrag, urljoin

# first: imports jsonschema with its IRI grammar (rfc3987_syntax, ~1 s) built on first use
from tutorial_kit._jsonschema import jsonschema  # noqa: F401  # isort: skip

from jsonschema import Draft6Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

from tutorial_kit.mock.model.errors import QueueError

__all__ = ["Validator", "InputValidationError", "UnknownSchema", "ajv_messages"]

#: Schemas are registered under this made-up origin, so their root-relative ``$id``s become
#: absolute URIs and relative ``$ref``s resolve exactly as they would under a real rootUrl.
_ORIGIN = "https://tutorial-kit.invalid"


#: keywords whose values are data, not schemas (never searched for `$ref`)
_LITERAL_KEYWORDS = frozenset({"enum", "const", "default", "examples", "required"})
#: keywords whose values map names to schemas
_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})


class UnknownSchema(LookupError):
    """A schema or reference name that the package does not ship."""


class InputValidationError(QueueError):
    """A request body that its input schema rejects (400 ``InputValidationError``).

    ``payload`` is the body with the schema defaults filled in (the real service shows that
    in ``requestInfo.payload``), ``errors`` the bullet lines, ``schema_url`` the rejecting schema.
    """

    def __init__(self, message: str, *, payload: Any, errors: list[str], schema_url: str):
        super().__init__("InputValidationError", message)
        self.payload = payload
        self.errors = errors
        self.schema_url = schema_url


# --- formats -------------------------------------------------------------------------------
# Our own checkers, so format enforcement never depends on jsonschema's optional extras and
# follows what Ajv (ajv-formats, "full" mode) accepts.

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    if m.group(8) is not None and (int(m.group(8)) > 23 or int(m.group(9)) > 59):
        return False
    # 23:59:60 is a leap second; RFC 3339 allows it
    return hour <= 23 and minute <= 59 and (second <= 59 or (hour, minute, second) == (23, 59, 60))


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI.match(value)) and not _BAD_PERCENT.search(value)


@_FORMATS.checks("regex")
def _is_regex(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return True


# --- Ajv-style messages --------------------------------------------------------------------

# The order in which Ajv evaluates keywords (untyped ones first, then by the data type they
# apply to); sorting by it lists several errors in the order the real service does. A `type`
# of number, string, array or object is reported in the slot of that type's group; any other
# `type` (integer, boolean, null, several) is checked before everything else.
_AJV_ORDER = {k: i for i, k in enumerate((
    "type", "$ref", "const", "enum", "not", "anyOf", "oneOf", "allOf",
    "type:number", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf",
    "type:string", "maxLength", "minLength", "pattern", "format",
    "type:array", "maxItems", "minItems", "uniqueItems", "additionalItems", "items", "contains",
    "type:object", "maxProperties", "minProperties", "required", "dependencies", "propertyNames",
    "additionalProperties", "properties", "patternProperties",
))}
_GROUP_TYPES = frozenset({"number", "string", "array", "object"})
# keywords whose next schema-path segment is a name or index, not a keyword
_CONTAINERS = {"properties", "patternProperties", "definitions", "dependencies", "items",
               "allOf", "anyOf", "oneOf"}


def _order_keys(errors: list[ValidationError]) -> list[tuple[int, ...]]:
    """Sort keys that put errors in Ajv's order.

    Keywords rank as in ``_AJV_ORDER``; a property name or index ranks by when jsonschema
    first reported it, which is the declaration order Ajv also follows.
    """
    first_seen: dict[tuple[Any, ...], int] = {}
    keys = []
    for error in errors:
        key: list[int] = []
        path = list(error.relative_schema_path)
        name_next = False
        for i, seg in enumerate(path):
            if name_next:
                key.append(first_seen.setdefault(tuple(path[:i + 1]), len(first_seen)))
                name_next = False
                continue
            if seg == "type" and i == len(path) - 1 and error.validator_value in _GROUP_TYPES:
                seg = f"type:{error.validator_value}"
            key.append(_AJV_ORDER.get(seg, len(_AJV_ORDER)) if isinstance(seg, str) else 0)
            # the next segment is a name or an index (`items` only in its tuple form)
            name_next = seg in _CONTAINERS and i + 1 < len(path) and not (
                seg == "items" and not isinstance(path[i + 1], int))
        keys.append(tuple(key))
    return keys


def _ajv_sorted(errors: Iterable[ValidationError]) -> list[ValidationError]:
    listed = list(errors)
    keys = _order_keys(listed)
    return [e for _, e in sorted(zip(keys, listed), key=lambda pair: pair[0])]


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def _duplicate(items: list[Any]) -> tuple[int, int]:
    """The pair Ajv names for uniqueItems: it scans from the end, remembering each item."""
    seen: dict[str, int] = {}
    for i in range(len(items) - 1, -1, -1):
        key = json.dumps(items[i], sort_keys=True)
        if key in seen:
            return seen[key], i
        seen[key] = i
    return len(items) - 1, 0


def _lines(error: ValidationError, base: list[Any]) -> Iterator[str]:
    where = "data" + _pointer(base + list(error.relative_path))
    kw, value, instance = error.validator, error.validator_value, error.instance
    if kw in ("oneOf", "anyOf") and error.context:
        # Ajv reports what each branch disliked, then the combinator itself
        # branch by branch, in declaration order
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        for index in sorted(branches):
            for sub in _ajv_sorted(branches[index]):
                yield from _lines(sub, base + list(error.relative_path))
    if kw == "required":
        missing = [p for p in value if isinstance(instance, dict) and p not in instance]
        for prop in missing or value:
            if prop in str(error.message):
                yield f"{where} must have required property '{prop}'"
                break
        else:
            yield f"{where} must have required property"
        return
    if kw == "additionalProperties" and isinstance(instance, dict):
        # one line per unexpected property, as Ajv does with allErrors
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = schema.get("properties", {})
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extras = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
        for _ in extras or [None]:
            yield f"{where} must NOT have additional properties"
        return
    message = {
        "type": lambda: "must be " + (",".join(value) if isinstance(value, list) else str(value)),
        "enum": lambda: "must be equal to one of the allowed values",
        "const": lambda: "must be equal to constant",
        "maximum": lambda: f"must be <= {_num(value)}",
        "minimum": lambda: f"must be >= {_num(value)}",
        "exclusiveMaximum": lambda: f"must be < {_num(value)}",
        "exclusiveMinimum": lambda: f"must be > {_num(value)}",
        "multipleOf": lambda: f"must be multiple of {_num(value)}",
        "maxLength": lambda: f"must NOT have more than {value} characters",
        "minLength": lambda: f"must NOT have fewer than {value} characters",
        "pattern": lambda: f'must match pattern "{value}"',
        "format": lambda: f'must match format "{value}"',
        "maxItems": lambda: f"must NOT have more than {value} items",
        "minItems": lambda: f"must NOT have fewer than {value} items",
        "uniqueItems": lambda: "must NOT have duplicate items (items ## %d and %d are identical)"
        % _duplicate(instance),
        "maxProperties": lambda: f"must NOT have more than {value} properties",
        "minProperties": lambda: f"must NOT have fewer than {value} properties",
        "oneOf": lambda: "must match exactly one schema in oneOf",
        "anyOf": lambda: "must match a schema in anyOf",
        "not": lambda: "must NOT be valid",
        "dependencies": lambda: _dependency_message(error),
        "propertyNames": lambda: "property name must be valid",
        "contains": lambda: "must contain at least 1 valid item(s)",
        "additionalItems": lambda: f"must NOT have more than {len(error.schema.get('items', []))} items",
    }.get(kw)
    yield f"{where} {message() if message else error.message}"


def _dependency_message(error: ValidationError) -> str:
    for prop, needs in (error.validator_value or {}).items():
        if isinstance(needs, list) and isinstance(error.instance, dict) and prop in error.instance:
            missing = [n for n in needs if n not in error.instance]
            if missing:
                word = "property" if len(missing) == 1 else "properties"
                return f"must have {word} {', '.join(missing)} when property {prop} is present"
    return "must match the dependencies"


def ajv_messages(errors: Iterable[ValidationError]) -> list[str]:
    """Render jsonschema errors as Ajv words: ``data/<pointer> <what is wrong>``, in Ajv's order."""
    lines: list[str] = []
    for error in _ajv_sorted(errors):
        lines.extend(_lines(error, []))
    return lines


# --- defaults (Ajv useDefaults) --------------------------------------------------------------

@dataclass(eq=False)
class _Plan:
    """Where the defaults of one schema go, with ``$ref``s already followed."""

    defaults: list[tuple[str, Any]] = field(default_factory=list)
    properties: dict[str, _Plan] = field(default_factory=dict)
    additional: _Plan | None = None
    items: _Plan | None = None
    all_of: list[_Plan] = field(default_factory=list)
    # oneOf/anyOf: (branch validator, branch plan); defaults go in only when one branch fits
    choices: list[list[tuple[Draft6Validator, _Plan]]] = field(default_factory=list)

    def apply(self, instance: Any) -> None:
        if isinstance(instance, dict):
            for name, value in self.defaults:
                if name not in instance:
                    instance[name] = copy.deepcopy(value)
            for name, plan in self.properties.items():
                if name in instance:
                    plan.apply(instance[name])
            if self.additional is not None:
                for name, value in instance.items():
                    if name not in self.properties:
                        self.additional.apply(value)
        elif isinstance(instance, list) and self.items is not None:
            for value in instance:
                self.items.apply(value)
        for plan in self.all_of:
            plan.apply(instance)
        for branches in self.choices:
            fitting = [plan for validator, plan in branches if validator.is_valid(instance)]
            if len(fitting) == 1:
                fitting[0].apply(instance)


# --- loading ---------------------------------------------------------------------------------

def _copy(body: Any) -> Any:
    """A deep copy of a JSON body; a JSON round trip needs far less stack than ``deepcopy``."""
    try:
        return json.loads(json.dumps(body))
    except (TypeError, ValueError):  # not plain JSON (a Python caller's tuple, NaN, ...)
        return copy.deepcopy(body)


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


class Validator:
    """The schema registry of the mock queue; see the module docstring."""

    def __init__(self) -> None:
        # The documents and the registry are read and built on first use, not here: a mock
        # starts (a kernel's first cell) without reading every schema file.
        self._validators: dict[str, Draft6Validator] = {}
        self._plans: dict[str, _Plan] = {}

    @property
    def _schemas(self) -> dict[str, Any]:
        return _package_documents()[0]

    @property
    def _references(self) -> dict[str, Any]:
        return _package_documents()[1]

    @functools.cached_property
    def _registry(self) -> Registry:
        resources_ = [
            (_ORIGIN + doc["$id"].split("#", 1)[0],
             Resource.from_contents(doc, default_specification=DRAFT6))
            for doc in self._schemas.values()
        ]
        # draft-06 itself is the one outside target (metaschema.json points at it)
        return Registry().with_resources(resources_).combine(SPECIFICATIONS)

    # -- lookups ---------------------------------------------------------------------------

    def schema_names(self) -> list[str]:
        """Every shipped schema, as a path under ``schemas/`` (``queue/v1/task.json``, ...)."""
        return sorted(self._schemas)

    def _validator(self, schema_name: str) -> tuple[str, Draft6Validator]:
        path = _schema_path(schema_name)
        validator = self._validators.get(path)
        if validator is None:
            schema = self._schemas.get(path)
            if schema is None:
                raise UnknownSchema(f"no schema named {schema_name!r} in tutorial_kit/mock/schemas")
            base = _ORIGIN + schema["$id"].split("#")[0]
            # an absolute $id, so relative $refs resolve in the registry
            rooted = {**schema, "$id": base + "#"}
            validator = Draft6Validator(self._inlined(rooted, base) or rooted,
                                        registry=self._registry, format_checker=_FORMATS)
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

    # -- validation ------------------------------------------------------------------------

    def validate_input(self, schema_name: str, body: Any, *, root_url: str = "") -> Any:
        """Fill the schema's defaults into a copy of ``body``, validate it, return the copy.

        Raises :class:`InputValidationError` listing every error. ``root_url`` only shapes the
        schema URL named in the message (``<root_url>/schemas/queue/v1/<name>.json``).
        """
        path, validator = self._validator(schema_name)
        url = f"{root_url.rstrip('/')}/schemas/{path}"
        try:
            filled = _copy(body)
            self._plan(path).apply(filled)
            errors = list(validator.iter_errors(filled))
            if not errors:
                return filled
            lines = ajv_messages(errors)
        except RecursionError:
            # JSON nested deeper than Python's stack allows: a clear 400, never a crash
            filled, lines = body, ["data is nested too deeply to be validated"]
        message = "\nSchema Validation Failed!\nRejecting Schema: {}\nErrors:\n{}".format(
            url, "\n".join("  * " + line for line in lines))
        raise InputValidationError(message, payload=filled, errors=lines, schema_url=url)

    def output_errors(self, schema_name: str, body: Any) -> list[str]:
        """What is wrong with a reply body for its output schema; empty when it is valid."""
        _, validator = self._validator(schema_name)
        try:
            return ajv_messages(validator.iter_errors(body))
        except RecursionError:
            return ["data is nested too deeply to be validated"]

    def message_errors(self, exchange_schema_name: str, payload: Any) -> list[str]:
        """What is wrong with a pulse message for its exchange's schema; empty when valid."""
        return self.output_errors(exchange_schema_name, payload)

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

    # -- defaults --------------------------------------------------------------------------

    def _plan(self, path: str) -> _Plan:
        plan = self._plans.get(path)
        if plan is None:
            base = _ORIGIN + self._schemas[path]["$id"].split("#")[0]
            plan = self._build_plan(self._schemas[path], base, "", {})
            self._plans[path] = plan
        return plan

    def _build_plan(self, schema: Any, base: str, pointer: str, memo: dict[str, _Plan]) -> _Plan:
        """The defaults plan of ``schema``, found at ``<base>#<pointer>`` in the registry."""
        plan = _Plan()
        if not isinstance(schema, dict):
            return plan
        where = f"{base}#{pointer}"
        if where in memo:  # a recursive schema: reuse the plan under construction
            return memo[where]
        memo[where] = plan
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = urljoin(base + "#" + pointer, ref)
            target_base, _, target_pointer = target.partition("#")
            contents = self._registry.resolver(base_uri=base).lookup(ref).contents
            plan.all_of.append(self._build_plan(contents, target_base, target_pointer, memo))
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and "default" in sub:
                plan.defaults.append((name, sub["default"]))
            plan.properties[name] = self._build_plan(
                sub, base, f"{pointer}/properties/{_escape(name)}", memo)
        if isinstance(schema.get("additionalProperties"), dict):
            plan.additional = self._build_plan(
                schema["additionalProperties"], base, f"{pointer}/additionalProperties", memo)
        if isinstance(schema.get("items"), dict):
            plan.items = self._build_plan(schema["items"], base, f"{pointer}/items", memo)
        for i, sub in enumerate(schema.get("allOf") or ()):
            plan.all_of.append(self._build_plan(sub, base, f"{pointer}/allOf/{i}", memo))
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword) or ()
            built = [self._build_plan(sub, base, f"{pointer}/{keyword}/{i}", memo)
                     for i, sub in enumerate(branches)]
            if any(_has_defaults(b, set()) for b in built):
                plan.choices.append([
                    (Draft6Validator({"$ref": f"{base}#{pointer}/{keyword}/{i}"},
                                     registry=self._registry, format_checker=_FORMATS), b)
                    for i, b in enumerate(built)
                ])
        return plan


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _has_defaults(plan: _Plan, seen: set[int]) -> bool:
    if id(plan) in seen:
        return False
    seen.add(id(plan))
    children = [*plan.properties.values(), *plan.all_of,
                *(p for p in (plan.additional, plan.items) if p is not None)]
    return bool(plan.defaults or plan.choices) or any(_has_defaults(c, seen) for c in children)
