"""The one retry decision (``retry.decide``), checked directly against CLIENT-FACTS.md section 4:
up to maxRetries (5) retries, on 5xx or on no answer at all, never on 4xx or 3xx; before retry n
wait 2^(n-1) * 0.1 s times [0.75, 1.25], at most 30 s."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import httpx

from tutorial_kit.client import TaskclusterError
from tutorial_kit.client.options import make_options
from tutorial_kit.client.retry import MAX_DELAY, Attempts, decide

MIDDLE = lambda: 0.5  # noqa: E731  (the random factor exactly 1.0)

_REQUEST = httpx.Request("GET", "http://127.0.0.1:1/api/queue/v1/ping")


@pytest.mark.parametrize("attempt,max_retries,outcome,expected", [
    # 5xx: retried with the doubling delay, until the retries are used up
    (1, 5, 500, 0.1), (2, 5, 502, 0.2), (3, 5, 503, 0.4), (4, 5, 504, 0.8), (5, 5, 599, 1.6),
    (6, 5, 500, None),
    # success, redirects (never followed by API calls: a 303 is an answer) and 4xx are final
    (1, 5, 200, None), (1, 5, 204, None), (1, 5, 303, None), (1, 5, 400, None),
    (1, 5, 401, None), (1, 5, 403, None), (1, 5, 404, None), (1, 5, 409, None),
    (1, 5, 424, None), (1, 5, 499, None), (1, 5, 600, None),
    # maxRetries 0: one attempt, whatever happens
    (1, 0, 500, None),
    (1, 1, 500, 0.1), (2, 1, 500, None),
])
def test_statuses(attempt, max_retries, outcome, expected):
    delay = decide(attempt, max_retries, outcome, rand=MIDDLE)
    assert delay == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("error,retried", [
    (httpx.ConnectError("refused", request=_REQUEST), True),
    (httpx.ReadError("reset", request=_REQUEST), True),
    (httpx.ConnectTimeout("slow", request=_REQUEST), True),
    (httpx.ReadTimeout("slow", request=_REQUEST), True),
    (httpx.RemoteProtocolError("closed mid-answer", request=_REQUEST), True),
    # not about the network: retrying cannot help
    (httpx.TooManyRedirects("loop", request=_REQUEST), False),
    (httpx.DecodingError("bad gzip", request=_REQUEST), False),
    (TaskclusterError("no", code="InvalidArgument"), False),
    (ValueError("bad"), False),
    (OSError("disk full"), False),
])
def test_exceptions(error, retried):
    assert (decide(1, 5, error, rand=MIDDLE) == pytest.approx(0.1)) if retried else (
        decide(1, 5, error, rand=MIDDLE) is None)
    # the last attempt is final even for a retryable error
    assert decide(6, 5, error) is None


def test_default_policy_matches_the_official_client():
    """maxRetries defaults to 5: six attempts, about 3 s of sleeping (0.1 + ... + 1.6)."""
    retries = make_options({"rootUrl": "http://127.0.0.1:1"}).maxRetries
    assert retries == 5
    delays = []
    attempt = 1
    while (delay := decide(attempt, retries, 500, rand=MIDDLE)) is not None:
        delays.append(delay)
        attempt += 1
    assert attempt == 6
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])


@given(attempt=st.integers(1, 60), max_retries=st.integers(0, 60),
       status=st.integers(500, 599), rand=st.floats(0.0, 1.0))
def test_retried_5xx_delay_is_jittered_and_capped(attempt, max_retries, status, rand):
    delay = decide(attempt, max_retries, status, rand=lambda: rand)
    if attempt > max_retries:
        assert delay is None
        return
    base = (2 ** (attempt - 1)) * 0.1
    assert delay is not None
    assert min(base * 0.75, MAX_DELAY) - 1e-9 <= delay <= min(base * 1.25, MAX_DELAY) + 1e-9


@given(attempt=st.integers(1, 60), max_retries=st.integers(0, 60),
       status=st.integers(100, 499) | st.integers(600, 999))
def test_anything_below_500_is_final(attempt, max_retries, status):
    assert decide(attempt, max_retries, status) is None


@given(max_retries=st.integers(0, 20))
def test_a_server_that_always_fails_gets_max_retries_plus_one_attempts(max_retries):
    attempts = 1
    while decide(attempts, max_retries, 503) is not None:
        attempts += 1
    assert attempts == max_retries + 1


def _gave_up(exc: BaseException, attempts: int) -> BaseException:
    if isinstance(exc, httpx.TransportError):
        return TaskclusterError(f"gave up after {attempts}", code="ConnectionError")
    return exc


def test_attempts_counts_and_stops_after_max_retries():
    attempts = Attempts(2, _gave_up)
    assert attempts.answered(503) is not None and attempts.count == 1
    assert attempts.failed(httpx.ConnectError("x", request=_REQUEST)) is not None
    with pytest.raises(TaskclusterError, match="gave up after 3") as info:
        attempts.failed(httpx.ConnectError("refused", request=_REQUEST))
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_attempts_final_answers_and_foreign_errors():
    attempts = Attempts(5, _gave_up)
    assert attempts.answered(404) is None  # a 4xx is the answer
    error = ValueError("a bug, not the network")
    with pytest.raises(ValueError) as info:
        Attempts(5, _gave_up).failed(error)
    assert info.value is error  # raised as it is, not wrapped


def test_attempts_that_cannot_restart_stop_at_once():
    """A download that already wrote into the caller's file cannot start over."""
    attempts = Attempts(5, _gave_up, restartable=lambda: False)
    assert attempts.answered(503) is None
    with pytest.raises(TaskclusterError, match="gave up after 2"):
        attempts.failed(httpx.ReadError("reset", request=_REQUEST))
