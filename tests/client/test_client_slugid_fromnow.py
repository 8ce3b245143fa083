"""slugid() and fromNow()/fromNowJSON()."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import uuid

import pytest

from tutorial_kit.api import SLUGID_PATTERN
from tutorial_kit.client import fromNow, fromNowJSON, slugid

UTC = datetime.timezone.utc
BASE = datetime.datetime(2026, 11, 28, 20, 0, 0, 123456, tzinfo=UTC)


def test_slugids_are_nice_v4_and_unique(monkeypatch):
    monkeypatch.delenv("TUTORIAL_KIT_SEED", raising=False)
    ids = [slugid() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for s in ids:
        assert len(s) == 22 and re.match(SLUGID_PATTERN, s), s
        assert re.match("[A-Za-f]", s[0])
        raw = uuid.UUID(bytes=__import__("base64").urlsafe_b64decode(s + "=="))
        assert raw.version == 4 and raw.variant == uuid.RFC_4122
    # the first character ranges over all of [A-Za-f] (the clear first bit), not a subset
    assert {s[0] for s in ids} == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef")


def _seeded(seed: str) -> list[str]:
    code = "from tutorial_kit import slugid; print(' '.join(slugid() for _ in range(3)))"
    out = subprocess.run([sys.executable, "-c", code], env={"TUTORIAL_KIT_SEED": seed,
                         "PATH": ""}, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.split()


def test_seed_makes_ids_reproducible_across_processes():
    first, again, other = _seeded("lesson-1"), _seeded("lesson-1"), _seeded("lesson-2")
    assert first == again and first != other and len(set(first)) == 3
    assert all(re.match(SLUGID_PATTERN, s) for s in first + other)


@pytest.mark.parametrize("offset,delta", [
    ("2 days 3 hours", datetime.timedelta(days=2, hours=3)),
    ("1 year", datetime.timedelta(days=365)),
    ("1yr 2mo", datetime.timedelta(days=365 + 60)),
    ("3 months", datetime.timedelta(days=90)),
    ("2 weeks", datetime.timedelta(weeks=2)),
    ("1wk", datetime.timedelta(weeks=1)),
    ("-1 hour", -datetime.timedelta(hours=1)),
    (" - 1hr 30 min", -datetime.timedelta(hours=1, minutes=30)),
    ("+5 minutes", datetime.timedelta(minutes=5)),
    ("10m", datetime.timedelta(minutes=10)),
    ("45 sec", datetime.timedelta(seconds=45)),
    ("1s", datetime.timedelta(seconds=1)),
    ("1 Day 2 HOURS", datetime.timedelta(days=1, hours=2)),
    ("1y1mo1w1d1h1m1s", datetime.timedelta(days=365 + 30 + 7 + 1, hours=1, minutes=1, seconds=1)),
    ("", datetime.timedelta(0)),
])
def test_offsets(offset, delta):
    assert fromNow(offset, BASE) == BASE + delta


@pytest.mark.parametrize("bad", ["2 fortnights", "3 hours 2 days", "days", "1.5 days", "1 d d"])
def test_bad_offsets_are_value_errors(bad):
    with pytest.raises(ValueError, match="cannot read the offset"):
        fromNow(bad)


def test_non_string_offset():
    with pytest.raises(ValueError, match="must be a string"):
        fromNow(3)


def test_from_now_json_is_js_to_json():
    assert fromNowJSON("1 day", BASE) == "2026-11-29T20:00:00.123Z"
    assert fromNowJSON("0 s", BASE.replace(microsecond=0)) == "2026-11-28T20:00:00.000Z"
    naive = datetime.datetime(2026, 1, 1, 0, 0, 0, 999999)
    assert fromNowJSON("1 s", naive) == "2026-01-01T00:00:01.999Z"
    other_zone = datetime.datetime(2026, 1, 1, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert fromNowJSON("0s", other_zone) == "2026-01-01T00:00:00.000Z"
    now = fromNowJSON("0 seconds")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now)
    assert fromNow("1 day").tzinfo is not None


def test_datetimes_in_payloads_are_sent_as_js_dates():
    from tutorial_kit.client.jsonbody import dumps
    assert dumps({"deadline": BASE}) == b'{"deadline":"2026-11-28T20:00:00.123Z"}'


def test_fromnow_follows_a_given_clock_and_falls_back_to_wall_time():
    import datetime as dt

    from tutorial_kit.client.fromnow import now, use_clock

    fixed = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    use_clock(lambda: fixed)
    assert fromNowJSON("1 hour") == "2030-01-01T01:00:00.000Z"

    def gone() -> dt.datetime:
        raise ConnectionError("the mock was stopped")

    use_clock(gone)
    assert abs((now() - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5
    use_clock(None)
