"""The worker interface: claimWork, claimTask, reclaimTask and the three reports.

A claim hands a pending run to a worker inside one store transaction (so two workers can never
get the same run), records the worker's activity (task queues and workers exist only through
it), and returns temporary credentials valid until ``takenUntil``.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tutorial_kit.vocabulary import EXCEPTION_REASONS

from . import lifecycle
from .call import Call, Reply
from .clock import parse_date, to_json, to_pg
from .errors import QueueError, input_error, not_found
from .events import Message
from .lifecycle import TaskRecord, render_status

if TYPE_CHECKING:  # pragma: no cover
    from .backend import QueueBackend

#: Task queues and workers are forgotten this long after their last activity.
ACTIVITY_EXPIRY = timedelta(days=1)
#: How many recent tasks a worker record keeps.
RECENT_TASKS = 20
#: A task queue's or worker's activity (``lastDateActive``, ``expires``) is refreshed at most
#: this often, in queue time. The real queue rate-limits these writes too (by hours); here the
#: reason is an idle worker's long poll, which re-runs its claim every 50 ms and would otherwise
#: write to the store twenty times a second, worker by worker.
SEEN_REFRESH = timedelta(seconds=60)


def task_scopes(taskId: str, runId: int, task: dict[str, Any]) -> list[str]:
    """The scopes of a claim's temporary credentials."""
    return [f"queue:reclaim-task:{taskId}/{runId}", f"queue:resolve-task:{taskId}/{runId}",
            f"queue:create-artifact:{taskId}/{runId}", *task.get("scopes", [])]


def task_client_id(taskId: str, runId: int, workerGroup: str, workerId: str,
                   taken_until: datetime) -> str:
    return (f"task-client/{taskId}/{runId}/on/{workerGroup}/{workerId}/until/"
            f"{int(taken_until.timestamp())}")


