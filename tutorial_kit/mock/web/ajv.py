"""What Ajv, the real Queue's schema validator, enforces and how it words a refusal.

Its formats (``date-time``, ``uri``, ``regex``: ajv-formats' "full" mode), as our own checkers so
enforcement never depends on jsonschema's optional extras (:data:`FORMATS`), and its error
messages in its order (:func:`ajv_messages`): ``data/retries must be <= 49`` and friends.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

# first: imports jsonschema with its IRI grammar (rfc3987_syntax, ~1 s) built on first use
from tutorial_kit._jsonschema import jsonschema  # noqa: F401  # isort: skip

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError

__all__ = ["FORMATS", "ajv_messages"]

# --- formats -------------------------------------------------------------------------------
# Our own checkers, so format enforcement never depends on jsonschema's optional extras and
# follows what Ajv (ajv-formats, "full" mode) accepts.

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
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


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI.match(value)) and not _BAD_PERCENT.search(value)


@FORMATS.checks("regex")
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

