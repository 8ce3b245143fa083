"""The worker interface: claimWork, claimTask, reclaimTask and the three reports.

A claim hands a pending run to a worker inside one store transaction (so two workers can never
get the same run), records the worker's activity (task queues and workers exist only through
it), and returns temporary credentials valid until ``takenUntil``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tutorial_kit.vocabulary import EXCEPTION_REASONS

from . import lifecycle
from .call import Call, Reply
from .clock import Clock, to_pg
from tutorial_kit.dates import parse_date, to_json
from .errors import QueueError, input_error, not_found
from .events import Message, task_message
from .lifecycle import TaskRecord, Transition, render_status
from .records import Records
from .store import Store
from .taskqueues import touch_worker

#: Mints a claim's temporary credentials: (clientId, scopes, start, expiry) -> credentials.
CredentialIssuer = Callable[[str, list, datetime, datetime], dict]

NO_TASK = "`{taskId}` does not correspond to a task that exists.\nAre you sure this task exists?"


def task_scopes(taskId: str, runId: int, task: dict[str, Any]) -> list[str]:
    """The scopes of a claim's temporary credentials."""
    return [f"queue:reclaim-task:{taskId}/{runId}", f"queue:resolve-task:{taskId}/{runId}",
            f"queue:create-artifact:{taskId}/{runId}", *task.get("scopes", [])]


def task_client_id(taskId: str, runId: int, workerGroup: str, workerId: str,
                   taken_until: datetime) -> str:
    return (f"task-client/{taskId}/{runId}/on/{workerGroup}/{workerId}/until/"
            f"{int(taken_until.timestamp())}")


def _worker_body(call: Call) -> tuple[str, str]:
    body = call.body if isinstance(call.body, dict) else {}
    wg, wid = body.get("workerGroup"), body.get("workerId")
    if not isinstance(wg, str) or not isinstance(wid, str) or not wg or not wid:
        raise input_error("`workerGroup` and `workerId` are required strings.")
    return wg, wid


