"""Task queues and worker metadata: counts, pending/claimed listings, task queues, and the
deprecated provisioner / worker-type / worker views (derived from the task-queue records).

Task queues and workers exist only as a side effect of worker activity (claims, reclaims,
``declareWorker``); creating a task does not make its queue appear in ``listTaskQueues``.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from .call import Call, Reply
from .clock import Clock
from tutorial_kit.dates import parse_date, to_json
from .errors import input_error, not_found
from .pagination import page, with_token
from .records import Records
from .store import Store

#: Task queues and workers are forgotten this long after their last activity.
ACTIVITY_EXPIRY = timedelta(days=1)
#: How many recent tasks a worker record keeps.
RECENT_TASKS = 20
#: A task queue's or worker's activity (``lastDateActive``, ``expires``) is refreshed at most
#: this often, in queue time. The real queue rate-limits these writes too (by hours); here the
#: reason is an idle worker's long poll, which re-runs its claim every 50 ms and would otherwise
#: write to the store twenty times a second, worker by worker.
SEEN_REFRESH = timedelta(seconds=60)


def split_queue(taskQueueId: str) -> tuple[str, str]:
    provisioner, _, worker_type = taskQueueId.partition("/")
    return provisioner, worker_type


def task_queue_json(row: sqlite3.Row) -> dict[str, Any]:
    """A task queue as ``getTaskQueue`` answers it."""
    return {"taskQueueId": row["task_queue_id"], "description": row["description"],
            "stability": row["stability"], "expires": row["expires"],
            "lastDateActive": row["last_date_active"]}


def worker_json(row: sqlite3.Row) -> dict[str, Any]:
    """A worker as ``getWorker`` answers it."""
    provisioner, worker_type = split_queue(row["task_queue_id"])
    body: dict[str, Any] = {"provisionerId": provisioner, "workerType": worker_type,
                            "taskQueueId": row["task_queue_id"],
                            "workerGroup": row["worker_group"], "workerId": row["worker_id"],
                            "recentTasks": json.loads(row["recent_tasks"]),
                            "expires": row["expires"], "firstClaim": row["first_claim"]}
    if row["quarantine_until"]:
        body["quarantineUntil"] = row["quarantine_until"]
        body["quarantineDetails"] = json.loads(row["quarantine_details"])
    if row["last_date_active"]:
        body["lastDateActive"] = row["last_date_active"]
    return body


def touch_worker(conn: sqlite3.Connection, taskQueueId: str, workerGroup: str | None,
                 workerId: str | None, now: datetime,
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


class TaskQueues:
    """The worker-metadata methods of the Queue."""

    def __init__(self, records: Records, store: Store, clock: Clock) -> None:
        self.records = records
        self.store = store
        self.clock = clock

    def _live_queues(self, conn: sqlite3.Connection,
                     provisionerId: str | None = None) -> list[sqlite3.Row]:
        now = to_json(self.clock.now())
        if provisionerId is None:
            return conn.execute("SELECT * FROM task_queues WHERE expires > ? "
                                "ORDER BY task_queue_id", (now,)).fetchall()
        return conn.execute("SELECT * FROM task_queues WHERE expires > ? AND task_queue_id "
                            "LIKE ? ESCAPE '\\' ORDER BY task_queue_id",
                            (now, _like_prefix(provisionerId + "/"))).fetchall()

    @staticmethod
    def _paged(call: Call, key: str, items: list[dict[str, Any]]) -> Reply:
        offset, size = page(call.query)
        return Reply(with_token({key: items[offset: offset + size]}, offset, size,
                                len(items) > offset + size))

    # -- counts and listings -----------------------------------------------------------------
    def _counts(self, taskQueueId: str) -> tuple[int, int]:
        with self.store.read() as conn:
            pending = conn.execute("SELECT COUNT(*) FROM pending WHERE task_queue_id = ?",
                                   (taskQueueId,)).fetchone()[0]
            claimed = conn.execute("SELECT COUNT(*) FROM claimed WHERE task_queue_id = ?",
                                   (taskQueueId,)).fetchone()[0]
        return pending, claimed

    def pendingTasks(self, call: Call) -> Reply:
        tq = call.params["taskQueueId"]
        prov, wt = split_queue(tq)
        pending, _ = self._counts(tq)
        return Reply({"provisionerId": prov, "workerType": wt, "taskQueueId": tq,
                      "pendingTasks": pending})

    def taskQueueCounts(self, call: Call) -> Reply:
        tq = call.params["taskQueueId"]
        prov, wt = split_queue(tq)
        pending, claimed = self._counts(tq)
        return Reply({"provisionerId": prov, "workerType": wt, "taskQueueId": tq,
                      "pendingTasks": pending, "claimedTasks": claimed})

    def taskQueueCountsBatch(self, call: Call) -> Reply:
        """taskQueueCounts for many queues; every queue's scopes are needed (all or nothing)."""
        ids = list(call.body["taskQueueIds"])
        call.authorize(taskQueueIds=ids)
        out = []
        for tq in ids:
            prov, wt = split_queue(tq)
            pending, claimed = self._counts(tq)
            out.append({"provisionerId": prov, "workerType": wt, "taskQueueId": tq,
                        "pendingTasks": pending, "claimedTasks": claimed})
        return Reply({"taskQueueCounts": out})

    def listPendingTasks(self, call: Call) -> Reply:
        tq = call.params["taskQueueId"]
        offset, size = page(call.query)
        with self.store.read() as conn:
            rows = conn.execute("SELECT task_id, run_id, inserted FROM pending WHERE "
                                "task_queue_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                                (tq, size + 1, offset)).fetchall()
            items = [{"taskId": r["task_id"], "runId": r["run_id"],
                      "task": self.records.get_task(conn, r["task_id"]), "inserted": r["inserted"]}
                     for r in rows[:size]]
        return Reply(with_token({"tasks": items}, offset, size, len(rows) > size))

    def listClaimedTasks(self, call: Call) -> Reply:
        tq = call.params["taskQueueId"]
        offset, size = page(call.query)
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM claimed WHERE task_queue_id = ? ORDER BY seq "
                                "LIMIT ? OFFSET ?", (tq, size + 1, offset)).fetchall()
            items = [{"taskId": r["task_id"], "runId": r["run_id"],
                      "workerGroup": r["worker_group"], "workerId": r["worker_id"],
                      "claimed": r["claimed"], "task": self.records.get_task(conn, r["task_id"])}
                     for r in rows[:size]]
        return Reply(with_token({"tasks": items}, offset, size, len(rows) > size))

    # -- task queues -------------------------------------------------------------------------
    def getTaskQueue(self, call: Call) -> Reply:
        tq = call.params["taskQueueId"]
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM task_queues WHERE task_queue_id = ? AND "
                               "expires > ?", (tq, to_json(self.clock.now()))).fetchone()
        if row is None:
            raise not_found(f"Task queue `{tq}` not found (task queues appear once a worker "
                            "has claimed from them).")
        return Reply(task_queue_json(row))

    def listTaskQueues(self, call: Call) -> Reply:
        with self.store.read() as conn:
            items = [task_queue_json(r) for r in self._live_queues(conn)]
        return self._paged(call, "taskQueues", items)

    # -- provisioners and worker types (views of the task queues) ----------------------------
    def _provisioners(self) -> dict[str, dict[str, Any]]:
        with self.store.read() as conn:
            rows = self._live_queues(conn)
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            prov, _ = split_queue(row["task_queue_id"])
            cur = out.setdefault(prov, {"provisionerId": prov, "description": "",
                                        "stability": "experimental", "expires": row["expires"],
                                        "lastDateActive": row["last_date_active"]})
            cur["expires"] = max(cur["expires"], row["expires"])
            cur["lastDateActive"] = max(cur["lastDateActive"], row["last_date_active"])
        return out

    def listProvisioners(self, call: Call) -> Reply:
        return self._paged(call, "provisioners", list(self._provisioners().values()))

    def getProvisioner(self, call: Call) -> Reply:
        prov = self._provisioners().get(call.params["provisionerId"])
        if prov is None:
            raise not_found(f"Provisioner `{call.params['provisionerId']}` not found.")
        return Reply(prov)

    def _worker_types(self, provisionerId: str) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = self._live_queues(conn, provisionerId)
        return [{"workerType": split_queue(r["task_queue_id"])[1], "provisionerId": provisionerId,
                 "taskQueueId": r["task_queue_id"], "stability": r["stability"],
                 "description": r["description"], "expires": r["expires"],
                 "lastDateActive": r["last_date_active"]} for r in rows]

    def listWorkerTypes(self, call: Call) -> Reply:
        return self._paged(call, "workerTypes", self._worker_types(call.params["provisionerId"]))

    def getWorkerType(self, call: Call) -> Reply:
        prov, wt = call.params["provisionerId"], call.params["workerType"]
        for item in self._worker_types(prov):
            if item["workerType"] == wt:
                return Reply(item)
        raise not_found(f"Worker type `{prov}/{wt}` not found.")

    # -- workers -----------------------------------------------------------------------------
    def listWorkers(self, call: Call) -> Reply:
        tq = f"{call.params['provisionerId']}/{call.params['workerType']}"
        quarantined = (call.query or {}).get("quarantined")
        if quarantined not in (None, "true", "false"):
            raise input_error("`quarantined` must be true or false.")
        now = self.clock.now()
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM workers WHERE task_queue_id = ? AND expires > ? "
                                "ORDER BY worker_group, worker_id",
                                (tq, to_json(now))).fetchall()
        items = []
        for row in rows:
            is_q = bool(row["quarantine_until"]) and parse_date(row["quarantine_until"]) > now
            if quarantined is not None and is_q != (quarantined == "true"):
                continue
            item: dict[str, Any] = {"workerGroup": row["worker_group"],
                                    "workerId": row["worker_id"],
                                    "firstClaim": row["first_claim"]}
            recent = json.loads(row["recent_tasks"])
            if recent:
                item["latestTask"] = recent[-1]
            if row["quarantine_until"]:
                item["quarantineUntil"] = row["quarantine_until"]
            if row["last_date_active"]:
                item["lastDateActive"] = row["last_date_active"]
            items.append(item)
        return self._paged(call, "workers", items)

    def _worker_row(self, conn: sqlite3.Connection, call: Call) -> sqlite3.Row:
        p = call.params
        row = conn.execute("SELECT * FROM workers WHERE task_queue_id = ? AND worker_group = ? "
                           "AND worker_id = ?", (f"{p['provisionerId']}/{p['workerType']}",
                                                 p["workerGroup"], p["workerId"])).fetchone()
        if row is None:
            raise not_found(f"Worker `{p['workerGroup']}/{p['workerId']}` of "
                            f"`{p['provisionerId']}/{p['workerType']}` not found.")
        return row

    def getWorker(self, call: Call) -> Reply:
        with self.store.read() as conn:
            return Reply(worker_json(self._worker_row(conn, call)))

    def quarantineWorker(self, call: Call) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        try:
            until = to_json(parse_date(body["quarantineUntil"]))
        except (KeyError, ValueError):
            raise input_error("`quarantineUntil` must be a date-time.") from None
        details_entry = {"clientId": getattr(call.caller, "client_id", None) or "anonymous",
                         "updatedAt": to_json(self.clock.now()), "quarantineUntil": until,
                         "quarantineInfo": str(body.get("quarantineInfo", ""))}
        with self.store.transaction() as conn:
            row = self._worker_row(conn, call)
            details = json.loads(row["quarantine_details"]) + [details_entry]
            conn.execute("UPDATE workers SET quarantine_until = ?, quarantine_details = ? "
                         "WHERE task_queue_id = ? AND worker_group = ? AND worker_id = ?",
                         (until, json.dumps(details), row["task_queue_id"],
                          row["worker_group"], row["worker_id"]))
            return Reply(worker_json(self._worker_row(conn, call)))

    def declareWorker(self, call: Call) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        call.authorize(properties=sorted(body))
        p = call.params
        tq = f"{p['provisionerId']}/{p['workerType']}"
        now = self.clock.now()
        with self.store.transaction() as conn:
            touch_worker(conn, tq, p["workerGroup"], p["workerId"], now)
            if "expires" in body:
                try:
                    expires = to_json(parse_date(body["expires"]))
                except ValueError:
                    raise input_error("`expires` must be a date-time.") from None
                conn.execute("UPDATE workers SET expires = ? WHERE task_queue_id = ? AND "
                             "worker_group = ? AND worker_id = ?",
                             (expires, tq, p["workerGroup"], p["workerId"]))
                conn.execute("UPDATE task_queues SET expires = MAX(expires, ?) WHERE "
                             "task_queue_id = ?", (expires, tq))
            return Reply(worker_json(self._worker_row(conn, call)))

    # -- the expiry pass and the state dump ----------------------------------------------------
    @staticmethod
    def expire(conn: sqlite3.Connection, now: datetime) -> None:
        """Forget task queues and workers past ``expires``."""
        cutoff = to_json(now)
        conn.execute("DELETE FROM task_queues WHERE expires < ?", (cutoff,))
        conn.execute("DELETE FROM workers WHERE expires < ?", (cutoff,))

    @staticmethod
    def dump(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
        """Every task queue and worker, for the state dump."""
        return {"taskQueues": [task_queue_json(r) for r in conn.execute(
                    "SELECT * FROM task_queues ORDER BY task_queue_id")],
                "workers": [worker_json(r) for r in conn.execute(
                    "SELECT * FROM workers ORDER BY task_queue_id, worker_group, worker_id")]}


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
