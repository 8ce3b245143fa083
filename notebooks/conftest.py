"""nbval runs the lessons the way learners do: against one mock queue outside their kernels.

``make lab`` and Binder (``binder/start``) start one mock queue beside JupyterLab and export its
rootUrl and the tutorial client's credentials to every kernel, so a lesson's ``connect()`` finds
``TASKCLUSTER_ROOT_URL`` and starts nothing. Here, likewise: the first notebook cell of a pytest
process starts one mock queue (with its built-in workers), and each notebook's kernel is started
with that mock's three variables in its environment. A kernel then imports only the client, not
the server, the validator and the workers, which was most of a lesson's first cell.

With ``TUTORIAL_KIT_SEED`` set (``make test`` sets it, so that every kernel makes the same
ids), each notebook's kernel gets that seed with the notebook's name appended: its ids are still
the same at every run, and no longer the same as another notebook's on the shared queue (where
the second ``createTask`` of an id would be a conflict).

Nothing is done when ``TASKCLUSTER_ROOT_URL`` is already set (the lessons then run against that
deployment), or with ``TUTORIAL_KIT_NBVAL_EMBEDDED=1``: each kernel then starts its own embedded
mock, as ``connect()`` does for a kernel started outside JupyterLab.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

_mock: Any = None
_saved: dict[str, str | None] = {}


def _wanted() -> bool:
    if os.environ.get("TUTORIAL_KIT_NBVAL_EMBEDDED", "") not in ("", "0", "false"):
        return False
    return not _saved and not os.environ.get("TASKCLUSTER_ROOT_URL")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a notebook's cell (so before its kernel starts): the shared mock's variables."""
    global _mock
    if not _wanted():
        return
    if _mock is None or not _mock.running:
        from tutorial_kit.mock import start

        _mock = start()
    env = dict(_mock.env())
    seed = os.environ.get("TUTORIAL_KIT_SEED")
    if seed:
        env["TUTORIAL_KIT_SEED"] = f"{seed}:{item.path.stem}"
    for name, value in env.items():
        _saved[name] = os.environ.get(name)
        os.environ[name] = value


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """The variables go again after each cell: tests of other modules in this process (under
    pytest-xdist they interleave with notebooks) must not find them."""
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _mock is not None:
        _mock.stop()
