"""A pytest plugin for testing your own Taskcluster code against the mock queue, moto-style.

Installed with tutorial-kit (entry point ``pytest11``), so the fixtures are there in any test
run of an environment that has the package; nothing is imported until a test asks for one.

``mock_queue``
    A ``tutorial_kit.Queue`` with the tutorial client's credentials (scopes ``*``) on a fresh
    in-process mock per test: no socket, no port. Its control is ``mock_queue.mock``:
    ``.clock`` (``advance(timedelta)``, ``pause()``, ``now()``), ``.faults``
    (``fail_next(...)``, ``make_malformed(taskId)``...), ``.request_log`` (``since(0)``), and
    ``.async_queue()`` for an ``AsyncQueue`` on the same mock. ``fromNow()`` counts from its
    clock during the test. The built-in workers (``built-in/succeed``, ``built-in/fail``) run.

``mock_queue_url``
    The rootUrl of a fresh mock queue on a real loopback socket, for code that builds its own
    client (the official ``taskcluster`` package, a subprocess): ``TASKCLUSTER_ROOT_URL``,
    ``TASKCLUSTER_CLIENT_ID`` and ``TASKCLUSTER_ACCESS_TOKEN`` are set for the test, so
    ``taskcluster.Queue(taskcluster.optionsFromEnvironment())`` works. It is a ``str`` with
    ``.credentials`` and ``.mock`` (the same control as above).

Both mocks run the built-in workers only unless a test is marked
``@pytest.mark.mock_queue_shell``, which also starts the shell engine (it runs task payloads'
commands on this machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

SHELL_MARK = "mock_queue_shell"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{SHELL_MARK}: the mock_queue fixtures also start the shell engine, which "
                   "runs task payloads' commands on this machine")


def _shell_queues(request: pytest.FixtureRequest) -> Any:
    # An explicitly empty list turns the shell engine off; None means its default queues.
    return None if request.node.get_closest_marker(SHELL_MARK) else []


class MockQueueURL(str):
    """A mock queue's rootUrl, carrying the credentials and the mock's control."""

    credentials: dict[str, str]
    mock: Any

    # Clients copy their options (``{"rootUrl": mock_queue_url}``): a copy is the URL alone, not
    # the running mock it carries (which holds locks and threads).
    def __copy__(self) -> str:
        return str(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> str:
        return str(self)

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (str, (str(self),))


@pytest.fixture
def mock_queue(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A tutorial_kit.Queue on a fresh in-process mock queue (``mock_queue.mock``: its control)."""
    from tutorial_kit.client.fromnow import use_clock
    from tutorial_kit.mock import start

    mock = start(in_process=True, shell_queues=_shell_queues(request))
    queue = mock.queue()
    queue.mock = mock
    use_clock(mock.clock.now)
    try:
        yield queue
    finally:
        use_clock(None)
        queue.close()
        mock.stop()


@pytest.fixture
def mock_queue_url(request: pytest.FixtureRequest,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[MockQueueURL]:
    """The rootUrl of a fresh mock queue on loopback, with the TASKCLUSTER_* variables set."""
    from tutorial_kit.client.fromnow import use_clock
    from tutorial_kit.mock import start

    mock = start(shell_queues=_shell_queues(request))
    url = MockQueueURL(mock.root_url)
    url.credentials = dict(mock.credentials)
    url.mock = mock
    for name, value in mock.env().items():
        monkeypatch.setenv(name, value)
    use_clock(mock.clock.now)
    try:
        yield url
    finally:
        use_clock(None)
        mock.stop()
