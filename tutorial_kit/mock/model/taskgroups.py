"""Task-group methods: listTaskGroup, getTaskGroup, sealTaskGroup, cancelTaskGroup,
changeTaskGroupPriority.

A group exists from its first task on; its ``expires`` is the latest task expiry plus an hour;
``sealed`` appears once it is sealed, after which it accepts no new tasks.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from . import lifecycle
from .call import Call, Reply
from .clock import to_json
from .errors import conflict, input_error, not_found
from .events import Message
from .lifecycle import render_status
from .pagination import page, with_token

if TYPE_CHECKING:  # pragma: no cover
    from .backend import QueueBackend


class TaskGroupsMixin:
    """Task-group methods of QueueBackend."""

    @staticmethod
    def _group_json(row: sqlite3.Row) -> dict[str, Any]:
        body = {"taskGroupId": row["task_group_id"], "schedulerId": row["scheduler_id"],
                "expires": row["expires"]}
        if row["sealed"] is not None:
            body["sealed"] = row["sealed"]
        return body

    @staticmethod
    def _require_group(conn: sqlite3.Connection, taskGroupId: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM task_groups WHERE task_group_id = ?",
                           (taskGroupId,)).fetchone()
        if row is None:
            raise not_found(f"No task-group with taskGroupId: `{taskGroupId}`")
        return row

    def listTaskGroup(self: QueueBackend, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        offset, size = page(call.query)
        with self.store.read() as conn:
            group = self._require_group(conn, taskGroupId)
            ids = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE task_group_id = ? ORDER BY task_id "
                "LIMIT ? OFFSET ?", (taskGroupId, size + 1, offset))]
            items = []
            for task_id in ids[:size]:
                rec = self._load(conn, task_id)
                if rec is not None:
                    items.append({"status": render_status(rec), "task": rec.task})
        body = {**self._group_json(group), "tasks": items}
        return Reply(with_token(body, offset, size, len(ids) > size))

    def getTaskGroup(self: QueueBackend, call: Call) -> Reply:
        with self.store.read() as conn:
            group = self._require_group(conn, call.params["taskGroupId"])
        return Reply(self._group_json(group))

    def sealTaskGroup(self: QueueBackend, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        with self.store.transaction() as conn:
            group = self._require_group(conn, taskGroupId)
            call.authorize(schedulerId=group["scheduler_id"])
            if group["sealed"] is None:  # sealing is once; later calls keep the first time
                conn.execute("UPDATE task_groups SET sealed = ? WHERE task_group_id = ?",
                             (to_json(self.clock.now()), taskGroupId))
                group = self._require_group(conn, taskGroupId)
            body = self._group_json(group)
        # Announced on every call (at-least-once), with the same sealed time.
        self.publish([self.group_message("task-group-sealed", taskGroupId, body["schedulerId"],
                                         body)])
        return Reply(body)

    def cancelTaskGroup(self: QueueBackend, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            group = self._require_group(conn, taskGroupId)
            call.authorize(schedulerId=group["scheduler_id"])
            if group["sealed"] is None:
                raise conflict(f"Task group `{taskGroupId}` is not sealed; seal it before "
                               "cancelling it.")
            ids = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE task_group_id = ? ORDER BY task_id",
                (taskGroupId,))]
            cancelled = []
            for task_id in ids:
                rec = self._load(conn, task_id)
                if rec is None or rec.past_deadline(now) or \
                        rec.state not in lifecycle.UNRESOLVED_STATES:
                    continue
                before = len(messages)
                self._apply(conn, lifecycle.cancel(rec, now), messages, check_group=False)
                for message in messages[before:]:
                    # The real queue renders these statuses from a row that lacks the
                    # priority (the schema allows that); match its messages.
                    if message.name == "task-exception":
                        message.payload["status"] = {
                            k: v for k, v in message.payload["status"].items()
                            if k != "priority"}
                cancelled.append(task_id)
            if cancelled:
                self._check_group_resolved(conn, taskGroupId, messages)
        self.publish(messages)
        return Reply({"taskGroupId": taskGroupId, "taskGroupSize": len(ids),
                      "cancelledCount": len(cancelled), "taskIds": cancelled})

    def changeTaskGroupPriority(self: QueueBackend, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        body = call.body if isinstance(call.body, dict) else {}
        new_priority = body.get("newPriority")
        if new_priority not in lifecycle.PRIORITIES:
            raise input_error(f"`newPriority` must be one of {', '.join(lifecycle.PRIORITIES)}.")
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            group = self._require_group(conn, taskGroupId)
            call.authorize(schedulerId=group["scheduler_id"])
            ids = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE task_group_id = ? ORDER BY task_id",
                (taskGroupId,))]
            affected = []
            for task_id in ids:
                rec = self._load(conn, task_id)
                if rec is None or rec.past_deadline(now) or rec.state not in \
                        lifecycle.UNRESOLVED_STATES or rec.task["priority"] == new_priority:
                    continue
                tr = lifecycle.change_priority(rec, new_priority, now)
                # Only the group-level message is published for a group change.
                tr.intents.clear()
                self._apply(conn, tr, messages)
                affected.append(task_id)
            messages.append(self.group_message(
                "task-group-priority-changed", taskGroupId, group["scheduler_id"],
                {"taskGroupId": taskGroupId, "schedulerId": group["scheduler_id"],
                 "newPriority": new_priority, "tasksAffected": len(affected)}))
        self.publish(messages)
        return Reply({"taskGroupId": taskGroupId, "schedulerId": group["scheduler_id"],
                      "newPriority": new_priority, "tasksAffected": len(affected),
                      "taskIds": affected})
