"""QueueBackend: the mock queue's model, one method per Queue API method.

The HTTP layer (``app``) hands each method a :class:`~tutorial_kit.mock.model.call.Call` and gets a
:class:`~tutorial_kit.mock.model.call.Reply` back, or a :class:`~tutorial_kit.mock.model.errors.QueueError`.
Task state changes go through :mod:`~tutorial_kit.mock.model.lifecycle` (pure), are written in one
:mod:`~tutorial_kit.mock.model.store` transaction, and their Pulse messages are published on the
:mod:`~tutorial_kit.mock.model.events` bus after the commit.

The methods are grouped by concern in mixins: tasks (here), the worker interface
(:mod:`.claims`), task groups (:mod:`.taskgroups`), worker metadata (:mod:`.taskqueues`) and
artifacts (:mod:`.artifacts`, another room).
"""

from __future__ import annotations

import copy
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from tutorial_kit.api import BY_NAME

from . import lifecycle
from .artifacts import ArtifactsMixin
from .call import Call, Reply
from .claims import ClaimsMixin
from .clock import Clock, parse_date, to_json
from .errors import QueueError, conflict, input_error, not_found
from .events import (EXCHANGES_WITH_TASK, Bus, Message, full_exchange, group_routing_key,
                     route_ccs, task_routing_key)
from .lifecycle import TaskRecord, Transition, render_status
from .pagination import page, with_token
from .store import Store
from .taskdef import DEFAULTS, check_shapes, normalize_definition, queue_identity, same_definition
from .taskgroups import TaskGroupsMixin
from .taskqueues import TaskQueuesMixin

CredentialIssuer = Callable[[str, list, datetime, datetime], dict]

#: Tasks' groups live this long after their last task expires.
GROUP_EXPIRY_MARGIN = timedelta(hours=1)


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


