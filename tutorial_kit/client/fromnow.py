"""``fromNow`` / ``fromNowJSON``: timestamps relative to now, in Taskcluster's offset language.

An offset reads ``[+|-] [N years] [N months] [N weeks] [N days] [N hours] [N minutes]
[N seconds]``, in that order, whitespace optional, case-insensitive; each unit takes the
spellings of the JavaScript client (``y yr year years``, ``mo month months``, ``w wk week
weeks``, ``d day days``, ``h hr hour hours``, ``m min minute minutes``, ``s sec second
seconds``). A month is 30 days and a year 365 days, as in the official clients.
"""

from __future__ import annotations

import datetime
from typing import Callable
import re

from tutorial_kit.dates import to_json

_OFFSET = re.compile(
    r"^\s*(?P<sign>[-+])?"
    r"(?:\s*(?P<years>\d+)\s*y(?:ears?|r)?)?"
    r"(?:\s*(?P<months>\d+)\s*mo(?:nths?)?)?"
    r"(?:\s*(?P<weeks>\d+)\s*w(?:eeks?|k)?)?"
    r"(?:\s*(?P<days>\d+)\s*d(?:ays?)?)?"
    r"(?:\s*(?P<hours>\d+)\s*h(?:ours?|r)?)?"
    r"(?:\s*(?P<minutes>\d+)\s*m(?:in(?:utes?)?)?)?"
    r"(?:\s*(?P<seconds>\d+)\s*s(?:ec(?:onds?)?)?)?"
    r"\s*$",
    re.IGNORECASE,
)


def parse_offset(offset: str) -> datetime.timedelta:
    """The signed duration an offset string stands for."""
    if not isinstance(offset, str):
        raise ValueError(f"offset must be a string like '2 days 3 hours', got {offset!r}")
    m = _OFFSET.match(offset)
    if m is None:
        raise ValueError(
            f"cannot read the offset {offset!r}: write e.g. '3 days', '-1 hour', "
            "'1 year 2 months', '2d 4h 30min' (units in the order years, months, weeks, "
            "days, hours, minutes, seconds)")
    n = {k: int(v) for k, v in m.groupdict().items() if k != "sign" and v}
    delta = datetime.timedelta(
        days=365 * n.get("years", 0) + 30 * n.get("months", 0) + n.get("days", 0),
        weeks=n.get("weeks", 0), hours=n.get("hours", 0), minutes=n.get("minutes", 0),
        seconds=n.get("seconds", 0))
    return -delta if m.group("sign") == "-" else delta


# Where "now" comes from. Wall time, unless the learner is connected to the tutorial's mock
# queue: its clock can be paused and moved forward, and a task's `created` must be within 15
# minutes of the *queue's* now, so connect() points this at the mock's clock.
_clock: Callable[[], datetime.datetime] | None = None


def use_clock(clock: Callable[[], datetime.datetime] | None) -> None:
    """Make :func:`fromNow` count from ``clock()`` (an aware datetime); None restores wall time."""
    global _clock
    _clock = clock


def now() -> datetime.datetime:
    """The current time as :func:`fromNow` sees it (aware, UTC).

    If the mock's clock can no longer be read (the mock was stopped), wall time takes over
    again: dates for a real deployment are wall-clock dates anyway.
    """
    global _clock
    if _clock is not None:
        try:
            return _clock()
        except Exception:
            _clock = None
    return datetime.datetime.now(datetime.timezone.utc)


def fromNow(offset: str, dateObj: datetime.datetime | None = None) -> datetime.datetime:
    """``dateObj`` (default: now, UTC) moved by ``offset``; naive datetimes count as UTC."""
    if dateObj is None:
        dateObj = now()
    elif dateObj.tzinfo is None:
        dateObj = dateObj.replace(tzinfo=datetime.timezone.utc)
    return dateObj + parse_offset(offset)


def fromNowJSON(offset: str, dateObj: datetime.datetime | None = None) -> str:
    """:func:`fromNow` as the Queue writes dates, e.g. ``2026-11-30T21:01:59.730Z``."""
    return to_json(fromNow(offset, dateObj))
