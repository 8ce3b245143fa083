"""Tasks: createTask and the methods that read or move one task (task, status, tasks,
statuses, scheduleTask, rerunTask, cancelTask, changeTaskPriority, listDependentTasks), the
deadline resolver and the tasks' part of the expiry pass.

A task is created with its group (the first task of a group creates it) and its dependency
edges; it is scheduled at once unless a dependency is unmet, then when the last one is.
"""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from . import lifecycle
from .call import Call, Reply
from .clock import Clock
from tutorial_kit.vocabulary import PRIORITIES, RESOLVED_STATES
from tutorial_kit.dates import parse_date, to_json
from .errors import conflict, input_error, not_found
from .events import Message, task_message
from .lifecycle import TaskRecord, Transition, render_status
from .pagination import page, with_token
from .records import Records
from .store import Store
from .taskdef import DEFAULTS, check_shapes, normalize_definition, queue_identity, same_definition

#: Tasks' groups live this long after their last task expires.
GROUP_EXPIRY_MARGIN = timedelta(hours=1)

NO_TASK = "`{taskId}` does not correspond to a task that exists.\nAre you sure this task exists?"


def _scheduler_params(rec: TaskRecord) -> dict[str, Any]:
    return {"schedulerId": rec.task["schedulerId"], "taskGroupId": rec.task["taskGroupId"],
            "projectId": rec.task["projectId"]}


