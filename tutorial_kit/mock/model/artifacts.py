"""Artifacts: the Queue's artifact methods, and the artifacts' part of reset, dump and expiry.

createArtifact runs the checks every storage type shares (name, expiry, task, run, the run's
state, a repeat's compatibility) and stores the row; what differs by storage type (``s3``,
``object``, ``reference``, ``link``, ``error``) is asked of its handler in
:mod:`~tutorial_kit.mock.model.storagetypes`. Rows are :class:`~.artifact.Artifact`.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from . import artifact as rows
from . import blobs
from .artifact import COLUMNS, Artifact
from .call import Call, Reply
from .claims import CredentialIssuer
from .clock import Clock
from tutorial_kit.dates import parse_date, to_json
from .errors import QueueError, conflict, input_error, not_found
from .events import Message, task_message
from .objects import ObjectService
from .pagination import page_size
from .records import Records
from .storagetypes import (Creation, ErrorType, LinkType, ObjectType, ReferenceType, S3Type,
                           StorageType)
from .store import Store

#: Artifacts may be created this long after their run resolved ``exception``.
EXCEPTION_GRACE = timedelta(minutes=25)
#: ``expires`` may lie this far in the past (clock drift between worker and queue).
EXPIRES_DRIFT = timedelta(minutes=15)
#: Stored content type when a request has none (link, error).
DEFAULT_CONTENT_TYPE = "application/binary"
#: Longest name the response schemas allow (``artifact-response.json``).
MAX_NAME_LENGTH = 1024


class Artifacts:
    """The artifact methods of the Queue, over the shared :class:`~.records.Records`."""

    def __init__(self, records: Records, store: Store, clock: Clock, rng: random.Random,
                 credential_issuer: CredentialIssuer, blob_store: blobs.BlobStore,
                 objects: ObjectService) -> None:
        self.records = records
        self.store = store
        self.clock = clock
        self.objects = objects
        store.register_schema(rows.SCHEMA)
        self.s3 = S3Type(clock, blob_store)
        self.object = ObjectType(records, clock, rng, credential_issuer, objects, blob_store)
        #: The handler of each storage type, by name.
        self.types: dict[str, StorageType] = {
            t.name: t for t in (self.s3, self.object, ReferenceType(), LinkType(), ErrorType())}

    # -- reset, dump, expiry -------------------------------------------------------------------
    def reset(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM artifacts")
            conn.execute("DELETE FROM blobs")
            self.objects.reset(conn)

    def dump(self) -> dict[str, Any]:
        """Artifacts (with their details) and blob metadata, for the state dump."""
        with self.store.read() as conn:
            found = conn.execute(f"SELECT {COLUMNS} FROM artifacts "
                                 "ORDER BY task_id, run_id, name").fetchall()
            artifacts = []
            for row in found:
                a = Artifact.from_row(row)
                artifacts.append({"taskId": a.taskId, "runId": a.runId, **a.serialize(),
                                  "present": a.present, "details": a.details})
            return {"artifacts": artifacts, "blobs": blobs.list_blobs(conn)}

    def expire(self, conn: sqlite3.Connection, now: datetime) -> int:
        """Delete artifacts (and their bytes) whose ``expires`` has passed; returns how many.

        For the backend's expiry pass, inside its transaction; the real queue does the same
        in a periodic job.
        """
        cutoff = to_json(now)
        doomed = conn.execute("SELECT task_id, run_id, name FROM artifacts WHERE expires < ?",
                              (cutoff,)).fetchall()
        for task_id, run_id, name in doomed:
            blobs.delete_blob(conn, task_id, run_id, name)
        conn.execute("DELETE FROM artifacts WHERE expires < ?", (cutoff,))
        # Bytes whose artifact is gone (its task was deleted, say) go too.
        conn.execute("DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE "
                     "a.task_id = blobs.task_id AND a.run_id = blobs.run_id "
                     "AND a.name = blobs.name)")
        # Objects carry their own expiry (an object artifact's is the artifact's).
        self.objects.expire(conn, now)
        return len(doomed)

    # -- helpers -------------------------------------------------------------------------------
    def _latest_run(self, conn: sqlite3.Connection, taskId: str) -> int:
        status = self.records.get_status(conn, taskId)
        if status is None:
            raise not_found("Task not found")
        if not status["runs"]:
            raise not_found("Task doesn't have any runs")
        return len(status["runs"]) - 1

    def _follow_links(self, call: Call, conn: sqlite3.Connection, taskId: str, runId: int,
                      name: str) -> Artifact:
        """The artifact ``name`` leads to, checking ``queue:get-artifact:<n>`` for every name
        on the way (the scope expression's ``names`` list grows with each link)."""
        names: list[str] = []
        now = self.clock.now()
        while True:
            names.append(name)
            call.authorize(names=list(names))
            artifact = rows.load(conn, taskId, runId, name)
            if artifact is None or not artifact.present:
                raise not_found("Artifact not found")
            if parse_date(artifact.expires) < now:
                raise QueueError("ResourceExpired", "Artifact expired")
            if artifact.storageType != "link":
                return artifact
            target = artifact.details.get("artifact")
            if target in names:
                raise input_error("Artifact leads to a link cycle")
            name = target

    # -- createArtifact / finishArtifact -------------------------------------------------------
    def createArtifact(self, call: Call) -> Reply:
        taskId, runId, name = call.params["taskId"], int(call.params["runId"]), call.params["name"]
        body = call.body or {}
        storageType = body.get("storageType")
        contentType = body.get("contentType") or DEFAULT_CONTENT_TYPE
        try:
            expires_dt = parse_date(body.get("expires"))
        except ValueError as e:
            raise input_error(f"`expires` is not a valid date-time: {e}") from None
        now = self.clock.now()

        if len(name) > MAX_NAME_LENGTH:
            # Upstream would store it and then fail every listing's output check (a 500);
            # a clear 400 up front serves a learner better.
            raise input_error(f"Artifact names may be at most {MAX_NAME_LENGTH} characters "
                              f"long; this one has {len(name)}")
        # §e check 1 (before the task is even looked up)
        if expires_dt < now - EXPIRES_DRIFT:
            raise input_error("Expires must be in the future")

        messages: list[Message] = []
        with self.store.transaction() as conn:
            task, status, run = self._writable_run(conn, taskId, runId, expires_dt, now)
            handler = self.types.get(storageType)
            if handler is None:  # validation makes this unreachable; answer clearly anyway
                raise input_error(f"Unknown storageType: {storageType!r}")
            creation = Creation(taskId, runId, name, body, task, expires_dt, now,
                                run["workerGroup"], run["workerId"], call.root_url)
            details = handler.details(creation)
            self._store(conn, creation, storageType, contentType, body.get("contentLength"),
                        details, handler.present)
            artifact = rows.load(conn, taskId, runId, name)
            assert artifact is not None
            if handler.announced:
                messages.append(task_message(
                    "artifact-created", status, task, runId=runId,
                    workerGroup=creation.workerGroup, workerId=creation.workerId,
                    extra={"artifact": artifact.message_form()}))
        reply = handler.reply(creation, artifact)
        self.records.publish(messages)
        return Reply(reply)

    def _writable_run(self, conn: sqlite3.Connection, taskId: str, runId: int,
                      expires_dt: datetime, now: datetime
                      ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The task, its status and the run, if the run may get this artifact (§e checks)."""
        task = self.records.get_task(conn, taskId)
        status = self.records.get_status(conn, taskId) if task is not None else None
        if task is None or status is None:
            raise input_error("Task not found")
        runs = status["runs"]
        if not 0 <= runId < len(runs):
            raise input_error("Run not found")
        run = runs[runId]
        if not run.get("workerGroup") or not run.get("workerId"):
            raise input_error("Run was not claimed by a worker and so no artifacts can exist")

        task_expires = parse_date(task["expires"])
        if expires_dt > task_expires:
            raise input_error(
                f"Artifact expires ({to_json(expires_dt)}) after the task expiration "
                f"{to_json(task_expires)} (task.expires < expires) - this is not allowed, "
                "artifacts may not expire after the task they belong to expires")

        if run["state"] != "running":
            allowed = (run["state"] == "exception" and run.get("resolved") is not None
                       and parse_date(run["resolved"]) > now - EXCEPTION_GRACE)
            if not allowed:
                raise conflict(
                    "Artifacts cannot be created for a task after it is resolved, unless "
                    "it is resolved 'exception', and even in this case only up to 25 min "
                    "past resolution.This to ensure that artifacts have been uploaded "
                    "before a task is 'completed' and output is consumed by a dependent "
                    f"task\n\nTask status: {json.dumps(status, indent=2)}")
        return task, status, run

    @staticmethod
    def _store(conn: sqlite3.Connection, c: Creation, storageType: str, contentType: str,
               contentLength: Any, details: dict[str, Any], present: bool) -> None:
        """Insert the artifact, or apply a compatible repeat (409 for any other)."""
        expires = to_json(c.expires)
        original = rows.load(conn, c.taskId, c.runId, c.name)
        if original is None:
            conn.execute(
                f"INSERT INTO artifacts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (c.taskId, c.runId, c.name, storageType, contentType, contentLength, expires,
                 json.dumps(details, sort_keys=True), int(present)))
            return
        if not rows.compatible(original, storageType, contentType, expires, details):
            existing = {"storageType": original.storageType,
                        "contentType": original.contentType,
                        "expires": original.expires}
            raise conflict("Artifact already exists with different properties, and "
                           "none of the allowed exceptions apply: "
                           + json.dumps(existing, indent=2))
        # Allowed: the type (reference -> link), details and expires change; the
        # content type, length and presence stay as first created.
        conn.execute("UPDATE artifacts SET storage_type = ?, details = ?, expires = ? "
                     "WHERE task_id = ? AND run_id = ? AND name = ?",
                     (storageType, json.dumps(details, sort_keys=True), expires,
                      c.taskId, c.runId, c.name))

    def finishArtifact(self, call: Call) -> Reply:
        taskId, runId, name = call.params["taskId"], int(call.params["runId"]), call.params["name"]
        uploadId = (call.body or {}).get("uploadId")
        messages: list[Message] = []
        with self.store.transaction() as conn:
            artifact = rows.load(conn, taskId, runId, name)
            task = self.records.get_task(conn, taskId)
            status = self.records.get_status(conn, taskId) if task is not None else None
            if artifact is None or status is None or not 0 <= runId < len(status["runs"]):
                raise not_found(f"Artifact with taskId `{taskId}`, runId {runId}, "
                                f"name `{name}` not found")
            run = status["runs"][runId]
            self.types[artifact.storageType].finish(conn, artifact, uploadId)
            # Finishing again is idempotent and re-announces the artifact (at least once).
            messages.append(task_message(
                "artifact-created", status, task, runId=runId,
                workerGroup=run.get("workerGroup"), workerId=run.get("workerId"),
                extra={"artifact": artifact.message_form()}))
        self.records.publish(messages)
        return Reply(status=204)

    # -- getArtifact / getLatestArtifact -------------------------------------------------------
    def _redirect(self, call: Call, taskId: str, runId: int, name: str) -> Reply:
        with self.store.read() as conn:
            artifact = self._follow_links(call, conn, taskId, runId, name)
        return self.types[artifact.storageType].redirect(artifact, call.root_url)

    def getArtifact(self, call: Call) -> Reply:
        p = call.params
        return self._redirect(call, p["taskId"], int(p["runId"]), p["name"])

    def getLatestArtifact(self, call: Call) -> Reply:
        taskId, name = call.params["taskId"], call.params["name"]
        # Permission first, so a caller without it learns nothing (not even a 404).
        call.authorize(names=[name])
        with self.store.read() as conn:
            runId = self._latest_run(conn, taskId)
        return self._redirect(call, taskId, runId, name)

    # -- artifact / latestArtifact (artifact-content) ------------------------------------------
    def _content(self, call: Call, taskId: str, runId: int, name: str) -> Reply:
        with self.store.read() as conn:
            artifact = self._follow_links(call, conn, taskId, runId, name)
        return Reply(self.types[artifact.storageType].content(artifact, call.root_url))

    def artifact(self, call: Call) -> Reply:
        p = call.params
        return self._content(call, p["taskId"], int(p["runId"]), p["name"])

    def latestArtifact(self, call: Call) -> Reply:
        taskId, name = call.params["taskId"], call.params["name"]
        with self.store.read() as conn:
            runId = self._latest_run(conn, taskId)
        return self._content(call, taskId, runId, name)

    # -- artifactInfo / latestArtifactInfo -----------------------------------------------------
    def _info(self, taskId: str, runId: int, name: str) -> Reply:
        with self.store.read() as conn:
            artifact = rows.load(conn, taskId, runId, name)
        if artifact is None or not artifact.present:
            raise not_found("Artifact not found")
        return Reply(artifact.serialize())

    def artifactInfo(self, call: Call) -> Reply:
        p = call.params
        return self._info(p["taskId"], int(p["runId"]), p["name"])

    def latestArtifactInfo(self, call: Call) -> Reply:
        taskId = call.params["taskId"]
        with self.store.read() as conn:
            runId = self._latest_run(conn, taskId)
        return self._info(taskId, runId, call.params["name"])

    # -- listArtifacts / listLatestArtifacts ---------------------------------------------------
    def _list(self, call: Call, taskId: str, runId: int | None) -> Reply:
        size = page_size(call.query)
        after = rows.decode_token(call.query.get("continuationToken"))
        with self.store.read() as conn:
            latest = self._latest_run(conn, taskId)
            if runId is None:
                runId = latest
            elif not 0 <= runId <= latest:
                raise not_found(f"Task with taskId: `{taskId}` has no run with runId: {runId}")
            # Unfinished (not yet present) artifacts are listed too, as upstream does.
            found = conn.execute(
                f"SELECT {COLUMNS} FROM artifacts WHERE task_id = ? AND run_id = ? AND name > ? "
                "ORDER BY name LIMIT ?",
                (taskId, runId, after if after is not None else "", size + 1)).fetchall()
        artifacts = [Artifact.from_row(r) for r in found]
        reply: dict[str, Any] = {"artifacts": [a.serialize() for a in artifacts[:size]]}
        if len(artifacts) > size:
            reply["continuationToken"] = rows.encode_token(artifacts[size - 1].name)
        return Reply(reply)

    def listArtifacts(self, call: Call) -> Reply:
        return self._list(call, call.params["taskId"], int(call.params["runId"]))

    def listLatestArtifacts(self, call: Call) -> Reply:
        return self._list(call, call.params["taskId"], None)