class ClaimsMixin:
    """Worker-interface methods of QueueBackend."""

    _NO_RUN_TASK = "`{taskId}` does not correspond to a task that exists.\nAre you sure this task exists?"

    # -- helpers -----------------------------------------------------------------------------
    def _credentials(self: QueueBackend, rec: TaskRecord, runId: int, now: datetime,
                     taken_until: datetime) -> dict[str, str]:
        run = rec.runs[runId]
        client_id = task_client_id(rec.taskId, runId, run["workerGroup"], run["workerId"],
                                   taken_until)
        return self.credential_issuer(client_id, task_scopes(rec.taskId, runId, rec.task), now,
                                      taken_until)

    def _claim_item(self: QueueBackend, rec: TaskRecord, runId: int, now: datetime) -> dict:
        run = rec.runs[runId]
        taken_until = parse_date(run["takenUntil"])
        return {"status": render_status(rec), "runId": runId,
                "workerGroup": run["workerGroup"], "workerId": run["workerId"],
                "takenUntil": to_pg(taken_until), "task": rec.task,
                "credentials": self._credentials(rec, runId, now, taken_until)}

    def _touch_worker(self: QueueBackend, conn: sqlite3.Connection, taskQueueId: str,
                      workerGroup: str | None, workerId: str | None, now: datetime,
                      claimed: list[tuple[str, int]] = ()) -> None:
        """Worker activity creates/refreshes the task queue and the worker (a refresh at most
        every ``SEEN_REFRESH``, unless the worker claimed something)."""
        expires = to_json(now + ACTIVITY_EXPIRY)
        stamp = to_json(now)
        recently = to_json(now - SEEN_REFRESH)

        def fresh(row: sqlite3.Row | None) -> bool:
            seen = row["last_date_active"] if row is not None else None
            return seen is not None and recently < seen <= stamp

        row = conn.execute("SELECT last_date_active FROM task_queues WHERE task_queue_id = ?",
                           (taskQueueId,)).fetchone()
        if not fresh(row):
            conn.execute(
                "INSERT INTO task_queues (task_queue_id, expires, last_date_active) "
                "VALUES (?, ?, ?) ON CONFLICT(task_queue_id) DO UPDATE SET "
                "expires = MAX(expires, excluded.expires), "
                "last_date_active = excluded.last_date_active", (taskQueueId, expires, stamp))
        if workerGroup is None or workerId is None:
            return
        row = conn.execute("SELECT recent_tasks, last_date_active FROM workers WHERE "
                           "task_queue_id = ? AND worker_group = ? AND worker_id = ?",
                           (taskQueueId, workerGroup, workerId)).fetchone()
        if not claimed and fresh(row):
            return
        recent = json.loads(row["recent_tasks"]) if row else []
        recent.extend({"taskId": t, "runId": r} for t, r in claimed)
        recent = recent[-RECENT_TASKS:]
        conn.execute(
            "INSERT INTO workers (task_queue_id, worker_group, worker_id, first_claim, "
            "last_date_active, expires, recent_tasks) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(task_queue_id, worker_group, worker_id) DO UPDATE SET "
            "last_date_active = excluded.last_date_active, "
            "expires = MAX(expires, excluded.expires), recent_tasks = excluded.recent_tasks",
            (taskQueueId, workerGroup, workerId, stamp, stamp, expires, json.dumps(recent)))

    def _quarantined(self: QueueBackend, conn: sqlite3.Connection, taskQueueId: str,
                     workerGroup: str, workerId: str, now: datetime) -> bool:
        row = conn.execute("SELECT quarantine_until FROM workers WHERE task_queue_id = ? AND "
                           "worker_group = ? AND worker_id = ?",
                           (taskQueueId, workerGroup, workerId)).fetchone()
        return bool(row and row["quarantine_until"] and parse_date(row["quarantine_until"]) > now)

    @staticmethod
    def _worker_body(call: Call) -> tuple[str, str]:
        body = call.body if isinstance(call.body, dict) else {}
        wg, wid = body.get("workerGroup"), body.get("workerId")
        if not isinstance(wg, str) or not isinstance(wid, str) or not wg or not wid:
            raise input_error("`workerGroup` and `workerId` are required strings.")
        return wg, wid

    # -- methods -----------------------------------------------------------------------------
    def claimWork(self: QueueBackend, call: Call) -> Reply:
        """Claim up to ``tasks`` pending runs at once (the HTTP layer does the long poll)."""
        taskQueueId = call.params["taskQueueId"]
        workerGroup, workerId = self._worker_body(call)
        body = call.body if isinstance(call.body, dict) else {}
        wanted = body.get("tasks", 1)
        if not isinstance(wanted, int) or isinstance(wanted, bool) or not 1 <= wanted <= 32:
            raise input_error("`tasks` must be an integer from 1 to 32.")
        call.authorize(workerGroup=workerGroup, workerId=workerId)
        now = self.clock.now()
        messages: list[Message] = []
        items: list[dict[str, Any]] = []
        with self.store.transaction() as conn:
            if self._quarantined(conn, taskQueueId, workerGroup, workerId, now):
                self._touch_worker(conn, taskQueueId, workerGroup, workerId, now)
                return Reply({"tasks": []})
            claimed: list[tuple[str, int]] = []
            # Read the queue a little at a time, not whole: a claim must not cost more as the
            # queue grows. A claimed run leaves `pending` at once (_save), so the next batch
            # starts after the rows this call skipped.
            skipped, batch_size = 0, wanted + 8
            while len(items) < wanted:
                rows = conn.execute(
                    "SELECT task_id, run_id FROM pending WHERE task_queue_id = ? "
                    "ORDER BY priority_rank, seq LIMIT ? OFFSET ?",
                    (taskQueueId, batch_size, skipped)).fetchall()
                for row in rows:
                    if len(items) >= wanted:
                        break
                    rec = self._load(conn, row["task_id"])
                    if rec is None or rec.past_deadline(now):
                        skipped += 1
                        continue  # the deadline resolver will resolve it
                    try:
                        tr = lifecycle.claim(rec, row["run_id"], workerGroup, workerId, now,
                                             self.claim_timeout)
                    except QueueError:
                        skipped += 1
                        continue  # stale queue row; _save keeps these in step, so this is rare
                    self._apply(conn, tr, messages)
                    items.append(self._claim_item(tr.record, row["run_id"], now))
                    claimed.append((rec.taskId, row["run_id"]))
                if len(rows) < batch_size:
                    break
            self._touch_worker(conn, taskQueueId, workerGroup, workerId, now, claimed)
        self.publish(messages)
        return Reply({"tasks": items})

    def claimTask(self: QueueBackend, call: Call) -> Reply:
        """Claim one specific pending run (deprecated upstream, kept for completeness)."""
        taskId, runId = call.params["taskId"], int(call.params["runId"])
        workerGroup, workerId = self._worker_body(call)
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            rec = self._require_task(conn, taskId, self._NO_RUN_TASK.format(taskId=taskId))
            if runId >= len(rec.runs):
                raise not_found(f"Task `{taskId}` has no run {runId}.")
            call.authorize(workerGroup=workerGroup, workerId=workerId,
                           provisionerId=rec.task["provisionerId"],
                           workerType=rec.task["workerType"])
            tr = lifecycle.claim(rec, runId, workerGroup, workerId, now, self.claim_timeout)
            self._apply(conn, tr, messages)
            self._touch_worker(conn, rec.task["taskQueueId"], workerGroup, workerId, now,
                               [(taskId, runId)])
            item = self._claim_item(tr.record, runId, now)
        self.publish(messages)
        return Reply(item)

    def reclaimTask(self: QueueBackend, call: Call) -> Reply:
        taskId, runId = call.params["taskId"], int(call.params["runId"])
        now = self.clock.now()
        try:
            return self._reclaim(taskId, runId, now)
        except QueueError as err:
            if err.status == 409:
                self._queue_claim_check(taskId, runId, now)
            raise

    def _reclaim(self: QueueBackend, taskId: str, runId: int, now: datetime) -> Reply:
        with self.store.transaction() as conn:
            rec = self._require_task(conn, taskId, self._NO_RUN_TASK.format(taskId=taskId))
            tr = lifecycle.reclaim(rec, runId, now, self.claim_timeout)
            self._apply(conn, tr, [])
            run = tr.record.runs[runId]
            taken_until = parse_date(run["takenUntil"])
            self._touch_worker(conn, rec.task["taskQueueId"], run["workerGroup"],
                               run["workerId"], now)
            body = {"status": render_status(tr.record), "runId": runId,
                    "workerGroup": run["workerGroup"], "workerId": run["workerId"],
                    "takenUntil": to_json(taken_until),
                    "credentials": self._credentials(tr.record, runId, now, taken_until)}
        return Reply(body)

    def _queue_claim_check(self: QueueBackend, taskId: str, runId: int, now: datetime) -> None:
        """The real queue queues a claim-expiry check before it even looks at the run, so a
        refused reclaim of a claim-expired run makes the claim resolver announce that expiry
        again one claim timeout later (golden trace ``claim-expired``). Called after the
        reclaim's own transaction was rolled back with the 409."""
        check_at = to_json(now + timedelta(seconds=self.claim_timeout))
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO claim_checks (task_id, run_id, check_at) "
                         "VALUES (?, ?, ?)", (taskId, runId, check_at))

    def _run_claim_checks(self: QueueBackend, now: datetime) -> None:
        """Fire due claim checks: re-announce a claim expiry (at-least-once delivery)."""
        with self.store.transaction() as conn:
            due = conn.execute("SELECT task_id, run_id FROM claim_checks WHERE check_at <= ? "
                               "ORDER BY check_at", (to_json(now),)).fetchall()
            conn.execute("DELETE FROM claim_checks WHERE check_at <= ?", (to_json(now),))
        for row in due:
            messages: list[Message] = []
            with self.store.read() as conn:
                rec = self._load(conn, row["task_id"])
            if rec is None or row["run_id"] >= len(rec.runs):
                continue
            run = rec.runs[row["run_id"]]
            if run["state"] == "running":
                self._resolve_one(rec.taskId, lambda r, i=row["run_id"]:
                                  lifecycle.claim_expired(r, i, now))
                continue
            if run.get("reasonResolved") != "claim-expired":
                continue
            status = render_status(rec)
            messages.append(self.task_message("task-exception", status, rec.task,
                                              runId=run["runId"],
                                              workerGroup=run.get("workerGroup"),
                                              workerId=run.get("workerId")))
            following = row["run_id"] + 1
            if following < len(rec.runs) and rec.runs[following]["state"] == "pending":
                messages.append(self.task_message("task-pending", status, rec.task,
                                                  runId=following))
            self.publish(messages)

    def _report(self: QueueBackend, call: Call, event) -> Reply:
        taskId, runId = call.params["taskId"], int(call.params["runId"])
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            rec = self._require_task(conn, taskId, self._NO_RUN_TASK.format(taskId=taskId))
            tr = event(rec, runId, now)
            self._apply(conn, tr, messages)
            status = render_status(tr.record)
        self.publish(messages)
        return Reply({"status": status})

    def reportCompleted(self: QueueBackend, call: Call) -> Reply:
        # Legacy: {"success": false} reports a failure through this method.
        if isinstance(call.body, dict) and call.body.get("success") is False:
            return self._report(call, lifecycle.fail)
        return self._report(call, lifecycle.complete)

    def reportFailed(self: QueueBackend, call: Call) -> Reply:
        return self._report(call, lifecycle.fail)

    def reportException(self: QueueBackend, call: Call) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        reason = body.get("reason")
        allowed = EXCEPTION_REASONS
        if reason not in allowed:
            raise input_error(f"`reason` must be one of {', '.join(allowed)}.")
        return self._report(call, lambda rec, runId, now:
                            lifecycle.exception(rec, runId, reason, now))
