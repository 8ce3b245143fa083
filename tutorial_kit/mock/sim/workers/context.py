"""What the engines of one simulated cluster share, and what the wiring hands them.

Its own module so that the engines (``builtin``, ``shell``) and the package that starts them
(``workers/__init__``) all import it without importing each other. Everything here reaches the
engines from the wiring (``mock/server.py``, ``mock/inprocess.py``) as an explicit value: a
worker never looks into the mock queue's model, it calls the Queue API like an external one.
"""

from __future__ import annotations

import pathlib
import threading
from dataclasses import dataclass, field
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.dates import to_json
from tutorial_kit.mock.model.livelog import LiveLogs, livelog_path
from tutorial_kit.mock.security.sandbox import Unsandboxed
from tutorial_kit.mock.sim.faults import Faults

from tutorial_kit.worker.claim import SimClock


class CrashError(LookupError):
    """No worker of the cluster is running that task (nothing to crash)."""


@dataclass
class ClusterContext:
    """What every engine of one cluster shares."""

    root_url: str
    queue: Any  # the cluster's own client (claimWork; built-in reports)
    clock: SimClock
    faults: Faults
    livelogs: LiveLogs
    runs_dir: pathlib.Path
    http: httpx.Client  # plain HTTP for artifact PUTs
    stopping: threading.Event = field(default_factory=threading.Event)
    #: where the shell engine runs commands (``sandbox``): as this user, in bubblewrap, or not
    sandbox: Unsandboxed = field(default_factory=Unsandboxed)

    def livelog_url(self, task_id: str, run_id: int) -> str:
        return self.root_url + livelog_path(task_id, run_id)

    def now_json(self) -> str:
        return to_json(self.clock.now())
