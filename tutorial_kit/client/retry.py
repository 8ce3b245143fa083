"""When to try a request again, and how long to wait first: one pure decision for every loop.

The policy of the official Python client: up to ``maxRetries`` (5) more attempts after the
first, on a 5xx answer or on no answer at all (refused, reset, timed out), never on a 4xx (and
never on a 3xx, which counts as success). Before retry *n* wait ``2^(n-1) * 0.1 s`` times a
random factor in [0.75, 1.25], at most 30 s.

:func:`decide` is the only place that says "again" or "stop". :class:`Attempts` asks it after
every attempt of every loop: API calls, ``downloadArtifact``, and the helpers' PUT and GET of an
artifact's data all run through one loop per flavour (``sync.retrying``, ``aio.retrying``),
which only sends, closes and sleeps.
"""

from __future__ import annotations

import inspect
import random
from typing import Any, Callable, Union

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

DELAY_FACTOR = 0.1
RANDOMIZATION_FACTOR = 0.25
MAX_DELAY = 30.0

#: Failures with no HTTP answer; all are worth another attempt.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError,)

#: How an attempt ended: the HTTP status of its answer, or the exception raised instead.
Outcome = Union[int, BaseException]


def backoff(retry: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to sleep before retry number ``retry`` (1 for the first retry)."""
    if retry <= 0:
        return 0.0
    delay = (2 ** (retry - 1)) * DELAY_FACTOR
    delay *= 1 + RANDOMIZATION_FACTOR * (rand() * 2 - 1)
    return min(delay, MAX_DELAY)


def retryable(outcome: Outcome) -> bool:
    """Is this outcome worth another attempt? A 5xx answer or a failure with no answer."""
    if isinstance(outcome, BaseException):
        return isinstance(outcome, RETRYABLE_ERRORS)
    return 500 <= outcome < 600


def decide(attempt: int, max_retries: int, outcome: Outcome,
           rand: Callable[[], float] = random.random) -> float | None:
    """After attempt number ``attempt`` (1 for the first) ended in ``outcome``: the seconds to
    wait before trying again, or None when the outcome is final (a success, a 4xx, an error
    that is not about the network, or the ``max_retries`` retries are used up)."""
    if attempt > max_retries or not retryable(outcome):
        return None
    return backoff(attempt, rand)


class Attempts:
    """The bookkeeping of one retried operation, shared by the sync and async loops (which
    only send, close and sleep): counts the attempts, asks :func:`decide` after each, and turns
    the last failure into the error to raise.

    ``gave_up(exception, attempts)`` names that error (a no-answer failure becomes a
    ``TaskclusterConnectionError``); ``restartable()`` returning False (data already handed to
    the caller's file) ends the retries.
    """

    def __init__(self, max_retries: int,
                 gave_up: Callable[[BaseException, int], BaseException],
                 restartable: Callable[[], bool] = lambda: True) -> None:
        self.max_retries = max_retries
        self.count = 0
        self._gave_up = gave_up
        self._restartable = restartable

    def _next(self, outcome: Outcome) -> float | None:
        if not self._restartable():
            return None
        return decide(self.count, self.max_retries, outcome)

    def answered(self, status: int) -> float | None:
        """After an answer with ``status``: seconds to wait before the next attempt, or None
        when this answer is the final one."""
        self.count += 1
        return self._next(status)

    def failed(self, exc: Exception) -> float:
        """After an attempt raised ``exc``: seconds to wait before the next attempt. Raises
        the final error (``exc`` itself, or what ``gave_up`` made of it) when there is none."""
        self.count += 1
        delay = self._next(exc)
        if delay is None:
            error = self._gave_up(exc, self.count)
            if error is exc:
                raise exc
            raise error from exc
        return delay


def sleep_of(service: Any, default: Callable[[float], Any]) -> Callable[[float], Any]:
    """The sleep a tutorial_kit client was given (tests make it instant), if it is of the
    same flavour as ``default``; otherwise (an official client, say) ``default``."""
    own = getattr(service, "_sleep", None)
    if own is None or inspect.iscoroutinefunction(own) != inspect.iscoroutinefunction(default):
        return default
    return own
