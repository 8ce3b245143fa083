"""QueueBackend: the mock queue's model, one method per Queue API method.

The HTTP layer (``app``) hands each method a :class:`~tutorial_kit.mock.model.call.Call` and gets a
:class:`~tutorial_kit.mock.model.call.Reply` back, or a :class:`~tutorial_kit.mock.model.errors.QueueError`.
Task state changes go through :mod:`~tutorial_kit.mock.model.lifecycle` (pure), are written in one
:mod:`~tutorial_kit.mock.model.store` transaction, and their Pulse messages are published on the
:mod:`~tutorial_kit.mock.model.events` bus after the commit.

The backend is a facade: each API method is one line that hands the call to the concern it
belongs to, a plain class built here with what it needs: tasks (:mod:`.tasks`), the worker
interface (:mod:`.claims`), task groups (:mod:`.taskgroups`), worker metadata
(:mod:`.taskqueues`) and artifacts (:mod:`.artifacts`, one handler per storage type in
:mod:`.storagetypes`). The record keeping they share (loading and saving tasks, applying a
lifecycle transition, publishing) is :mod:`.records`; no concern knows the backend.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from tutorial_kit.api import BY_NAME

from .artifacts import Artifacts
from .blobs import BlobStore
from .call import Call, Reply
from .claims import Claims, CredentialIssuer
from .clock import Clock
from .errors import QueueError
from .events import Bus
from .objects import ObjectService
from .records import Records
from .store import Store
from .taskgroups import TaskGroups
from .taskqueues import TaskQueues
from .tasks import Tasks


def placeholder_credentials(client_id: str, scopes: list[str], start: datetime,
                            expiry: datetime) -> dict[str, str]:
    """Stand-in for ``auth.py``'s minting when the backend runs without the HTTP layer."""
    return {"clientId": client_id, "accessToken": "mock-access-token-not-usable",
            "certificate": json.dumps({"version": 1, "scopes": list(scopes),
                                       "start": int(start.timestamp() * 1000),
                                       "expiry": int(expiry.timestamp() * 1000)})}


def _package_version() -> str:
    try:
        from tutorial_kit import __version__
        return str(__version__)
    except Exception:
        return "0.0.0"


