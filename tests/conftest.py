"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The facts folder lives beside the checkout (../shared); TUTORIAL_KIT_SHARED may point elsewhere.
SHARED = pathlib.Path(os.environ.get("TUTORIAL_KIT_SHARED", ROOT.parent / "shared"))


def shared_path(*parts: str) -> pathlib.Path:
    """A path inside ../shared, or skip (fail under CI=true) when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent (the Taskcluster facts live in ../shared beside the checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must provide it")
        pytest.skip(reason)
    return path


@pytest.fixture(autouse=True)
def _wall_clock_for_fromnow():
    """connect() points fromNow at a mock's clock; no test may leave that to the next one."""
    yield
    from tutorial_kit.client.fromnow import use_clock

    use_clock(None)


@pytest.fixture(autouse=True, scope="module")
def _no_embedded_mock_left_behind():
    """A module's tests may share the mock connect() starts; the next module (on the same
    xdist worker) starts without it, as a fresh kernel does."""
    yield
    from tutorial_kit.connection import embedded_mock

    mock = embedded_mock()
    if mock is not None:
        mock.stop()


@pytest.fixture(scope="session")
def oracle_schemas() -> pathlib.Path:
    """../shared/taskcluster-schemas: the official schemas, the conformance oracle."""
    return shared_path("taskcluster-schemas")


@pytest.fixture(scope="session")
def golden_traces() -> pathlib.Path:
    """../shared/golden-traces: the real Queue's recorded answers."""
    return shared_path("golden-traces")


def pytest_collection_modifyitems(config, items):
    """On an xdist worker, modules with a test marked ``slow`` come first (in their own order).

    ``make test`` hands out whole modules and notebooks (``--dist loadfile``, with
    ``--no-loadscope-reorder`` so this order holds; xdist's default puts modules with the most
    tests first, which left the long single-test modules (the lessons rerun, the minimum
    versions, the wheel install) for the end, queued behind each other on one worker while the
    other had nothing left). Started first, they run beside the many short modules, which then
    even out the two workers' ends. A plain ``pytest`` run keeps the usual order.
    """
    if not hasattr(config, "workerinput"):
        return
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: each group keeps its order
