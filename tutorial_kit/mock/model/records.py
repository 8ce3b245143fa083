"""Task records in the store, and the one way a lifecycle transition is applied to them.

Every concern of the backend (tasks, claims, task groups, task queues, artifacts) reads and
writes tasks through :class:`Records`: a :class:`~tutorial_kit.mock.model.lifecycle.TaskRecord`
is loaded in a store transaction, a pure :mod:`~tutorial_kit.mock.model.lifecycle` event turns
it into a :class:`~tutorial_kit.mock.model.lifecycle.Transition`, :meth:`Records.apply` writes
it (keeping the ``pending``/``claimed`` queues in step, satisfying dependencies, noticing a
resolved task group) and collects its Pulse messages, which are published after the commit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from tutorial_kit.vocabulary import RESOLVED_STATES

from . import lifecycle
from .call import Call, Reply
from .clock import Clock
from .errors import not_found
from .events import Bus, Message, group_message, task_message
from .lifecycle import TaskRecord, Transition, render_status
from .store import Store


def group_json(row: sqlite3.Row) -> dict[str, Any]:
    """A task group as ``getTaskGroup`` answers it (and ``task-group-resolved`` announces it)."""
    body = {"taskGroupId": row["task_group_id"], "schedulerId": row["scheduler_id"],
            "expires": row["expires"]}
    if row["sealed"] is not None:
        body["sealed"] = row["sealed"]
    return body


class Records:
    """Reading, writing and transitioning task records in one store, publishing on one bus."""

    def __init__(self, store: Store, clock: Clock, bus: Bus) -> None:
        self.store = store
        self.clock = clock
        self.bus = bus

    # -- reading -------------------------------------------------------------------------------
    def load(self, conn: sqlite3.Connection, taskId: str) -> TaskRecord | None:
        """The task's record, or None."""
        row = conn.execute("SELECT task_id, definition, runs, retries_left FROM tasks "
                           "WHERE task_id = ?", (taskId,)).fetchone()
        if row is None:
            return None
        return TaskRecord(row["task_id"], json.loads(row["definition"]), json.loads(row["runs"]),
                          row["retries_left"])

    def require(self, conn: sqlite3.Connection, taskId: str, message: str) -> TaskRecord:
        """The task's record, or a 404 with ``message``."""
        rec = self.load(conn, taskId)
        if rec is None:
            raise not_found(message)
        return rec

    @staticmethod
    def get_task(conn: sqlite3.Connection, taskId: str) -> dict[str, Any] | None:
        """The definition as the ``task`` method returns it, or None."""
        row = conn.execute("SELECT definition FROM tasks WHERE task_id = ?",
                           (taskId,)).fetchone()
        return json.loads(row["definition"]) if row else None

    def get_status(self, conn: sqlite3.Connection, taskId: str) -> dict[str, Any] | None:
        """The task status structure, or None."""
        rec = self.load(conn, taskId)
        return render_status(rec) if rec else None

    # -- writing -------------------------------------------------------------------------------
    def insert(self, conn: sqlite3.Connection, rec: TaskRecord) -> None:
        """Store a new task (its runs come later, through :meth:`apply`)."""
        t = rec.task
        conn.execute(
            "INSERT INTO tasks (task_id, task_group_id, scheduler_id, task_queue_id, project_id, "
            "priority, deadline, expires, retries_left, state, definition, runs) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.taskId, t["taskGroupId"], t["schedulerId"], t["taskQueueId"], t["projectId"],
             t["priority"], t["deadline"], t["expires"], rec.retriesLeft, rec.state,
             json.dumps(t), json.dumps(rec.runs)))

    def save(self, conn: sqlite3.Connection, rec: TaskRecord, *, resolved: bool = False) -> None:
        """Write a changed record back, with the queue rows that follow from it."""
        conn.execute(
            "UPDATE tasks SET priority = ?, retries_left = ?, state = ?, definition = ?, "
            "runs = ?, ever_resolved = MAX(ever_resolved, ?) WHERE task_id = ?",
            (rec.task["priority"], rec.retriesLeft, rec.state, json.dumps(rec.task),
             json.dumps(rec.runs), 1 if resolved or rec.state in RESOLVED_STATES else 0,
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

    # -- transitions ---------------------------------------------------------------------------
    def apply(self, conn: sqlite3.Connection, tr: Transition, out: list[Message], *,
              check_group: bool = True) -> None:
        """Store a transition, queue its messages, and follow a resolution through."""
        if tr.changed:
            self.save(conn, tr.record, resolved=tr.resolved)
        status = render_status(tr.record)
        for intent in tr.intents:
            out.append(task_message(intent.exchange, status, tr.record.task,
                                    runId=intent.runId, workerGroup=intent.workerGroup,
                                    workerId=intent.workerId, extra=intent.extra))
        if tr.resolved:
            self._resolve_dependents(conn, tr.record, out)
            if check_group:
                self.check_group_resolved(conn, tr.record.task["taskGroupId"], out)

    def _resolve_dependents(self, conn: sqlite3.Connection, rec: TaskRecord,
                            out: list[Message]) -> None:
        """The dependency tracker: satisfy edges, schedule dependents whose edges all are."""
        state = rec.state
        if state == "completed":
            conn.execute("UPDATE dependencies SET satisfied = 1 WHERE required_task_id = ?",
                         (rec.taskId,))
        elif state in RESOLVED_STATES:
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
            dep = self.load(conn, dep_id)
            if dep is not None and not dep.runs:
                self.apply(conn, lifecycle.schedule(dep, now), out)

    def check_group_resolved(self, conn: sqlite3.Connection, taskGroupId: str,
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
        out.append(group_message("task-group-resolved", taskGroupId, group["scheduler_id"],
                                 group_json(group)))

    def transition(self, call: Call, missing: str,
                   authorize: Callable[[TaskRecord], None] | None,
                   event: Callable[[TaskRecord], Transition]) -> Reply:
        """Load → 404 (``missing``) → authorize → lifecycle event → store → publish →
        ``{status}``: the shape of every method that moves one task."""
        messages: list[Message] = []
        taskId = call.params["taskId"]
        with self.store.transaction() as conn:
            rec = self.require(conn, taskId, missing.format(taskId=taskId))
            if authorize is not None:
                authorize(rec)
            tr = event(rec)
            self.apply(conn, tr, messages)
            status = render_status(tr.record)
        self.publish(messages)
        return Reply({"status": status})

    def resolve_one(self, task_id: str, event: Callable[[TaskRecord], Transition]) -> None:
        """Apply ``event`` to one task if it still exists (the resolvers' step)."""
        messages: list[Message] = []
        with self.store.transaction() as conn:
            rec = self.load(conn, task_id)
            if rec is None:
                return
            self.apply(conn, event(rec), messages)
        self.publish(messages)

    def publish(self, messages: Iterable[Message]) -> None:
        """Publish on the bus (call after the commit)."""
        messages = list(messages)
        if messages:
            self.bus.publish(messages)
