"""Fixtures of the hardening tests: a real mock queue on loopback and a raw HTTP sender."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tutorial_kit.mock import MockQueue, start

from .support import Wire


@pytest.fixture(scope="module")
def mock() -> Iterator[MockQueue]:
    """A mock queue without the simulated cluster (nothing claims the tests' tasks)."""
    with start(workers=False, claim_wait=0.2) as queue:
        yield queue


@pytest.fixture(scope="module")
def wire(mock: MockQueue) -> Wire:
    return Wire.for_root(mock.root_url)