class QueueBackend:
    """The state and behaviour of one mock queue."""

    def __init__(self, db_path: str | None = None, clock: Clock | None = None,
                 claim_timeout: float = 1200.0, deadline_delay: float = 0.0,
                 credential_issuer: CredentialIssuer | None = None,
                 bus: Bus | None = None) -> None:
        self.clock = clock if clock is not None else Clock()
        self.bus = bus if bus is not None else Bus()
        self.store = Store(db_path)
        issuer = credential_issuer or placeholder_credentials
        #: The random source of the ids the mock makes itself (``seed`` makes them repeat).
        self.rng = random.Random()
        self._started = time.monotonic()
        self._last_expiry: datetime | None = None
        # The concerns: private, since the methods below are the one way in.
        records = Records(self.store, self.clock, self.bus)
        self._records = records
        self._tasks = Tasks(records, self.store, self.clock, deadline_delay)
        self._claims = Claims(records, self.store, self.clock, claim_timeout, issuer)
        self._task_groups = TaskGroups(records, self.store, self.clock)
        self._task_queues = TaskQueues(records, self.store, self.clock)
        self.blob_store = BlobStore(self.store)
        #: The Object service's model (``/api/object/v1``), served by the HTTP layer.
        self.objects = ObjectService(self.store, self.clock, self.blob_store)
        self._artifacts = Artifacts(records, self.store, self.clock, self.rng, issuer,
                                   self.blob_store, self.objects)

    # == the contract ======================================================================
    #: Methods whose reply depends only on their URL parameters and the stored state (not on
    #: the caller, the clock or the rootUrl): the HTTP layer may reuse a reply of one of these
    #: until :meth:`state_version` changes.
    STATE_READS = frozenset({"status", "task"})

    def state_version(self) -> int:
        """A number that changes whenever anything is written to the store."""
        return self.store.changes()

    def implements(self, name: str) -> bool:
        """Is the API method ``name`` implemented here?"""
        return name in BY_NAME and callable(getattr(self, name, None))

    def handle(self, call: Call) -> Reply:
        """Dispatch to the method named ``call.entry.name``."""
        name = call.entry.name
        if not self.implements(name):
            raise QueueError("NotImplemented", f"The mock queue does not implement `{name}`.")
        return getattr(self, name)(call)

    @property
    def max_blob_bytes(self) -> int:
        """Upper bound for one uploaded blob or object (bytes); settable."""
        return self.blob_store.max_bytes

    @max_blob_bytes.setter
    def max_blob_bytes(self, value: int) -> None:
        self.blob_store.max_bytes = value

    def seed(self, n: int) -> None:
        """Seed the random source of the ids the mock generates itself."""
        self.rng.seed(n)

    def reset(self) -> None:
        """Empty every table (tasks, runs, groups, queues, workers, artifacts, blobs, objects,
        ...): the store empties every table it has, its own and those the concerns added."""
        self.store.reset()

    def close(self) -> None:
        self.store.close()

    def dump(self) -> dict[str, Any]:
        """JSON-serialisable state of everything (for /mock/v1/state and debugging)."""
        with self.store.read() as conn:
            queues = self._task_queues.dump(conn)
            state: dict[str, Any] = {
                "clock": self.clock.state(), "tasks": self._tasks.dump(conn),
                "taskGroups": self._task_groups.dump(conn),
                "dependencies": self._tasks.dump_dependencies(conn),
                "taskQueues": queues["taskQueues"], "workers": queues["workers"]}
        state.update(self._artifacts.dump())
        return state

    def tick(self) -> None:
        """Run the resolvers at ``clock.now()``: deadlines first, then claim expiry (and the
        claim checks a refused reclaim queued), then the expiry pass."""
        now = self.clock.now()
        self._tasks.resolve_deadlines(now)
        self._claims.expire_claims(now)
        # The expiry pass deletes things days after they stop mattering; running it at most
        # once per second of queue time keeps the frequent ticks light.
        since = None if self._last_expiry is None else now - self._last_expiry
        if since is None or since >= timedelta(seconds=1) or since < timedelta(0):
            self._last_expiry = now
            self._expire(now)

    def _expire(self, now: datetime) -> None:
        """The expiry pass: tasks, groups, task queues, workers and artifacts past ``expires``
        are deleted (then 404), with the rows that hang off them."""
        with self.store.transaction() as conn:
            self._tasks.expire(conn, now)
            self._task_groups.expire(conn, now)
            self._task_queues.expire(conn, now)
            self._artifacts.expire(conn, now)

    # == reads for the parts that host the backend (built-in workers, tests) ==============
    def get_task(self, conn: sqlite3.Connection, taskId: str) -> dict[str, Any] | None:
        """The definition as the ``task`` method returns it, or None."""
        return self._records.get_task(conn, taskId)

    def get_status(self, conn: sqlite3.Connection, taskId: str) -> dict[str, Any] | None:
        """The task status structure, or None."""
        return self._records.get_status(conn, taskId)

    # == the blob store and object bytes (plain HTTP, used by the HTTP layer) ==============
    def put_blob(self, key: str, query: dict[str, str], data: bytes, content_type: str | None,
                 *, content_length: int | None = None) -> None:
        """Store the bytes PUT to an s3 artifact's ``putUrl`` (see :class:`.storagetypes.S3Type`)."""
        self._artifacts.s3.put_blob(key, query, data, content_type,
                                   content_length=content_length)

    def get_blob(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """The bytes and content type behind an s3 artifact's download URL."""
        return self._artifacts.s3.get_blob(key, query)

    def put_object(self, name: str, query: dict[str, str], data: bytes,
                   content_type: str | None, *, content_length: int | None = None) -> None:
        """A PUT to ``/mock/v1/objects/<object name>`` (see :class:`.storagetypes.ObjectType`)."""
        self._artifacts.object.put_object(name, query, data, content_type,
                                         content_length=content_length)

    def get_object(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """The bytes behind an object download URL."""
        return self._artifacts.object.get_object(key, query)

    # == monitoring ========================================================================
    def ping(self, call: Call) -> Reply:
        return Reply({"alive": True, "uptime": round(time.monotonic() - self._started, 3)})

    def lbheartbeat(self, call: Call) -> Reply:
        return Reply({})

    def heartbeat(self, call: Call) -> Reply:
        return Reply({})

    def version(self, call: Call) -> Reply:
        return Reply({"source": "https://github.com/taskcluster/taskcluster",
                      "version": _package_version(), "commit": "tutorial-kit-mock",
                      "build": "tutorial-kit mock queue"})

    # == tasks =============================================================================
    def task(self, call: Call) -> Reply:
        return self._tasks.task(call)

    def status(self, call: Call) -> Reply:
        return self._tasks.status(call)

    def tasks(self, call: Call) -> Reply:
        return self._tasks.tasks(call)

    def statuses(self, call: Call) -> Reply:
        return self._tasks.statuses(call)

    def listDependentTasks(self, call: Call) -> Reply:
        return self._tasks.listDependentTasks(call)

    def createTask(self, call: Call) -> Reply:
        return self._tasks.createTask(call)

    def scheduleTask(self, call: Call) -> Reply:
        return self._tasks.scheduleTask(call)

    def rerunTask(self, call: Call) -> Reply:
        return self._tasks.rerunTask(call)

    def cancelTask(self, call: Call) -> Reply:
        return self._tasks.cancelTask(call)

    def changeTaskPriority(self, call: Call) -> Reply:
        return self._tasks.changeTaskPriority(call)

    # == task groups =======================================================================
    def listTaskGroup(self, call: Call) -> Reply:
        return self._task_groups.listTaskGroup(call)

    def getTaskGroup(self, call: Call) -> Reply:
        return self._task_groups.getTaskGroup(call)

    def sealTaskGroup(self, call: Call) -> Reply:
        return self._task_groups.sealTaskGroup(call)

    def cancelTaskGroup(self, call: Call) -> Reply:
        return self._task_groups.cancelTaskGroup(call)

    def changeTaskGroupPriority(self, call: Call) -> Reply:
        return self._task_groups.changeTaskGroupPriority(call)

    # == the worker interface ==============================================================
    def claimWork(self, call: Call) -> Reply:
        return self._claims.claimWork(call)

    def claimTask(self, call: Call) -> Reply:
        return self._claims.claimTask(call)

    def reclaimTask(self, call: Call) -> Reply:
        return self._claims.reclaimTask(call)

    def reportCompleted(self, call: Call) -> Reply:
        return self._claims.reportCompleted(call)

    def reportFailed(self, call: Call) -> Reply:
        return self._claims.reportFailed(call)

    def reportException(self, call: Call) -> Reply:
        return self._claims.reportException(call)

    # == artifacts =========================================================================
    def createArtifact(self, call: Call) -> Reply:
        return self._artifacts.createArtifact(call)

    def finishArtifact(self, call: Call) -> Reply:
        return self._artifacts.finishArtifact(call)

    def getArtifact(self, call: Call) -> Reply:
        return self._artifacts.getArtifact(call)

    def getLatestArtifact(self, call: Call) -> Reply:
        return self._artifacts.getLatestArtifact(call)

    def artifact(self, call: Call) -> Reply:
        return self._artifacts.artifact(call)

    def latestArtifact(self, call: Call) -> Reply:
        return self._artifacts.latestArtifact(call)

    def artifactInfo(self, call: Call) -> Reply:
        return self._artifacts.artifactInfo(call)

    def latestArtifactInfo(self, call: Call) -> Reply:
        return self._artifacts.latestArtifactInfo(call)

    def listArtifacts(self, call: Call) -> Reply:
        return self._artifacts.listArtifacts(call)

    def listLatestArtifacts(self, call: Call) -> Reply:
        return self._artifacts.listLatestArtifacts(call)

    # == worker metadata ===================================================================
    def pendingTasks(self, call: Call) -> Reply:
        return self._task_queues.pendingTasks(call)

    def taskQueueCounts(self, call: Call) -> Reply:
        return self._task_queues.taskQueueCounts(call)

    def taskQueueCountsBatch(self, call: Call) -> Reply:
        return self._task_queues.taskQueueCountsBatch(call)

    def listPendingTasks(self, call: Call) -> Reply:
        return self._task_queues.listPendingTasks(call)

    def listClaimedTasks(self, call: Call) -> Reply:
        return self._task_queues.listClaimedTasks(call)

    def getTaskQueue(self, call: Call) -> Reply:
        return self._task_queues.getTaskQueue(call)

    def listTaskQueues(self, call: Call) -> Reply:
        return self._task_queues.listTaskQueues(call)

    def listProvisioners(self, call: Call) -> Reply:
        return self._task_queues.listProvisioners(call)

    def getProvisioner(self, call: Call) -> Reply:
        return self._task_queues.getProvisioner(call)

    def listWorkerTypes(self, call: Call) -> Reply:
        return self._task_queues.listWorkerTypes(call)

    def getWorkerType(self, call: Call) -> Reply:
        return self._task_queues.getWorkerType(call)

    def listWorkers(self, call: Call) -> Reply:
        return self._task_queues.listWorkers(call)

    def getWorker(self, call: Call) -> Reply:
        return self._task_queues.getWorker(call)

    def quarantineWorker(self, call: Call) -> Reply:
        return self._task_queues.quarantineWorker(call)

    def declareWorker(self, call: Call) -> Reply:
        return self._task_queues.declareWorker(call)
