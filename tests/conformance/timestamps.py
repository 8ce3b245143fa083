"""Instants as the golden traces write them: parsing, printing and offset spelling.

Instants are handled as integer microseconds since the epoch so that equality ("the same value
renders the same way") and "a whole number of hours away" are exact.
"""

from __future__ import annotations

import datetime as _dt
import re

#: An ISO-8601 instant as Taskcluster and Postgres print them (fraction optional, Z or offset).
TIMESTAMP_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})"
)

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_UNITS = (("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND))
_OFFSET_TERM_RE = re.compile(r"([+-])((?:\d+[dhms])+)")
_UNIT_RE = re.compile(r"(\d+)([dhms])")


def parse(match: re.Match[str]) -> tuple[int, str]:
    """(microseconds since the epoch, format tag) of a TIMESTAMP_RE match.

    The tag is "" for the canonical ``Date.toJSON()`` form (three fractional digits and Z),
    ``|+00:00`` (or another offset) for an offset form, ``|fracN`` for N digits with Z.
    """
    frac = match.group("frac") or ""
    zone = match.group("zone")
    base = _dt.datetime.fromisoformat(f"{match.group('date')}T{match.group('time')}+00:00")
    micros = int((frac + "000000")[:6])
    us = int((base - _EPOCH).total_seconds()) * SECOND + micros
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        us -= sign * (hours * HOUR + minutes * MINUTE)
        tag = f"|{zone}"
    else:
        tag = "" if len(frac) == 3 else f"|frac{len(frac)}"
    return us, tag


def parse_string(text: str) -> int:
    """Microseconds since the epoch of a whole-string timestamp."""
    match = TIMESTAMP_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not an ISO-8601 instant: {text!r}")
    return parse(match)[0]


def to_json(us: int) -> str:
    """``Date.toJSON()``: UTC, exactly three fractional digits, Z (sub-ms digits are dropped)."""
    moment = _EPOCH + _dt.timedelta(microseconds=us - us % 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_tagged(us: int, tag: str) -> str:
    """Print an instant in the form a format tag names (the inverse of :func:`parse`)."""
    if tag == "":
        return to_json(us)
    moment = _EPOCH + _dt.timedelta(microseconds=us)
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if tag.startswith("|frac"):
        digits = int(tag[5:])
        frac = f"{moment.microsecond:06d}"[:digits] if digits <= 6 else f"{moment.microsecond:06d}" + "0" * (digits - 6)
        return whole + (f".{frac}" if digits else "") + "Z"
    if tag == "|+00:00":
        # Postgres's text form: trailing zeros of the fraction dropped, no fraction when zero.
        frac = f"{moment.microsecond:06d}".rstrip("0")
        return whole + (f".{frac}" if frac else "") + "+00:00"
    raise ValueError(f"unsupported format tag {tag!r}")


def now_us() -> int:
    return int((_dt.datetime.now(_dt.timezone.utc) - _EPOCH).total_seconds() * SECOND)


def format_offset(us: int) -> str:
    """Spell a signed offset as the traces do: ``+366d1h``, ``-10m``, ``+6s``, ``+0s``."""
    sign = "-" if us < 0 else "+"
    rest = abs(us)
    parts = []
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest:  # sub-second remainder: the traces never need it, but never hide it either
        parts.append(f"{rest}us")
    return sign + ("".join(parts) or "0s")


def round_offset(us: int) -> int:
    """Round a step offset: whole seconds, or whole minutes from 10 minutes on."""
    unit = MINUTE if abs(us) >= 10 * MINUTE else SECOND
    sign = -1 if us < 0 else 1
    return sign * ((abs(us) + unit // 2) // unit) * unit


def parse_offsets(text: str) -> int:
    """Sum of offset terms such as ``+6s+365d`` or ``-1h`` (the empty string is 0)."""
    total, pos = 0, 0
    for match in _OFFSET_TERM_RE.finditer(text):
        if match.start() != pos:
            raise ValueError(f"bad offset {text!r}")
        pos = match.end()
        amount = sum(int(n) * dict(_UNITS)[u] for n, u in _UNIT_RE.findall(match.group(2)))
        total += amount if match.group(1) == "+" else -amount
    if pos != len(text):
        raise ValueError(f"bad offset {text!r}")
    return total
