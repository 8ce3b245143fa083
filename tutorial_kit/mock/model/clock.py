"""The mock queue's clock: real, paused, stepped or scaled time.

Every timestamp the mock produces comes from :meth:`Clock.now`, so a lesson can pause time,
jump past a deadline or run a day in a minute, and the resolvers (claim expiry, deadlines) see
the same time as the handlers.

Also PostgreSQL's text form of an instant (:func:`to_pg`), which the real queue prints in a
few places; ``Date.toJSON()`` and the parser are :mod:`tutorial_kit.dates`, shared with the
client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tutorial_kit.dates import UTC, aware, parse_date, to_json, truncate_ms


def to_pg(dt: datetime) -> str:
    """PostgreSQL's text form of a timestamptz at UTC.

    Trailing zeros of the fraction are dropped, and a zero fraction is left out entirely:
    ``2026-11-28T19:51:21.12+00:00``. The real queue prints ``takenUntil`` this way at the top
    level of ``claimWork``/``claimTask`` items and in ``task-running`` messages.
    """
    dt = aware(dt)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{dt.microsecond:06d}".rstrip("0")
    if fraction:
        text += "." + fraction
    return text + "+00:00"


def normalize_date(text: str) -> str:
    """Any accepted date-time string, rewritten in ``Date.toJSON()`` form."""
    return to_json(parse_date(text))


def add_years(dt: datetime, years: int) -> datetime:
    """Calendar years, as JavaScript's ``setFullYear`` does (29 Feb rolls to 1 Mar)."""
    try:
        return dt.replace(year=dt.year + years)
    except ValueError:  # 29 February into a common year
        return dt.replace(year=dt.year + years, month=3, day=1)


class Clock:
    """Thread-safe controllable time.

    Virtual time = an anchor instant plus the wall time elapsed since the anchor was set,
    multiplied by ``speed``; while paused it stays at the anchor. By default it follows real
    time. Listeners are called after every manual change so the server can run resolvers at
    once instead of waiting for its next tick.
    """

    def __init__(self, *, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._lock = threading.RLock()  # for changes; a reading takes one snapshot instead
        #: (anchor, wall time at the anchor, speed, paused), replaced whole by every change so
        #: that a reading (every request takes one) needs no lock to see a consistent one
        self._frame: tuple[datetime, float, float, bool] = (
            datetime.fromtimestamp(wall(), UTC), wall(), 1.0, False)
        self._listeners: list[Callable[[], Any]] = []

    # -- reading ---------------------------------------------------------------------------
    def _at(self, frame: tuple[datetime, float, float, bool]) -> datetime:
        """The instant a frame gives now (not truncated)."""
        anchor, anchor_wall, speed, paused = frame
        if paused:
            return anchor
        return anchor + timedelta(seconds=(self._wall() - anchor_wall) * speed)

    def now(self) -> datetime:
        """The current instant: aware UTC, truncated to milliseconds."""
        return truncate_ms(self._at(self._frame))

    @property
    def paused(self) -> bool:
        return self._frame[3]

    @property
    def speed(self) -> float:
        return self._frame[2]

    def state(self) -> dict[str, Any]:
        _, _, speed, paused = frame = self._frame
        return {"now": to_json(self._at(frame)), "paused": paused, "speed": speed}

    # -- changing --------------------------------------------------------------------------
    def _reanchor(self, at: datetime | None = None, *, speed: float | None = None,
                  paused: bool | None = None) -> None:
        """A new frame from now (or ``at``), with the speed and pause given or kept."""
        frame = self._frame
        _, _, old_speed, old_paused = frame
        anchor = at if at is not None else self._at(frame)
        self._frame = (anchor, self._wall(), old_speed if speed is None else speed,
                       old_paused if paused is None else paused)

    def pause(self) -> None:
        with self._lock:
            self._reanchor(paused=True)
        self._notify()

    def resume(self) -> None:
        with self._lock:
            self._reanchor(paused=False)
        self._notify()

    def advance(self, seconds: float | timedelta) -> None:
        """Jump forward (paused or not). Negative steps are refused: time never runs back."""
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=float(seconds))
        if delta < timedelta(0):
            raise ValueError("the clock cannot move backwards")
        with self._lock:
            self._reanchor(self._at(self._frame) + delta)
        self._notify()

    def set_speed(self, factor: float) -> None:
        """Scale time: each wall second counts ``factor`` seconds (must be > 0)."""
        factor = float(factor)
        if not factor > 0 or factor != factor or factor == float("inf"):
            raise ValueError("speed must be a positive finite number")
        with self._lock:
            self._reanchor(speed=factor)
        self._notify()

    def freeze_at(self, dt: datetime) -> None:
        """Pause at exactly ``dt``."""
        with self._lock:
            self._reanchor(aware(dt), paused=True)
        self._notify()

    def reset(self) -> None:
        """Back to real time at speed 1."""
        with self._lock:
            self._frame = (datetime.fromtimestamp(self._wall(), UTC), self._wall(), 1.0, False)
        self._notify()

    # -- listeners -------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[], Any]) -> Callable[[], None]:
        """Call ``callback()`` after every manual change; returns a function that removes it."""
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback()
            except Exception:  # a broken listener must not break the clock
                pass
