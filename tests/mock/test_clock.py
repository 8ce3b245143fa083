"""The clock: paused, stepped, scaled time and the three timestamp forms."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from tutorial_kit.mock.model.clock import Clock, add_years, normalize_date, to_pg

from tutorial_kit.dates import parse_date, to_json

UTC = timezone.utc


class FakeWall:
    """A controllable wall clock so scaled time is tested without sleeping."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_to_json_has_three_digits_and_z():
    dt = datetime(2026, 11, 28, 19, 51, 21, 123456, tzinfo=UTC)
    assert to_json(dt) == "2026-11-28T19:51:21.123Z"
    assert to_json(dt.replace(microsecond=0)) == "2026-11-28T19:51:21.000Z"


def test_to_pg_drops_trailing_zeros_and_zero_fraction():
    dt = datetime(2026, 11, 28, 19, 51, 21, 120000, tzinfo=UTC)
    assert to_pg(dt) == "2026-11-28T19:51:21.12+00:00"
    assert to_pg(dt.replace(microsecond=0)) == "2026-11-28T19:51:21+00:00"
    assert to_pg(dt.replace(microsecond=123000)) == "2026-11-28T19:51:21.123+00:00"


@pytest.mark.parametrize("text,expected", [
    ("2026-11-28T19:51:21Z", "2026-11-28T19:51:21.000Z"),
    ("2026-11-28T19:51:21.1Z", "2026-11-28T19:51:21.100Z"),
    ("2026-11-28T19:51:21.123456789Z", "2026-11-28T19:51:21.123Z"),
    ("2026-11-28T19:51:21.12+00:00", "2026-11-28T19:51:21.120Z"),
    ("2026-11-28T20:51:21.5+01:00", "2026-11-28T19:51:21.500Z"),
])
def test_parse_date_accepts_fractions_and_offsets(text, expected):
    assert to_json(parse_date(text)) == expected
    assert normalize_date(text) == expected


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-11-28", "2026-11-28T19:51:21",
                                 "2026-11-28T19:51:21.1234567890Z", None, 12])
def test_parse_date_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_date(bad)


def test_parse_round_trips_pg_form():
    dt = datetime(2026, 1, 2, 3, 4, 5, 60000, tzinfo=UTC)
    assert parse_date(to_pg(dt)) == dt
    assert parse_date(to_json(dt)) == dt


def test_add_years_is_calendar_years():
    assert add_years(datetime(2026, 3, 1, tzinfo=UTC), 1) == datetime(2027, 3, 1, tzinfo=UTC)
    assert add_years(datetime(2028, 2, 29, tzinfo=UTC), 1) == datetime(2029, 3, 1, tzinfo=UTC)


def test_default_follows_real_time_truncated_to_ms():
    clock = Clock()
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    now = clock.now()
    after = datetime.now(UTC)
    assert before <= now <= after
    assert now.microsecond % 1000 == 0
    assert now.tzinfo is not None


def test_pause_advance_resume():
    wall = FakeWall()
    clock = Clock(wall=wall)
    clock.pause()
    frozen = clock.now()
    wall.t += 100
    assert clock.now() == frozen
    clock.advance(30)
    assert clock.now() == frozen + timedelta(seconds=30)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == frozen + timedelta(seconds=90)
    clock.resume()
    wall.t += 5
    assert clock.now() == frozen + timedelta(seconds=95)
    assert clock.state()["paused"] is False


def test_scaled_time():
    wall = FakeWall()
    clock = Clock(wall=wall)
    start = clock.now()
    clock.set_speed(60)
    wall.t += 2
    assert clock.now() == start + timedelta(minutes=2)
    assert clock.state()["speed"] == 60


def test_freeze_at_and_state():
    clock = Clock()
    at = datetime(2030, 1, 1, tzinfo=UTC)
    clock.freeze_at(at)
    assert clock.now() == at
    assert clock.state() == {"now": "2030-01-01T00:00:00.000Z", "paused": True, "speed": 1.0}


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_bad_speed_is_refused(speed):
    with pytest.raises(ValueError):
        Clock().set_speed(speed)


def test_cannot_go_backwards():
    with pytest.raises(ValueError):
        Clock().advance(-1)


def test_listeners_called_after_changes_and_removable():
    clock = Clock()
    calls = []
    remove = clock.add_listener(lambda: calls.append(clock.state()["now"]))
    clock.pause()
    clock.advance(10)
    clock.set_speed(2)
    assert len(calls) == 3
    remove()
    clock.resume()
    assert len(calls) == 3


def test_broken_listener_does_not_break_the_clock():
    clock = Clock()
    clock.add_listener(lambda: 1 / 0)
    clock.pause()
    clock.advance(1)
    assert clock.state()["paused"]


def test_thread_safe_advances():
    clock = Clock()
    clock.pause()
    start = clock.now()

    def work():
        for _ in range(100):
            clock.advance(0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert clock.now() == start + timedelta(seconds=0.8)
