"""Request bodies as the official Python client writes them: compact, ASCII-escaped JSON."""

from __future__ import annotations

import datetime
import json
from typing import Any

from tutorial_kit.dates import to_json


def _default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return to_json(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} {value!r} cannot be sent as JSON")


def dumps(payload: Any) -> bytes:
    """Serialize a payload; datetimes become ``Date.toJSON()`` strings."""
    return json.dumps(payload, separators=(",", ":"), default=_default).encode("ascii")
