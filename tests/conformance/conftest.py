"""Fixtures of the conformance tests: mock queues and the golden-trace replays.

Replays are run once per session, all the selected ones in parallel (each scenario has its own
ids and task queue, so they cannot see each other), against one shared mock queue per server
setting a trace ``requires``.
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any, Iterator

import pytest

from .replay import ReplayResult, replay
from .traces import load

#: A trace's ``requires`` -> the mock settings that satisfy it.
SETTINGS_FOR_REQUIRES: dict[str, dict[str, Any]] = {
    "claimTimeout": {"claim_timeout": 5.0},
}
#: Every mock here: no simulated workers (they would claim work), a short empty-claimWork wait.
BASE_SETTINGS: dict[str, Any] = {"workers": False, "claim_wait": 2.0, "check_output": False}
PARALLEL = 12


class MockPool:
    """One running mock per distinct setting, started on first use."""

    def __init__(self) -> None:
        self._mocks: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, **settings: Any) -> Any:
        from tutorial_kit.mock import start

        key = tuple(sorted(settings.items()))
        with self._lock:
            if key not in self._mocks:
                self._mocks[key] = start(**{**BASE_SETTINGS, **settings})
            return self._mocks[key]

    def for_trace(self, trace: dict[str, Any]) -> Any:
        settings: dict[str, Any] = {}
        for name in trace.get("requires") or {}:
            if name not in SETTINGS_FOR_REQUIRES:
                raise KeyError(f"no mock setting known for requires.{name}")
            settings.update(SETTINGS_FOR_REQUIRES[name])
        return self.get(**settings)

    def stop(self) -> None:
        for mock in self._mocks.values():
            mock.stop()


class Replays:
    """The replay of each selected trace, computed together on first request."""

    def __init__(self, folder, names: list[str], pool: MockPool) -> None:
        self.folder = folder
        self.names = names
        self.pool = pool
        self._results: dict[str, ReplayResult] = {}
        self._lock = threading.Lock()

    def _run(self, name: str) -> ReplayResult:
        trace = load(self.folder, name)
        try:
            return replay(trace, self.pool.for_trace(trace))
        except Exception as exc:  # reported by the test of that trace
            return ReplayResult(name, error=f"replay could not start: {type(exc).__name__}: {exc}")

    def get(self, name: str) -> ReplayResult:
        with self._lock:
            if name not in self._results:
                todo = [n for n in dict.fromkeys([name, *self.names]) if n not in self._results]
                with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
                    for n, result in zip(todo, pool.map(self._run, todo)):
                        self._results[n] = result
            return self._results[name]


@pytest.fixture(scope="session")
def mock_pool() -> Iterator[MockPool]:
    pool = MockPool()
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def mock_queue(mock_pool: MockPool) -> Any:
    """A shared mock queue (no simulated workers)."""
    return mock_pool.get()


@pytest.fixture(scope="session")
def replays(request, golden_traces, mock_pool: MockPool) -> Replays:
    names = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "trace_name" in callspec.params:
            names.append(callspec.params["trace_name"])
    return Replays(golden_traces, list(dict.fromkeys(names)), mock_pool)
