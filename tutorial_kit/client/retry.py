"""When to try a request again, and how long to wait first.

The policy of the official Python client: up to ``maxRetries`` (5) more attempts after the
first, on a 5xx answer or on no answer at all (refused, reset, timed out), never on a 4xx.
Before retry *n* wait ``2^(n-1) * 0.1 s`` times a random factor in [0.75, 1.25], at most 30 s.
"""

from __future__ import annotations

import random
from typing import Callable

import httpx

DELAY_FACTOR = 0.1
RANDOMIZATION_FACTOR = 0.25
MAX_DELAY = 30.0

#: Failures with no HTTP answer; all are worth another attempt.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError,)


def backoff(retry: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to sleep before retry number ``retry`` (1 for the first retry)."""
    if retry <= 0:
        return 0.0
    delay = (2 ** (retry - 1)) * DELAY_FACTOR
    delay *= 1 + RANDOMIZATION_FACTOR * (rand() * 2 - 1)
    return min(delay, MAX_DELAY)


def retryable_status(status: int) -> bool:
    """5xx answers are retried; everything below is final (3xx counts as success)."""
    return 500 <= status < 600
