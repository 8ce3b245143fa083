"""Fixtures of the browser tests; the rest they share is in `lab_support`."""

from __future__ import annotations

import os

import pytest

from .lab_support import CHROMIUM


@pytest.fixture()
def chromium_path() -> str:
    """Debian's Chromium; skipped where it is absent, failed in CI (which must provide it)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (install Debian's chromium: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must provide it")
        pytest.skip(reason)
    return str(CHROMIUM)