class Tasks:
    """The task methods of the Queue, over the shared :class:`~.records.Records`."""

    def __init__(self, records: Records, store: Store, clock: Clock,
                 deadline_delay: float = 0.0) -> None:
        self.records = records
        self.store = store
        self.clock = clock
        self.deadline_delay = float(deadline_delay)

    # -- reading -------------------------------------------------------------------------------
    def task(self, call: Call) -> Reply:
        with self.store.read() as conn:
            task = self.records.get_task(conn, call.params["taskId"])
        if task is None:
            raise not_found(f"`{call.params['taskId']}` does not correspond to a task that "
                            "exists.\nAre you sure this task has already been submitted?")
        return Reply(task)

    def status(self, call: Call) -> Reply:
        with self.store.read() as conn:
            status = self.records.get_status(conn, call.params["taskId"])
        if status is None:
            raise not_found(NO_TASK.format(taskId=call.params["taskId"]))
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
            found = [rec for rec in (self.records.load(conn, t) for t in task_ids)
                     if rec is not None]
        items = [{"taskId": rec.taskId, **render(rec)} for rec in found[offset: offset + size]]
        has_more = len(found) > offset + size
        return Reply(with_token({key: items}, offset, size, has_more))

    def tasks(self, call: Call) -> Reply:
        return self._batch(call, "tasks", lambda rec: {"task": rec.task})

    def statuses(self, call: Call) -> Reply:
        return self._batch(call, "statuses", lambda rec: {"status": render_status(rec)})

    def listDependentTasks(self, call: Call) -> Reply:
        taskId = call.params["taskId"]
        offset, size = page(call.query)
        with self.store.read() as conn:
            self.records.require(conn, taskId, NO_TASK.format(taskId=taskId))
            ids = [r["dependent_task_id"] for r in conn.execute(
                "SELECT dependent_task_id FROM dependencies WHERE required_task_id = ? "
                "ORDER BY dependent_task_id LIMIT ? OFFSET ?", (taskId, size + 1, offset))]
            items = []
            for dep_id in ids[:size]:
                rec = self.records.load(conn, dep_id)
                if rec is not None:
                    items.append({"task": rec.task, "status": render_status(rec)})
        return Reply(with_token({"taskId": taskId, "tasks": items}, offset, size,
                                len(ids) > size))

    # -- createTask ----------------------------------------------------------------------------
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
            existing = self.records.load(conn, taskId)
            if existing is not None:
                if not same_definition(existing.task, definition):
                    raise conflict(f"taskId `{taskId}` is already used by another task "
                                   "(with a different definition). Check that retries of "
                                   "createTask send exactly the same definition.")
                # Idempotent repeat: re-announce, answer with the current status.
                messages.append(task_message("task-defined", lifecycle.defined_status(existing),
                                             existing.task))
                if existing.runs and existing.runs[0]["state"] == "pending":
                    messages.append(task_message("task-pending", render_status(existing),
                                                 existing.task, runId=0))
                status = render_status(existing)
            else:
                status = self._create(conn, taskId, definition, now, messages)
        self.records.publish(messages)
        return Reply({"status": status})

    def _create(self, conn: sqlite3.Connection, taskId: str, definition: dict[str, Any],
                now: datetime, messages: list[Message]) -> dict[str, Any]:
        deps = list(dict.fromkeys(definition["dependencies"]))
        rows = self._check_dependencies(conn, deps, definition)
        self._join_group(conn, definition)
        rec = lifecycle.new_record(taskId, definition)
        self.records.insert(conn, rec)
        unmet = 0
        for dep in deps:
            state = rows[dep]["state"]
            satisfied = state == "completed" or (
                definition["requires"] == "all-resolved" and state in RESOLVED_STATES)
            unmet += 0 if satisfied else 1
            conn.execute("INSERT OR IGNORE INTO dependencies (required_task_id, "
                         "dependent_task_id, requires, satisfied) VALUES (?, ?, ?, ?)",
                         (dep, taskId, definition["requires"], 1 if satisfied else 0))
        messages.append(task_message("task-defined", lifecycle.defined_status(rec), rec.task))
        if unmet == 0:
            tr = lifecycle.schedule(rec, now)
            self.records.apply(conn, tr, messages)
            rec = tr.record
        return render_status(rec)

    @staticmethod
    def _check_dependencies(conn: sqlite3.Connection, deps: list[str],
                            definition: dict[str, Any]) -> dict[str, sqlite3.Row]:
        """All dependencies must exist and outlive this task's deadline (nothing is created
        otherwise); their rows, by taskId."""
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
        return rows

    @staticmethod
    def _join_group(conn: sqlite3.Connection, definition: dict[str, Any]) -> None:
        """The task group is created by its first task; all its tasks share one
        schedulerId; a sealed group takes no new task."""
        group_id = definition["taskGroupId"]
        group_expires = to_json(parse_date(definition["expires"]) + GROUP_EXPIRY_MARGIN)
        group = conn.execute("SELECT * FROM task_groups WHERE task_group_id = ?",
                             (group_id,)).fetchone()
        if group is None:
            conn.execute("INSERT INTO task_groups (task_group_id, scheduler_id, expires) "
                         "VALUES (?, ?, ?)", (group_id, definition["schedulerId"], group_expires))
            return
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

    # -- moving one task -----------------------------------------------------------------------
    def scheduleTask(self, call: Call) -> Reply:
        now = self.clock.now()
        return self.records.transition(
            call, NO_TASK,
            lambda rec: call.authorize(**_scheduler_params(rec)),
            lambda rec: lifecycle.schedule(rec, now, force=True))

    def rerunTask(self, call: Call) -> Reply:
        now = self.clock.now()
        return self.records.transition(
            call, "`{taskId}` does not correspond to a task that exists.\n"
                  "Are you sure this task has been submitted before?",
            lambda rec: call.authorize(**_scheduler_params(rec)),
            lambda rec: lifecycle.rerun(rec, now))

    def cancelTask(self, call: Call) -> Reply:
        now = self.clock.now()
        return self.records.transition(
            call, "Task `{taskId}` not found. Are you sure it was created?",
            lambda rec: call.authorize(**_scheduler_params(rec)),
            lambda rec: lifecycle.cancel(rec, now))

    def changeTaskPriority(self, call: Call) -> Reply:
        now = self.clock.now()
        body = call.body if isinstance(call.body, dict) else {}
        new_priority = body.get("newPriority")
        if new_priority not in PRIORITIES:
            raise input_error(f"`newPriority` must be one of {', '.join(PRIORITIES)}.")
        return self.records.transition(
            call, NO_TASK,
            lambda rec: call.authorize(taskQueueId=rec.task["taskQueueId"]),
            lambda rec: lifecycle.change_priority(rec, new_priority, now))

    # -- the deadline resolver and the expiry pass ---------------------------------------------
    def resolve_deadlines(self, now: datetime) -> None:
        """Resolve every unresolved task whose deadline has passed.

        A deadline resolves strictly after it has passed (by ``deadline_delay``; the real
        queue takes about a minute), so a run's ``resolved`` time is never the deadline
        instant itself.
        """
        delay = timedelta(seconds=self.deadline_delay)
        with self.store.read() as conn:
            overdue = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE state IN ('unscheduled', 'pending', 'running') "
                "AND deadline < ? ORDER BY deadline, seq", (to_json(now - delay),))]
        for task_id in overdue:
            self.records.resolve_one(task_id, lambda rec: lifecycle.deadline(rec, now)
                                     if rec.deadline < now - delay else Transition(rec))

    @staticmethod
    def expire(conn: sqlite3.Connection, now: datetime) -> None:
        """Delete tasks past ``expires`` (then 404), with the rows that hang off them."""
        doomed = [r[0] for r in conn.execute("SELECT task_id FROM tasks WHERE expires < ?",
                                             (to_json(now),))]
        for task_id in doomed:
            for sql in ("DELETE FROM tasks WHERE task_id = ?",
                        "DELETE FROM pending WHERE task_id = ?",
                        "DELETE FROM claimed WHERE task_id = ?",
                        "DELETE FROM claim_checks WHERE task_id = ?",
                        "DELETE FROM dependencies WHERE dependent_task_id = ?",
                        "DELETE FROM dependencies WHERE required_task_id = ?"):
                conn.execute(sql, (task_id,))

    # -- the state dump ------------------------------------------------------------------------
    def dump(self, conn: sqlite3.Connection) -> list[dict[str, Any]]:
        """Every task with its definition and status, in creation order."""
        tasks = []
        for row in conn.execute("SELECT task_id FROM tasks ORDER BY seq"):
            rec = self.records.load(conn, row["task_id"])
            if rec is not None:
                tasks.append({"taskId": rec.taskId, "task": rec.task,
                              "status": render_status(rec)})
        return tasks

    @staticmethod
    def dump_dependencies(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(
            "SELECT * FROM dependencies ORDER BY required_task_id, dependent_task_id")]