class QueueBackend(TaskQueuesMixin, TaskGroupsMixin, ClaimsMixin, ArtifactsMixin):
    """The state and behaviour of one mock queue."""

    def __init__(self, db_path: str | None = None, clock: Clock | None = None,
                 claim_timeout: float = 1200.0, deadline_delay: float = 0.0,
                 credential_issuer: CredentialIssuer | None = None,
                 bus: Bus | None = None) -> None:
        self.clock = clock if clock is not None else Clock()
        self.bus = bus if bus is not None else Bus()
        self.store = Store(db_path)
        self.claim_timeout = float(claim_timeout)
        self.deadline_delay = float(deadline_delay)
        self.credential_issuer: CredentialIssuer = credential_issuer or placeholder_credentials
        self.rng = random.Random()
        self._started = time.monotonic()
        self._last_expiry: datetime | None = None
        init_artifacts = getattr(self, "_init_artifacts", None)
        if callable(init_artifacts):
            init_artifacts()

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

    def seed(self, n: int) -> None:
        """Seed the random source of the ids the mock generates itself."""
        self.rng.seed(n)

    def reset(self) -> None:
        """Empty every table (tasks, runs, groups, queues, workers, artifacts, ...)."""
        self.store.reset()
        reset_artifacts = getattr(self, "_reset_artifacts", None)
        if callable(reset_artifacts):
            reset_artifacts()

    def close(self) -> None:
        self.store.close()

    def dump(self) -> dict[str, Any]:
        """JSON-serialisable state of everything (for /mock/v1/state and debugging)."""
        with self.store.read() as conn:
            tasks = []
            for row in conn.execute("SELECT task_id FROM tasks ORDER BY seq"):
                rec = self._load(conn, row["task_id"])
                if rec is not None:
                    tasks.append({"taskId": rec.taskId, "task": rec.task,
                                  "status": render_status(rec)})
            groups = [self._group_json(r) for r in
                      conn.execute("SELECT * FROM task_groups ORDER BY task_group_id")]
            queues = [self._task_queue_json(r) for r in
                      conn.execute("SELECT * FROM task_queues ORDER BY task_queue_id")]
            workers = [self._worker_json(r) for r in
                       conn.execute("SELECT * FROM workers ORDER BY task_queue_id, "
                                    "worker_group, worker_id")]
            dependencies = [dict(r) for r in conn.execute(
                "SELECT * FROM dependencies ORDER BY required_task_id, dependent_task_id")]
        state: dict[str, Any] = {"clock": self.clock.state(), "tasks": tasks,
                                 "taskGroups": groups, "dependencies": dependencies,
                                 "taskQueues": queues, "workers": workers}
        dump_artifacts = getattr(self, "_dump_artifacts", None)
        if callable(dump_artifacts):
            state.update(dump_artifacts())
        return state

    def tick(self) -> None:
        """Run the resolvers at ``clock.now()``: deadlines first, then claim expiry (and the
        claim checks a refused reclaim queued), then the expiry pass.

        A deadline resolves strictly after it has passed (the real queue takes about a minute),
        so a run's ``resolved`` time is never the deadline instant itself.
        """
        now = self.clock.now()
        cutoff = to_json(now - timedelta(seconds=self.deadline_delay))
        with self.store.read() as conn:
            overdue = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE state IN ('unscheduled', 'pending', 'running') "
                "AND deadline < ? ORDER BY deadline, seq", (cutoff,))]
        for task_id in overdue:
            self._resolve_one(task_id, lambda rec: lifecycle.deadline(rec, now)
                              if rec.deadline < now - timedelta(seconds=self.deadline_delay)
                              else Transition(rec))
        with self.store.read() as conn:
            expired = [(r["task_id"], r["run_id"]) for r in conn.execute(
                "SELECT task_id, run_id FROM claimed WHERE taken_until <= ? "
                "ORDER BY taken_until", (to_json(now),))]
        for task_id, run_id in expired:
            self._resolve_one(task_id, lambda rec, r=run_id: lifecycle.claim_expired(rec, r, now))
        self._run_claim_checks(now)
        # The expiry pass deletes things days after they stop mattering; running it at most
        # once per second of queue time keeps the frequent ticks light.
        since = None if self._last_expiry is None else now - self._last_expiry
        if since is None or since >= timedelta(seconds=1) or since < timedelta(0):
            self._last_expiry = now
            self._expire(now)

    def _expire(self, now: datetime) -> None:
        """The expiry pass: tasks, groups, task queues and workers past ``expires`` are deleted
        (then 404), with the rows that hang off them; artifacts through their mixin."""
        cutoff = to_json(now)
        with self.store.transaction() as conn:
            doomed = [r[0] for r in conn.execute("SELECT task_id FROM tasks WHERE expires < ?",
                                                 (cutoff,))]
            for task_id in doomed:
                for sql in ("DELETE FROM tasks WHERE task_id = ?",
                            "DELETE FROM pending WHERE task_id = ?",
                            "DELETE FROM claimed WHERE task_id = ?",
                            "DELETE FROM claim_checks WHERE task_id = ?",
                            "DELETE FROM dependencies WHERE dependent_task_id = ?",
                            "DELETE FROM dependencies WHERE required_task_id = ?"):
                    conn.execute(sql, (task_id,))
            conn.execute("DELETE FROM task_groups WHERE expires < ?", (cutoff,))
            conn.execute("DELETE FROM task_queues WHERE expires < ?", (cutoff,))
            conn.execute("DELETE FROM workers WHERE expires < ?", (cutoff,))
            expire_artifacts = getattr(self, "_expire_artifacts", None)
            if callable(expire_artifacts):
                expire_artifacts(conn, now)

    def _resolve_one(self, task_id: str, event: Callable[[TaskRecord], Transition]) -> None:
        messages: list[Message] = []
        with self.store.transaction() as conn:
            rec = self._load(conn, task_id)
            if rec is None:
                return
            self._apply(conn, event(rec), messages)
        self.publish(messages)

    # == members the artifact mixin relies on ==============================================
    def get_task(self, conn: sqlite3.Connection, taskId: str) -> dict[str, Any] | None:
        """The definition as the ``task`` method returns it, or None."""
        row = conn.execute("SELECT definition FROM tasks WHERE task_id = ?",
                           (taskId,)).fetchone()
        return json.loads(row["definition"]) if row else None

    def get_status(self, conn: sqlite3.Connection, taskId: str) -> dict[str, Any] | None:
        """The task status structure, or None."""
        rec = self._load(conn, taskId)
        return render_status(rec) if rec else None

    def publish(self, messages: Iterable[Message]) -> None:
        """Publish on the bus (call after the commit)."""
        messages = list(messages)
        if messages:
            self.bus.publish(messages)

    def task_message(self, exchange: str, status: dict[str, Any], task: dict[str, Any], *,
                     runId: int | None = None, workerGroup: str | None = None,
                     workerId: str | None = None, extra: dict[str, Any] | None = None) -> Message:
        """A task-exchange message: routing key (+ CCs from task.routes) and payload."""
        full = full_exchange(exchange)
        short = full.rsplit("/", 1)[-1]
        payload: dict[str, Any] = {"version": 1, "status": status}
        if runId is not None:
            payload["runId"] = runId
        if workerGroup is not None:
            payload["workerGroup"] = workerGroup
        if workerId is not None:
            payload["workerId"] = workerId
        payload.update(extra or {})
        if short in EXCHANGES_WITH_TASK:
            payload["task"] = {"tags": dict(task.get("tags") or {})}
        key = task_routing_key(status, runId=runId, workerGroup=workerGroup, workerId=workerId)
        return Message(full, key, payload, route_ccs(task.get("routes") or []))

    def group_message(self, exchange: str, taskGroupId: str, schedulerId: str,
                      fields: dict[str, Any]) -> Message:
        """A task-group-exchange message (4-word routing key, no CCs)."""
        payload = {"version": 1, **fields}
        return Message(full_exchange(exchange), group_routing_key(taskGroupId, schedulerId),
                       payload, [])

    # == records ===========================================================================
    def _load(self, conn: sqlite3.Connection, taskId: str) -> TaskRecord | None:
        row = conn.execute("SELECT task_id, definition, runs, retries_left FROM tasks "
                           "WHERE task_id = ?", (taskId,)).fetchone()
        if row is None:
            return None
        return TaskRecord(row["task_id"], json.loads(row["definition"]), json.loads(row["runs"]),
                          row["retries_left"])

    def _insert(self, conn: sqlite3.Connection, rec: TaskRecord) -> None:
        t = rec.task
        conn.execute(
            "INSERT INTO tasks (task_id, task_group_id, scheduler_id, task_queue_id, project_id, "
            "priority, deadline, expires, retries_left, state, definition, runs) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.taskId, t["taskGroupId"], t["schedulerId"], t["taskQueueId"], t["projectId"],
             t["priority"], t["deadline"], t["expires"], rec.retriesLeft, rec.state,
             json.dumps(t), json.dumps(rec.runs)))

    def _save(self, conn: sqlite3.Connection, rec: TaskRecord, *, resolved: bool = False) -> None:
        conn.execute(
            "UPDATE tasks SET priority = ?, retries_left = ?, state = ?, definition = ?, "
            "runs = ?, ever_resolved = MAX(ever_resolved, ?) WHERE task_id = ?",
            (rec.task["priority"], rec.retriesLeft, rec.state, json.dumps(rec.task),
             json.dumps(rec.runs), 1 if resolved or rec.state in lifecycle.RESOLVED_STATES else 0,
             rec.taskId))
        self._sync_queue_rows(conn, rec)

    def _sync_queue_rows(self, conn: sqlite3.Connection, rec: TaskRecord) -> None:
        """Keep ``pending``/``claimed`` in step with the record's last run."""
        last = rec.last_run
        pending_id = last["runId"] if last and last["state"] == "pending" else -1
        claimed_id = last["runId"] if last and last["state"] == "running" else -1
        conn.execute("DELETE FROM pending WHERE task_id = ? AND run_id != ?",
                     (rec.taskId, pending_id))
        conn.execute("DELETE FROM claimed WHERE task_id = ? AND run_id != ?",
                     (rec.taskId, claimed_id))
        rank = lifecycle.priority_rank(rec.task["priority"])
        if pending_id >= 0:
            # INSERT OR IGNORE keeps the original insertion order (FIFO) of a run already queued.
            conn.execute("INSERT OR IGNORE INTO pending (task_id, run_id, task_queue_id, "
                         "priority_rank, inserted) VALUES (?, ?, ?, ?, ?)",
                         (rec.taskId, pending_id, rec.task["taskQueueId"], rank,
                          last["scheduled"]))
            conn.execute("UPDATE pending SET priority_rank = ? WHERE task_id = ?",
                         (rank, rec.taskId))
        if claimed_id >= 0:
            seq = self.store.next_counter(conn, "claims")
            conn.execute(
                "INSERT INTO claimed (task_id, run_id, task_queue_id, worker_group, worker_id, "
                "claimed, taken_until, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(task_id, run_id) DO UPDATE SET taken_until = excluded.taken_until",
                (rec.taskId, claimed_id, rec.task["taskQueueId"], last["workerGroup"],
                 last["workerId"], last["started"], last["takenUntil"], seq))

    def _apply(self, conn: sqlite3.Connection, tr: Transition, out: list[Message], *,
               check_group: bool = True) -> None:
        """Store a transition, queue its messages, and follow a resolution through."""
        if tr.changed:
            self._save(conn, tr.record, resolved=tr.resolved)
        status = render_status(tr.record)
        for intent in tr.intents:
            out.append(self.task_message(intent.exchange, status, tr.record.task,
                                         runId=intent.runId, workerGroup=intent.workerGroup,
                                         workerId=intent.workerId, extra=intent.extra))
        if tr.resolved:
            self._resolve_dependents(conn, tr.record, out)
            if check_group:
                self._check_group_resolved(conn, tr.record.task["taskGroupId"], out)

    def _resolve_dependents(self, conn: sqlite3.Connection, rec: TaskRecord,
                            out: list[Message]) -> None:
        """The dependency tracker: satisfy edges, schedule dependents whose edges all are."""
        state = rec.state
        if state == "completed":
            conn.execute("UPDATE dependencies SET satisfied = 1 WHERE required_task_id = ?",
                         (rec.taskId,))
        elif state in lifecycle.RESOLVED_STATES:
            conn.execute("UPDATE dependencies SET satisfied = 1 WHERE required_task_id = ? "
                         "AND requires = 'all-resolved'", (rec.taskId,))
        else:
            return
        now = self.clock.now()
        dependents = [r["dependent_task_id"] for r in conn.execute(
            "SELECT dependent_task_id FROM dependencies WHERE required_task_id = ? "
            "ORDER BY dependent_task_id", (rec.taskId,))]
        for dep_id in dependents:
            blocked = conn.execute("SELECT 1 FROM dependencies WHERE dependent_task_id = ? "
                                   "AND satisfied = 0 LIMIT 1", (dep_id,)).fetchone()
            if blocked:
                continue
            dep = self._load(conn, dep_id)
            if dep is not None and not dep.runs:
                self._apply(conn, lifecycle.schedule(dep, now), out)

    def _check_group_resolved(self, conn: sqlite3.Connection, taskGroupId: str,
                              out: list[Message]) -> None:
        """``task-group-resolved`` once every task of the group was resolved at least once."""
        unresolved = conn.execute("SELECT 1 FROM tasks WHERE task_group_id = ? AND "
                                  "ever_resolved = 0 LIMIT 1", (taskGroupId,)).fetchone()
        if unresolved:
            return
        group = conn.execute("SELECT * FROM task_groups WHERE task_group_id = ?",
                             (taskGroupId,)).fetchone()
        if group is None:
            return
        body = self._group_json(group)
        out.append(self.group_message("task-group-resolved", taskGroupId, group["scheduler_id"],
                                      body))

    def _require_task(self, conn: sqlite3.Connection, taskId: str, message: str) -> TaskRecord:
        rec = self._load(conn, taskId)
        if rec is None:
            raise not_found(message)
        return rec

    def _transition(self, call: Call, missing: str,
                    authorize: Callable[[TaskRecord], None] | None,
                    event: Callable[[TaskRecord], Transition]) -> Reply:
        """Load → 404 → authorize → lifecycle event → store → publish → ``{status}``."""
        messages: list[Message] = []
        taskId = call.params["taskId"]
        with self.store.transaction() as conn:
            rec = self._require_task(conn, taskId, missing.format(taskId=taskId))
            if authorize is not None:
                authorize(rec)
            tr = event(rec)
            self._apply(conn, tr, messages)
            status = render_status(tr.record)
        self.publish(messages)
        return Reply({"status": status})

    @staticmethod
    def _scheduler_params(rec: TaskRecord) -> dict[str, Any]:
        return {"schedulerId": rec.task["schedulerId"], "taskGroupId": rec.task["taskGroupId"],
                "projectId": rec.task["projectId"]}

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
    _NO_TASK = "`{taskId}` does not correspond to a task that exists.\nAre you sure this task exists?"

    def task(self, call: Call) -> Reply:
        with self.store.read() as conn:
            task = self.get_task(conn, call.params["taskId"])
        if task is None:
            raise not_found(f"`{call.params['taskId']}` does not correspond to a task that "
                            "exists.\nAre you sure this task has already been submitted?")
        return Reply(task)

    def status(self, call: Call) -> Reply:
        with self.store.read() as conn:
            status = self.get_status(conn, call.params["taskId"])
        if status is None:
            raise not_found(self._NO_TASK.format(taskId=call.params["taskId"]))
        return Reply({"status": status})

    def _batch(self, call: Call, key: str, render: Callable[[TaskRecord], dict[str, Any]]) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        task_ids = body.get("taskIds")
        if not isinstance(task_ids, list) or not all(isinstance(t, str) for t in task_ids):
            raise input_error("`taskIds` must be a list of taskIds.")
        call.authorize(taskIds=task_ids)
        offset, size = page(call.query)
        with self.store.read() as conn:
            # unknown ids are skipped, not an error
            found = [rec for rec in (self._load(conn, t) for t in task_ids) if rec is not None]
        items = [{"taskId": rec.taskId, **render(rec)} for rec in found[offset: offset + size]]
        has_more = len(found) > offset + size
        return Reply(with_token({key: items}, offset, size, has_more))

    def tasks(self, call: Call) -> Reply:
        return self._batch(call, "tasks", lambda rec: {"task": rec.task})

    def statuses(self, call: Call) -> Reply:
        return self._batch(call, "statuses", lambda rec: {"status": render_status(rec)})

    def createTask(self, call: Call) -> Reply:
        taskId = call.params["taskId"]
        now = self.clock.now()
        if not isinstance(call.body, dict):
            raise input_error("The task definition must be a JSON object.")
        # The real handler patches the request body in stages, and an error envelope shows the
        # body as patched so far: queue identity, then (after authorization) taskGroupId, then
        # (after the date checks) expires. Patch call.body the same way.
        body = call.body
        tq, prov, wt = queue_identity(body)
        body.update(taskQueueId=tq, provisionerId=prov, workerType=wt)
        for key, value in DEFAULTS.items():  # normally filled by validation already
            body.setdefault(key, copy.deepcopy(value))
        check_shapes(body)
        call.authorize(scopes=body["scopes"], routes=body["routes"],
                       projectId=body["projectId"], schedulerId=body["schedulerId"],
                       priorities=lifecycle.priorities_at_least(body["priority"]),
                       provisionerId=prov, workerType=wt)
        body.setdefault("taskGroupId", taskId)
        definition = normalize_definition(taskId, body, now, wall=datetime.now(timezone.utc))
        body.setdefault("expires", definition["expires"])
        messages: list[Message] = []
        with self.store.transaction() as conn:
            existing = self._load(conn, taskId)
            if existing is not None:
                if not same_definition(existing.task, definition):
                    raise conflict(f"taskId `{taskId}` is already used by another task "
                                   "(with a different definition). Check that retries of "
                                   "createTask send exactly the same definition.")
                # Idempotent repeat: re-announce, answer with the current status.
                messages.append(self.task_message("task-defined",
                                                  lifecycle.defined_status(existing),
                                                  existing.task))
                if existing.runs and existing.runs[0]["state"] == "pending":
                    messages.append(self.task_message("task-pending", render_status(existing),
                                                      existing.task, runId=0))
                status = render_status(existing)
            else:
                status = self._create(conn, taskId, definition, now, messages)
        self.publish(messages)
        return Reply({"status": status})

    def _create(self, conn: sqlite3.Connection, taskId: str, definition: dict[str, Any],
                now: datetime, messages: list[Message]) -> dict[str, Any]:
        deps = list(dict.fromkeys(definition["dependencies"]))
        # Dependencies: all must exist and outlive this task's deadline (nothing is created
        # otherwise).
        missing, expiring, rows = [], [], {}
        for dep in deps:
            row = conn.execute("SELECT task_id, expires, state FROM tasks WHERE task_id = ?",
                               (dep,)).fetchone()
            if row is None:
                missing.append(dep)
            else:
                rows[dep] = row
                if parse_date(row["expires"]) < parse_date(definition["deadline"]):
                    expiring.append(dep)
        if missing:
            raise input_error("`task.dependencies` names tasks that do not exist:\n"
                              + "".join(f" * {d}\n" for d in missing)
                              + "Every task in `task.dependencies` must exist before the "
                              "dependent task is created.")
        if expiring:
            raise input_error("`task.dependencies` names tasks that expire before this task's "
                              "`deadline`:\n" + "".join(f" * {d}\n" for d in expiring)
                              + "Every dependency must have `task.expires` at or after the "
                              "dependent task's `deadline`.")
        # Task group: created by its first task; all its tasks share one schedulerId.
        group_id = definition["taskGroupId"]
        group_expires = to_json(parse_date(definition["expires"]) + GROUP_EXPIRY_MARGIN)
        group = conn.execute("SELECT * FROM task_groups WHERE task_group_id = ?",
                             (group_id,)).fetchone()
        if group is None:
            conn.execute("INSERT INTO task_groups (task_group_id, scheduler_id, expires) "
                         "VALUES (?, ?, ?)", (group_id, definition["schedulerId"], group_expires))
        else:
            if group["scheduler_id"] != definition["schedulerId"]:
                raise conflict(f"Task group `{group_id}` belongs to schedulerId "
                               f"`{group['scheduler_id']}`; every task of a group must use the "
                               f"same schedulerId, not `{definition['schedulerId']}`.")
            if group["sealed"] is not None:
                raise conflict(f"Task group `{group_id}` is sealed and does not accept new "
                               "tasks.")
            if group_expires > group["expires"]:
                conn.execute("UPDATE task_groups SET expires = ? WHERE task_group_id = ?",
                             (group_expires, group_id))
        rec = lifecycle.new_record(taskId, definition)
        self._insert(conn, rec)
        unmet = 0
        for dep in deps:
            state = rows[dep]["state"]
            satisfied = state == "completed" or (
                definition["requires"] == "all-resolved" and state in lifecycle.RESOLVED_STATES)
            unmet += 0 if satisfied else 1
            conn.execute("INSERT OR IGNORE INTO dependencies (required_task_id, "
                         "dependent_task_id, requires, satisfied) VALUES (?, ?, ?, ?)",
                         (dep, taskId, definition["requires"], 1 if satisfied else 0))
        messages.append(self.task_message("task-defined", lifecycle.defined_status(rec),
                                          rec.task))
        if unmet == 0:
            tr = lifecycle.schedule(rec, now)
            self._apply(conn, tr, messages)
            rec = tr.record
        return render_status(rec)

    def scheduleTask(self, call: Call) -> Reply:
        now = self.clock.now()
        return self._transition(
            call, self._NO_TASK,
            lambda rec: call.authorize(**self._scheduler_params(rec)),
            lambda rec: lifecycle.schedule(rec, now, force=True))

    def rerunTask(self, call: Call) -> Reply:
        now = self.clock.now()
        return self._transition(
            call, "`{taskId}` does not correspond to a task that exists.\n"
                  "Are you sure this task has been submitted before?",
            lambda rec: call.authorize(**self._scheduler_params(rec)),
            lambda rec: lifecycle.rerun(rec, now))

    def cancelTask(self, call: Call) -> Reply:
        now = self.clock.now()
        return self._transition(
            call, "Task `{taskId}` not found. Are you sure it was created?",
            lambda rec: call.authorize(**self._scheduler_params(rec)),
            lambda rec: lifecycle.cancel(rec, now))

    def changeTaskPriority(self, call: Call) -> Reply:
        now = self.clock.now()
        body = call.body if isinstance(call.body, dict) else {}
        new_priority = body.get("newPriority")
        if new_priority not in lifecycle.PRIORITIES:
            raise input_error(f"`newPriority` must be one of {', '.join(lifecycle.PRIORITIES)}.")
        return self._transition(
            call, self._NO_TASK,
            lambda rec: call.authorize(taskQueueId=rec.task["taskQueueId"]),
            lambda rec: lifecycle.change_priority(rec, new_priority, now))

    def listDependentTasks(self, call: Call) -> Reply:
        taskId = call.params["taskId"]
        offset, size = page(call.query)
        with self.store.read() as conn:
            self._require_task(conn, taskId, self._NO_TASK.format(taskId=taskId))
            ids = [r["dependent_task_id"] for r in conn.execute(
                "SELECT dependent_task_id FROM dependencies WHERE required_task_id = ? "
                "ORDER BY dependent_task_id LIMIT ? OFFSET ?", (taskId, size + 1, offset))]
            items = []
            for dep_id in ids[:size]:
                rec = self._load(conn, dep_id)
                if rec is not None:
                    items.append({"task": rec.task, "status": render_status(rec)})
        return Reply(with_token({"taskId": taskId, "tasks": items}, offset, size,
                                len(ids) > size))
