"""Task-group methods: listTaskGroup, getTaskGroup, sealTaskGroup, cancelTaskGroup,
changeTaskGroupPriority.

A group exists from its first task on; its ``expires`` is the latest task expiry plus an hour;
``sealed`` appears once it is sealed, after which it accepts no new tasks.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from . import lifecycle
from .call import Call, Reply
from .clock import Clock
from tutorial_kit.vocabulary import PRIORITIES, UNRESOLVED_STATES
from tutorial_kit.dates import to_json
from .errors import conflict, input_error, not_found
from .events import Message, group_message
from .lifecycle import render_status
from .pagination import page, with_token
from .records import Records, group_json
from .store import Store


def _require_group(conn: sqlite3.Connection, taskGroupId: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM task_groups WHERE task_group_id = ?",
                       (taskGroupId,)).fetchone()
    if row is None:
        raise not_found(f"No task-group with taskGroupId: `{taskGroupId}`")
    return row


class TaskGroups:
    """The task-group methods of the Queue, over the shared :class:`~.records.Records`."""

    def __init__(self, records: Records, store: Store, clock: Clock) -> None:
        self.records = records
        self.store = store
        self.clock = clock

    def listTaskGroup(self, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        offset, size = page(call.query)
        with self.store.read() as conn:
            group = _require_group(conn, taskGroupId)
            ids = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE task_group_id = ? ORDER BY task_id "
                "LIMIT ? OFFSET ?", (taskGroupId, size + 1, offset))]
            items = []
            for task_id in ids[:size]:
                rec = self.records.load(conn, task_id)
                if rec is not None:
                    items.append({"status": render_status(rec), "task": rec.task})
        body = {**group_json(group), "tasks": items}
        return Reply(with_token(body, offset, size, len(ids) > size))

    def getTaskGroup(self, call: Call) -> Reply:
        with self.store.read() as conn:
            group = _require_group(conn, call.params["taskGroupId"])
        return Reply(group_json(group))

    def sealTaskGroup(self, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        with self.store.transaction() as conn:
            group = _require_group(conn, taskGroupId)
            call.authorize(schedulerId=group["scheduler_id"])
            if group["sealed"] is None:  # sealing is once; later calls keep the first time
                conn.execute("UPDATE task_groups SET sealed = ? WHERE task_group_id = ?",
                             (to_json(self.clock.now()), taskGroupId))
                group = _require_group(conn, taskGroupId)
            body = group_json(group)
        # Announced on every call (at-least-once), with the same sealed time.
        self.records.publish([group_message("task-group-sealed", taskGroupId, body["schedulerId"],
                                         body)])
        return Reply(body)

    def cancelTaskGroup(self, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            group = _require_group(conn, taskGroupId)
            call.authorize(schedulerId=group["scheduler_id"])
            if group["sealed"] is None:
                raise conflict(f"Task group `{taskGroupId}` is not sealed; seal it before "
                               "cancelling it.")
            ids = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE task_group_id = ? ORDER BY task_id",
                (taskGroupId,))]
            cancelled = []
            for task_id in ids:
                rec = self.records.load(conn, task_id)
                if rec is None or rec.past_deadline(now) or \
                        rec.state not in UNRESOLVED_STATES:
                    continue
                before = len(messages)
                self.records.apply(conn, lifecycle.cancel(rec, now), messages, check_group=False)
                for message in messages[before:]:
                    # The real queue renders these statuses from a row that lacks the
                    # priority (the schema allows that); match its messages.
                    if message.name == "task-exception":
                        message.payload["status"] = {
                            k: v for k, v in message.payload["status"].items()
                            if k != "priority"}
                cancelled.append(task_id)
            if cancelled:
                self.records.check_group_resolved(conn, taskGroupId, messages)
        self.records.publish(messages)
        return Reply({"taskGroupId": taskGroupId, "taskGroupSize": len(ids),
                      "cancelledCount": len(cancelled), "taskIds": cancelled})

    def changeTaskGroupPriority(self, call: Call) -> Reply:
        taskGroupId = call.params["taskGroupId"]
        body = call.body if isinstance(call.body, dict) else {}
        new_priority = body.get("newPriority")
        if new_priority not in PRIORITIES:
            raise input_error(f"`newPriority` must be one of {', '.join(PRIORITIES)}.")
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            group = _require_group(conn, taskGroupId)
            call.authorize(schedulerId=group["scheduler_id"])
            ids = [r["task_id"] for r in conn.execute(
                "SELECT task_id FROM tasks WHERE task_group_id = ? ORDER BY task_id",
                (taskGroupId,))]
            affected = []
            for task_id in ids:
                rec = self.records.load(conn, task_id)
                if rec is None or rec.past_deadline(now) or rec.state not in \
                        UNRESOLVED_STATES or rec.task["priority"] == new_priority:
                    continue
                tr = lifecycle.change_priority(rec, new_priority, now)
                # Only the group-level message is published for a group change.
                tr.intents.clear()
                self.records.apply(conn, tr, messages)
                affected.append(task_id)
            messages.append(group_message(
                "task-group-priority-changed", taskGroupId, group["scheduler_id"],
                {"taskGroupId": taskGroupId, "schedulerId": group["scheduler_id"],
                 "newPriority": new_priority, "tasksAffected": len(affected)}))
        self.records.publish(messages)
        return Reply({"taskGroupId": taskGroupId, "schedulerId": group["scheduler_id"],
                      "newPriority": new_priority, "tasksAffected": len(affected),
                      "taskIds": affected})

    # -- the expiry pass and the state dump ----------------------------------------------------
    @staticmethod
    def expire(conn: sqlite3.Connection, now: datetime) -> None:
        """Forget task groups past ``expires`` (an hour after their last task's)."""
        conn.execute("DELETE FROM task_groups WHERE expires < ?", (to_json(now),))

    @staticmethod
    def dump(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        return [group_json(r) for r in
                conn.execute("SELECT * FROM task_groups ORDER BY task_group_id")]
