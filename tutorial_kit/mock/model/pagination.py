"""Pagination: ``limit`` and opaque ``continuationToken`` s (offset tokens).

A page holds at most ``min(limit, 1000)`` items; a reply carries ``continuationToken`` only when
another item exists after the page. Tokens are URL-safe base64 of a small JSON object, so
they are opaque to callers yet easy to check: a token we did not make is a 400 ``InputError``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from .errors import input_error

MAX_PAGE = 1000


def page_size(query: Mapping[str, Any] | None, *, maximum: int = MAX_PAGE) -> int:
    """The page size from ``?limit=`` (default and maximum 1000). ``limit=0`` is a 400."""
    raw = (query or {}).get("limit")
    if raw is None or raw == "":
        return maximum
    try:
        limit = int(str(raw))
    except ValueError:
        raise input_error(f"`limit` must be a positive integer, not {raw!r}.") from None
    if limit < 1:
        raise input_error("`limit` must be at least 1.")
    return min(limit, maximum)


def encode_token(offset: int) -> str:
    raw = json.dumps({"o": int(offset)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    """The offset a token stands for (0 without a token); a foreign token is a 400."""
    if token is None or token == "":
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        offset = data["o"]
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise input_error("Invalid continuation token.") from None


def page(query: Mapping[str, Any] | None) -> tuple[int, int]:
    """(offset, size) for a listing."""
    query = query or {}
    return decode_token(query.get("continuationToken")), page_size(query)


def with_token(reply: dict[str, Any], offset: int, size: int, has_more: bool) -> dict[str, Any]:
    """Add ``continuationToken`` to ``reply`` when another page exists."""
    if has_more:
        reply["continuationToken"] = encode_token(offset + size)
    return reply
