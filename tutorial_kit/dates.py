"""Instants as the Queue writes and reads them: shared by the client, the widgets and the mock.

``Date.toJSON()`` form (:func:`to_json`: UTC, exactly three fractional digits, ``Z``) and a
lenient parser (:func:`parse_date`: 0-9 fractional digits, ``Z`` or an offset) that keeps the
millisecond precision the real queue stores.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:?\d{2})$"
)


def aware(dt: datetime) -> datetime:
    """`dt` in UTC; a naive datetime counts as UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def truncate_ms(dt: datetime) -> datetime:
    """`dt` without its sub-millisecond part (what the queue keeps)."""
    return dt.replace(microsecond=dt.microsecond - dt.microsecond % 1000)


def to_json(dt: datetime) -> str:
    """``Date.toJSON()`` form: UTC, exactly three fractional digits, ``Z``."""
    dt = aware(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_date(text: str) -> datetime:
    """Parse an ISO-8601 instant with 0–9 fractional digits and ``Z`` or an offset.

    The result is aware UTC truncated to milliseconds, the precision the real queue stores.
    Raises ``ValueError`` for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a date-time string: {text!r}")
    m = _DATE_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO-8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    micro = int((fraction or "").ljust(6, "0")[:6] or 0)
    if zone in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
                  tzinfo=tz)
    return truncate_ms(dt.astimezone(UTC))
