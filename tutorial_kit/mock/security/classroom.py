"""A classroom: one shared mock queue, one client per learner, each confined to their own work.

Isolation uses the Queue's own mechanism: every task carries a ``schedulerId``, all tasks of a
task group share it, and the scopes that change a task (rerun, cancel, schedule, seal) name it.
Learner ``alice`` may only create tasks with ``schedulerId: alice`` and only touch those, and
may only work the task queues ``learner-alice/*`` (as workerGroup ``alice``). Reading stays open
to all, as on a public deployment (the anonymous role); private artifacts only under
``private/alice/`` and lesson 3's ``private/secret.txt`` (see ``learner_scopes``). The tokens
handed out are kept beside the store (:class:`Keeper`), so a restart on the same ``--db`` changes
none. Learners' task commands run in a sandbox (``workers/sandbox.py``).
"""

from __future__ import annotations

import csv
import json
import os
import pathlib
import re
from dataclasses import dataclass, field

from .auth import new_access_token

# A learner's name becomes a schedulerId and part of a provisionerId (`learner-<name>`, at most
# 38 characters), so it must fit both patterns.
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,30}$")


#: Private artifact names the lessons use, readable by every learner of a class (lesson 3's
#: signed-URL example): artifact names are not per learner, so one learner can read another's
#: artifact of that name; what it holds is whatever a learner's task wrote there.
SHARED_PRIVATE_ARTIFACTS = ("queue:get-artifact:private/secret.txt",)


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
        # Private artifacts: an artifact's name is all a get-artifact scope can name (not its
        # task, not its schedulerId), so a learner's own namespace is a naming convention,
        # `private/<name>/...`, readable by that learner alone; plus the one name lesson 3
        # uses, `private/secret.txt`, which every learner may read (docs/teaching.md).
        f"queue:get-artifact:private/{name}/*",
        *SHARED_PRIVATE_ARTIFACTS,
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


def enroll(names: list[str], kept: dict[str, str] | None = None
           ) -> tuple[list[Learner], dict[str, dict]]:
    """One client per learner: the learners, and the ``clients`` config for ``start()``.

    ``kept`` maps learner names to access tokens handed out before (see :class:`Keeper`): those
    learners keep them; the others get a new one.
    """
    kept = kept or {}
    learners = [Learner(n, f"classroom/{n}", kept.get(n) or new_access_token()) for n in names]
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


@dataclass
class Keeper:
    """The classroom's access tokens, kept beside its store so a restart changes none of them.

    With ``--db classroom.sqlite3`` they live in ``classroom.sqlite3.credentials.json`` (owner
    only): a separate file, so the control plane's reset, which empties the store, cannot
    revoke what the teacher handed out. Without ``--db`` nothing is kept (and no task either).
    """

    path: pathlib.Path | None
    teacher: str | None = None
    learners: dict[str, str] = field(default_factory=dict)

    @classmethod
    def beside(cls, db: str | os.PathLike[str] | None) -> "Keeper":
        """The keeper of the store ``db`` (read if it exists; an in-memory store keeps none)."""
        if db is None:
            return cls(None)
        path = pathlib.Path(f"{os.fspath(db)}.credentials.json")
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text())
            teacher = data.get("teacher")
            learners = {str(k): str(v) for k, v in dict(data.get("learners", {})).items()}
        except (OSError, ValueError, TypeError, AttributeError) as error:
            raise ValueError(f"{path} is not a classroom's credentials file ({error}); move it "
                             "away to hand out new credentials") from None
        return cls(path, teacher if isinstance(teacher, str) else None, learners)

    def save(self, teacher: str, learners: list[Learner]) -> None:
        """Remember the tokens in use now (owner-only file, written whole, then renamed)."""
        if self.path is None:
            return
        self.teacher = teacher
        self.learners = {l.name: l.access_token for l in learners}
        partial = self.path.with_name(self.path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"teacher": teacher, "learners": self.learners}, out, indent=1)
        os.replace(partial, self.path)
