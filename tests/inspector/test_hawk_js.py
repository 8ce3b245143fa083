"""hawk.js, the page's own SHA-256, HMAC and bewit, against Python's hashlib and the client's
bewit (the mock accepting a signed link is tested end to end in test_task_page.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tutorial_kit.client.hawk import bewit
from tutorial_kit.client.options import Credentials

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    from tutorial_kit.mock.server import start

    with start(workers=False) as running:
        yield running


def test_sha256_and_bewit_match_python(mock: Any, page: Any) -> None:
    page.goto(f"{mock.root_url}/tasks/")
    page.wait_for_function("() => window.TKHawk !== undefined")
    # lengths around the padding's edges (55, 56, 64 bytes) and several blocks; non-ASCII text
    for text in ["", "abc", "a" * 55, "a" * 56, "a" * 64, "b" * 1000, "crème brûlée ✓"]:
        js = page.evaluate("t => Array.from(TKHawk.sha256(TKHawk.utf8(t)), "
                           "b => b.toString(16).padStart(2, '0')).join('')", text)
        assert js == hashlib.sha256(text.encode()).hexdigest(), len(text)
    url = (f"{mock.root_url}/api/queue/v1/task/fN1SbArXTPSVFNUvaOlinQ/runs/0/artifacts/"
           "private%2Fsecret.txt")
    token = "k" * 100  # longer than a block: HMAC hashes the key first
    js = page.evaluate("([u, t]) => TKHawk.bewit('someone', t, u, 1900000000)", [url, token])
    assert js == bewit(Credentials("someone", token), url, expires=1900000000)
