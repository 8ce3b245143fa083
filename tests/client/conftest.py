"""Fixtures for the client tests: a scripted local server and clients pointed at it."""

from __future__ import annotations

import sys
import pathlib

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from scripted_server import CREDENTIALS, ScriptedServer  # noqa: E402

from tutorial_kit.client import AsyncQueue, Queue  # noqa: E402


class SleepLog:
    """Stands in for time.sleep / asyncio.sleep: records the delays, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def server():
    srv = ScriptedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def creds() -> dict[str, str]:
    client_id, token = next(iter(CREDENTIALS.items()))
    return {"clientId": client_id, "accessToken": token}


@pytest.fixture
def queue(server, sleeps, creds):
    with Queue({"rootUrl": server.url, "credentials": creds}, sleep=sleeps) as q:
        yield q


@pytest.fixture
def anon_queue(server, sleeps):
    with Queue({"rootUrl": server.url}, sleep=sleeps) as q:
        yield q


@pytest.fixture
def make_async(server, sleeps, creds):
    """A factory: AsyncQueue objects for the scripted server (closed by the test)."""
    def make(**options):
        base = {"rootUrl": server.url, "credentials": creds}
        base.update(options)
        return AsyncQueue(base, sleep=sleeps.asleep)
    return make