class Claims:
    """The worker interface of the Queue, over the shared :class:`~.records.Records`."""

    def __init__(self, records: Records, store: Store, clock: Clock, claim_timeout: float,
                 credential_issuer: CredentialIssuer) -> None:
        self.records = records
        self.store = store
        self.clock = clock
        self.claim_timeout = float(claim_timeout)
        self.credential_issuer = credential_issuer

    # -- helpers -----------------------------------------------------------------------------
    def _credentials(self, rec: TaskRecord, runId: int, now: datetime,
                     taken_until: datetime) -> dict[str, str]:
        run = rec.runs[runId]
        client_id = task_client_id(rec.taskId, runId, run["workerGroup"], run["workerId"],
                                   taken_until)
        return self.credential_issuer(client_id, task_scopes(rec.taskId, runId, rec.task), now,
                                      taken_until)

    def _claim_item(self, rec: TaskRecord, runId: int, now: datetime) -> dict:
        run = rec.runs[runId]
        taken_until = parse_date(run["takenUntil"])
        return {"status": render_status(rec), "runId": runId,
                "workerGroup": run["workerGroup"], "workerId": run["workerId"],
                "takenUntil": to_pg(taken_until), "task": rec.task,
                "credentials": self._credentials(rec, runId, now, taken_until)}

    @staticmethod
    def _quarantined(conn: sqlite3.Connection, taskQueueId: str,
                     workerGroup: str, workerId: str, now: datetime) -> bool:
        row = conn.execute("SELECT quarantine_until FROM workers WHERE task_queue_id = ? AND "
                           "worker_group = ? AND worker_id = ?",
                           (taskQueueId, workerGroup, workerId)).fetchone()
        return bool(row and row["quarantine_until"] and parse_date(row["quarantine_until"]) > now)

    # -- methods -----------------------------------------------------------------------------
    def claimWork(self, call: Call) -> Reply:
        """Claim up to ``tasks`` pending runs at once (the HTTP layer does the long poll)."""
        taskQueueId = call.params["taskQueueId"]
        workerGroup, workerId = _worker_body(call)
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
                touch_worker(conn, taskQueueId, workerGroup, workerId, now)
                return Reply({"tasks": []})
            claimed: list[tuple[str, int]] = []
            # Read the queue a little at a time, not whole: a claim must not cost more as the
            # queue grows. A claimed run leaves `pending` at once (Records.save), so the next
            # batch starts after the rows this call skipped.
            skipped, batch_size = 0, wanted + 8
            while len(items) < wanted:
                rows = conn.execute(
                    "SELECT task_id, run_id FROM pending WHERE task_queue_id = ? "
                    "ORDER BY priority_rank, seq LIMIT ? OFFSET ?",
                    (taskQueueId, batch_size, skipped)).fetchall()
                for row in rows:
                    if len(items) >= wanted:
                        break
                    rec = self.records.load(conn, row["task_id"])
                    if rec is None or rec.past_deadline(now):
                        skipped += 1
                        continue  # the deadline resolver will resolve it
                    try:
                        tr = lifecycle.claim(rec, row["run_id"], workerGroup, workerId, now,
                                             self.claim_timeout)
                    except QueueError:
                        skipped += 1
                        continue  # stale queue row; Records.save keeps these in step: rare
                    self.records.apply(conn, tr, messages)
                    items.append(self._claim_item(tr.record, row["run_id"], now))
                    claimed.append((rec.taskId, row["run_id"]))
                if len(rows) < batch_size:
                    break
            touch_worker(conn, taskQueueId, workerGroup, workerId, now, claimed)
        self.records.publish(messages)
        return Reply({"tasks": items})

    def claimTask(self, call: Call) -> Reply:
        """Claim one specific pending run (deprecated upstream, kept for completeness)."""
        taskId, runId = call.params["taskId"], int(call.params["runId"])
        workerGroup, workerId = _worker_body(call)
        now = self.clock.now()
        messages: list[Message] = []
        with self.store.transaction() as conn:
            rec = self.records.require(conn, taskId, NO_TASK.format(taskId=taskId))
            if runId >= len(rec.runs):
                raise not_found(f"Task `{taskId}` has no run {runId}.")
            call.authorize(workerGroup=workerGroup, workerId=workerId,
                           provisionerId=rec.task["provisionerId"],
                           workerType=rec.task["workerType"])
            tr = lifecycle.claim(rec, runId, workerGroup, workerId, now, self.claim_timeout)
            self.records.apply(conn, tr, messages)
            touch_worker(conn, rec.task["taskQueueId"], workerGroup, workerId, now,
                         [(taskId, runId)])
            item = self._claim_item(tr.record, runId, now)
        self.records.publish(messages)
        return Reply(item)

    def reclaimTask(self, call: Call) -> Reply:
        taskId, runId = call.params["taskId"], int(call.params["runId"])
        now = self.clock.now()
        try:
            return self._reclaim(taskId, runId, now)
        except QueueError as err:
            if err.status == 409:
                self._queue_claim_check(taskId, runId, now)
            raise

    def _reclaim(self, taskId: str, runId: int, now: datetime) -> Reply:
        with self.store.transaction() as conn:
            rec = self.records.require(conn, taskId, NO_TASK.format(taskId=taskId))
            tr = lifecycle.reclaim(rec, runId, now, self.claim_timeout)
            self.records.apply(conn, tr, [])
            run = tr.record.runs[runId]
            taken_until = parse_date(run["takenUntil"])
            touch_worker(conn, rec.task["taskQueueId"], run["workerGroup"], run["workerId"],
                         now)
            body = {"status": render_status(tr.record), "runId": runId,
                    "workerGroup": run["workerGroup"], "workerId": run["workerId"],
                    "takenUntil": to_json(taken_until),
                    "credentials": self._credentials(tr.record, runId, now, taken_until)}
        return Reply(body)

    def _queue_claim_check(self, taskId: str, runId: int, now: datetime) -> None:
        """The real queue queues a claim-expiry check before it even looks at the run, so a
        refused reclaim of a claim-expired run makes the claim resolver announce that expiry
        again one claim timeout later (golden trace ``claim-expired``). Called after the
        reclaim's own transaction was rolled back with the 409."""
        check_at = to_json(now + timedelta(seconds=self.claim_timeout))
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO claim_checks (task_id, run_id, check_at) "
                         "VALUES (?, ?, ?)", (taskId, runId, check_at))

    # -- the claim resolver ------------------------------------------------------------------
    def expire_claims(self, now: datetime) -> None:
        """Resolve every run whose claim ran out (``takenUntil`` passed) ``claim-expired``, then
        fire the claim checks that are due."""
        with self.store.read() as conn:
            expired = [(r["task_id"], r["run_id"]) for r in conn.execute(
                "SELECT task_id, run_id FROM claimed WHERE taken_until <= ? "
                "ORDER BY taken_until", (to_json(now),))]
        for task_id, run_id in expired:
            self.records.resolve_one(task_id, lambda rec, r=run_id:
                                     lifecycle.claim_expired(rec, r, now))
        self._run_claim_checks(now)

    def _run_claim_checks(self, now: datetime) -> None:
        """Fire due claim checks: re-announce a claim expiry (at-least-once delivery)."""
        with self.store.transaction() as conn:
            due = conn.execute("SELECT task_id, run_id FROM claim_checks WHERE check_at <= ? "
                               "ORDER BY check_at", (to_json(now),)).fetchall()
            conn.execute("DELETE FROM claim_checks WHERE check_at <= ?", (to_json(now),))
        for row in due:
            messages: list[Message] = []
            with self.store.read() as conn:
                rec = self.records.load(conn, row["task_id"])
            if rec is None or row["run_id"] >= len(rec.runs):
                continue
            run = rec.runs[row["run_id"]]
            if run["state"] == "running":
                self.records.resolve_one(rec.taskId, lambda r, i=row["run_id"]:
                                         lifecycle.claim_expired(r, i, now))
                continue
            if run.get("reasonResolved") != "claim-expired":
                continue
            status = render_status(rec)
            messages.append(task_message("task-exception", status, rec.task,
                                         runId=run["runId"], workerGroup=run.get("workerGroup"),
                                         workerId=run.get("workerId")))
            following = row["run_id"] + 1
            if following < len(rec.runs) and rec.runs[following]["state"] == "pending":
                messages.append(task_message("task-pending", status, rec.task,
                                             runId=following))
            self.records.publish(messages)

    def _report(self, call: Call,
                event: Callable[[TaskRecord, int, datetime], Transition]) -> Reply:
        runId = int(call.params["runId"])
        now = self.clock.now()
        return self.records.transition(call, NO_TASK, None, lambda rec: event(rec, runId, now))

    def reportCompleted(self, call: Call) -> Reply:
        # Legacy: {"success": false} reports a failure through this method.
        if isinstance(call.body, dict) and call.body.get("success") is False:
            return self._report(call, lifecycle.fail)
        return self._report(call, lifecycle.complete)

    def reportFailed(self, call: Call) -> Reply:
        return self._report(call, lifecycle.fail)

    def reportException(self, call: Call) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        reason = body.get("reason")
        allowed = EXCEPTION_REASONS
        if reason not in allowed:
            raise input_error(f"`reason` must be one of {', '.join(allowed)}.")
        return self._report(call, lambda rec, runId, now:
                            lifecycle.exception(rec, runId, reason, now))
