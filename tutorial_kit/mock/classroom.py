"""A classroom: one shared mock queue, one client per learner, each confined to their own work.

Isolation uses the Queue's own mechanism: every task carries a ``schedulerId``, all tasks of a
task group share it, and the scopes that change a task (rerun, cancel, schedule, seal) name it.
Learner ``alice`` may only create tasks with ``schedulerId: alice`` and only touch those, and
may only work the task queues ``learner-alice/*``. Reading stays open to all, as on a public
deployment (the anonymous role).
"""

from __future__ import annotations

import csv
import pathlib
import re
from dataclasses import dataclass

from .auth import new_access_token

# A learner's name becomes a schedulerId and part of a provisionerId (`learner-<name>`, at most
# 38 characters), so it must fit both patterns.
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,30}$")


def learner_scopes(name: str) -> list[str]:
    """Exactly what learner ``name`` may do, beyond the anonymous role.

    A ``*`` is a wildcard only at the end of a scope, so task queues are granted at priority
    ``highest``: createTask accepts the scope of the requested priority or any higher one.
    """
    own_queues = f"learner-{name}"
    return [
        f"queue:scheduler-id:{name}",
        "queue:create-task:project:*",
        "queue:create-task:highest:built-in/*",
        "queue:create-task:highest:tutorial/*",
        "queue:create-task:highest:aws-provisioner-v1/tutorial",
        f"queue:create-task:highest:{own_queues}/*",
        f"queue:rerun-task:{name}/*",
        f"queue:cancel-task:{name}/*",
        f"queue:schedule-task:{name}/*",
        f"queue:seal-task-group:{name}/*",
        f"queue:cancel-task-group:{name}/*",
        f"queue:change-task-priority-in-queue:{own_queues}/*",
        f"queue:claim-work:{own_queues}/*",
        f"queue:worker-id:{name}/*",
        # the run-scoped calls of a worker are covered by the claim's temporary credentials
    ]


@dataclass(frozen=True)
class Learner:
    name: str
    client_id: str
    access_token: str


def read_roster(path: str | pathlib.Path) -> list[str]:
    """Learner names, one per line (blank lines and ``#`` comments ignored; a CSV's first
    column is taken)."""
    names: list[str] = []
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split(",", 1)[0].strip()
        if not NAME.match(name):
            raise ValueError(f"{path}:{number}: {name!r} is not a usable learner name "
                             "(letters, digits, '-' and '_', at most 30)")
        if name in names:
            raise ValueError(f"{path}:{number}: {name!r} appears twice")
        names.append(name)
    if not names:
        raise ValueError(f"{path}: the roster names no learner")
    return names


def enroll(names: list[str]) -> tuple[list[Learner], dict[str, dict]]:
    """One client per learner: the learners, and the ``clients`` config for ``start()``."""
    learners = [Learner(n, f"classroom/{n}", new_access_token()) for n in names]
    clients = {l.client_id: {"accessToken": l.access_token, "scopes": learner_scopes(l.name)}
               for l in learners}
    return learners, clients


def write_credentials(path: str | pathlib.Path, learners: list[Learner]) -> None:
    """``learner,clientId,accessToken``, one line per learner (readable by the owner only)."""
    target = pathlib.Path(path)
    with target.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["learner", "clientId", "accessToken"])
        for learner in learners:
            writer.writerow([learner.name, learner.client_id, learner.access_token])
    target.chmod(0o600)
