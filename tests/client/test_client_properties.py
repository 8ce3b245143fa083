"""Property checks: offsets compose, route parameters stay one segment whatever they hold."""

from __future__ import annotations

import datetime
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from tutorial_kit.api import BY_NAME
from tutorial_kit.client import Queue, fromNow

UNITS = [("years", 365 * 86400, ["y", "yr", "year", "years"]),
         ("months", 30 * 86400, ["mo", "month", "months"]),
         ("weeks", 7 * 86400, ["w", "wk", "week", "weeks"]),
         ("days", 86400, ["d", "day", "days"]),
         ("hours", 3600, ["h", "hr", "hour", "hours"]),
         ("minutes", 60, ["m", "min", "minute", "minutes"]),
         ("seconds", 1, ["s", "sec", "second", "seconds"])]
BASE = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


@st.composite
def offsets(draw):
    parts, total = [], 0
    for _, seconds, spellings in UNITS:
        if draw(st.booleans()):
            n = draw(st.integers(0, 500))
            word = draw(st.sampled_from(spellings))
            word = draw(st.sampled_from([word, word.upper(), word.title()]))
            parts.append(f"{n}{draw(st.sampled_from(['', ' ', '  ']))}{word}")
            total += n * seconds
    sign = draw(st.sampled_from(["", "+", "-", "- "]))
    return sign + draw(st.sampled_from([" ", ""])).join(parts) if parts else sign, (
        -total if sign.startswith("-") else total)


@settings(max_examples=300, deadline=None)
@given(offsets())
def test_offsets_compose(case):
    text, seconds = case
    # "1m1s"-style run-togethers are fine; only the order of units matters
    assert fromNow(text, BASE) - BASE == datetime.timedelta(seconds=seconds), text


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=60))
def test_artifact_names_are_one_segment(name):
    q = Queue(rootUrl="https://tc.example.com")
    url = q.buildUrl("getArtifact", "fN1SbArXTPSVFNUvaOlinQ", 0, name)
    prefix = "https://tc.example.com/api/queue/v1/task/fN1SbArXTPSVFNUvaOlinQ/runs/0/artifacts/"
    assert url.startswith(prefix)
    segment = url[len(prefix):]
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert unquote(segment) == name
    assert BY_NAME["getArtifact"].regex().match(url[len("https://tc.example.com/api/queue/v1"):])
    q.close()
