"""Artifact methods of the mock queue, and its blob store's entry points.

Mixed into :class:`~tutorial_kit.mock.model.backend.QueueBackend`, which provides ``store``,
``clock``, ``rng``, ``get_task``, ``get_status``, ``task_message`` and ``publish``.

Storage types (QUEUE-FACTS §e): ``s3`` (bytes PUT to a signed URL of the mock's own blob
store, see :mod:`tutorial_kit.mock.model.blobs`), ``object`` (bytes uploaded through the mock's
Object service, :mod:`tutorial_kit.mock.model.objects`, with the credentials createArtifact returns,
then ``finishArtifact``), ``reference`` (a URL), ``link`` (another artifact of the same run) and
``error`` (a 424 with reason and message).
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import blobs
from .objects import ObjectService
from .call import Call, Reply
from .clock import parse_date, to_json
from .errors import QueueError, conflict, input_error, not_found
from .pagination import page_size

#: Artifacts may be created this long after their run resolved ``exception``.
EXCEPTION_GRACE = timedelta(minutes=25)
#: ``expires`` may lie this far in the past (clock drift between worker and queue).
EXPIRES_DRIFT = timedelta(minutes=15)
#: Lifetimes of the credentials in object replies.
UPLOAD_CREDENTIALS_MAX = timedelta(hours=24)
DOWNLOAD_CREDENTIALS = timedelta(hours=1)
#: Stored content type when a request has none (link, error).
DEFAULT_CONTENT_TYPE = "application/binary"
STORAGE_HEADER = "x-taskcluster-artifact-storage-type"
#: Longest name the response schemas allow (``artifact-response.json``).
MAX_NAME_LENGTH = 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS artifacts (
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    storage_type TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_length INTEGER,
    expires TEXT NOT NULL,
    details TEXT NOT NULL,
    present INTEGER NOT NULL,
    PRIMARY KEY (task_id, run_id, name)
);
CREATE INDEX IF NOT EXISTS artifacts_expires ON artifacts (expires);
"""


@dataclass
class Artifact:
    """One row of the ``artifacts`` table."""

    taskId: str
    runId: int
    name: str
    storageType: str
    contentType: str
    expires: str  # Date.toJSON() form
    details: dict[str, Any] = field(default_factory=dict)
    present: bool = True
    contentLength: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple) -> Artifact:
        (task_id, run_id, name, storage_type, content_type, content_length, expires, details,
         present) = tuple(row)
        return cls(task_id, int(run_id), name, storage_type, content_type, expires,
                   json.loads(details), bool(present), content_length)

    def serialize(self) -> dict[str, Any]:
        """The ``artifact-response.json`` form (listings, artifactInfo)."""
        out: dict[str, Any] = {"storageType": self.storageType, "name": self.name,
                               "expires": self.expires, "contentType": self.contentType}
        if self.contentLength is not None:
            out["contentLength"] = self.contentLength
        return out

    def message_form(self) -> dict[str, Any]:
        # artifact-created's schema forbids contentLength (QUEUE-FACTS §j.2).
        return {"storageType": self.storageType, "name": self.name, "expires": self.expires,
                "contentType": self.contentType}


_COLUMNS = ("task_id, run_id, name, storage_type, content_type, content_length, expires, "
            "details, present")


def _load(conn: sqlite3.Connection, taskId: str, runId: int, name: str) -> Artifact | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM artifacts WHERE task_id = ? AND run_id = ? "
                       "AND name = ?", (taskId, runId, name)).fetchone()
    return Artifact.from_row(row) if row is not None else None


def _compatible(original: Artifact, storageType: str, contentType: str, expires: str,
                details: dict[str, Any]) -> bool:
    """May a repeated createArtifact be applied to an existing artifact? (§e check 5)"""
    # A link has no content type of its own, so only other types must keep it unchanged.
    if storageType != "link" and original.contentType != contentType:
        return False
    # expires may be extended, never shortened (both strings are Date.toJSON(), so they sort).
    if parse_date(original.expires) > parse_date(expires):
        return False
    if original.storageType == storageType:
        # Same type: identical details, except that a reference may point somewhere new.
        return storageType == "reference" or original.details == details
    # The one allowed change of type: a reference becomes a link.
    return original.storageType == "reference" and storageType == "link"


def _field(body: dict[str, Any], key: str) -> Any:
    """A required request field (schema validation guarantees it; this keeps a clear 400)."""
    if key not in body:
        raise input_error(f"`{key}` is required for this storageType")
    return body[key]


def _encode_token(name: str) -> str:
    raw = json.dumps({"name": name}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_token(token: str | None) -> str | None:
    """The name a listing token continues after; a token we cannot read restarts the listing
    (as the real queue does for its key tokens)."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
        name = data["name"]
        return name if isinstance(name, str) else None
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None


class ArtifactsMixin:
    """Artifact methods, mixed into QueueBackend."""

    #: Upper bound for one uploaded blob (bytes); set per backend to change it.
    max_blob_bytes: int = blobs.DEFAULT_MAX_BLOB_BYTES

    # -- hooks the backend calls ---------------------------------------------------------------
    def _init_artifacts(self) -> None:
        self.store.register_schema(SCHEMA)
        self.store.register_schema(blobs.SCHEMA)
        self.objects = ObjectService(self)

    def _reset_artifacts(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM artifacts")
            conn.execute("DELETE FROM blobs")
            self.objects.reset(conn)

    def _dump_artifacts(self) -> dict[str, Any]:
        """Artifacts (with their details) and blob metadata, for the state dump."""
        with self.store.read() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM artifacts "
                                "ORDER BY task_id, run_id, name").fetchall()
            artifacts = []
            for row in rows:
                a = Artifact.from_row(row)
                artifacts.append({"taskId": a.taskId, "runId": a.runId, **a.serialize(),
                                  "present": a.present, "details": a.details})
            return {"artifacts": artifacts, "blobs": blobs.list_blobs(conn)}

    def _expire_artifacts(self, conn: sqlite3.Connection, now: datetime) -> int:
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

    # -- helpers ---------------------------------------------------------------------------------
    def _blob_signer(self) -> blobs.BlobSigner:
        with self.store.read() as conn:
            secret = blobs.load_secret(conn, create=False)
        if secret is None:
            with self.store.transaction() as conn:
                secret = blobs.load_secret(conn, create=True)
        return blobs.BlobSigner(secret)

    def _art_slugid(self) -> str:
        """A v4 "nice" slugid from the backend's seeded random source."""
        raw = bytearray(self.rng.getrandbits(128).to_bytes(16, "big"))
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        raw[0] &= 0x7F
        return base64.urlsafe_b64encode(bytes(raw)).decode("ascii")[:22]

    def _art_credentials(self, client_id: str, scopes: list[str], start: datetime,
                     expiry: datetime) -> dict[str, str]:
        """Temporary credentials signed by the backend's issuer (as claimWork's are)."""
        return self.credential_issuer(client_id, scopes, start, expiry)

    def _art_latest_run(self, conn: sqlite3.Connection, taskId: str) -> int:
        status = self.get_status(conn, taskId)
        if status is None:
            raise not_found("Task not found")
        if not status["runs"]:
            raise not_found("Task doesn't have any runs")
        return len(status["runs"]) - 1

    def _art_follow_links(self, call: Call, conn: sqlite3.Connection, taskId: str, runId: int,
                      name: str) -> Artifact:
        """The artifact ``name`` leads to, checking ``queue:get-artifact:<n>`` for every name
        on the way (the scope expression's ``names`` list grows with each link)."""
        names: list[str] = []
        now = self.clock.now()
        while True:
            names.append(name)
            call.authorize(names=list(names))
            artifact = _load(conn, taskId, runId, name)
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

    def _art_download_url(self, root_url: str, artifact: Artifact) -> str:
        """Where the bytes of an s3/object artifact are: public unsigned, private signed;
        an object's are the Object service's "simple" download URL (always signed)."""
        if artifact.storageType == "object":
            return self.objects.download_url(
                root_url, blobs.object_name(artifact.taskId, artifact.runId, artifact.name))
        key = blobs.BlobKey.for_artifact(artifact.taskId, artifact.runId, artifact.name)
        if key.bucket == blobs.PUBLIC_BUCKET:
            return blobs.blob_url(root_url, key)
        return self._blob_signer().signed_url(root_url, "GET", key, self.clock.now(),
                                         blobs.GET_URL_SECONDS)

    # -- createArtifact / finishArtifact ----------------------------------------------------------
    def createArtifact(self, call: Call) -> Reply:
        taskId, runId, name = call.params["taskId"], int(call.params["runId"]), call.params["name"]
        body = call.body or {}
        storageType = body.get("storageType")
        contentType = body.get("contentType") or DEFAULT_CONTENT_TYPE
        contentLength = body.get("contentLength")
        try:
            expires_dt = parse_date(body.get("expires"))
        except ValueError as e:
            raise input_error(f"`expires` is not a valid date-time: {e}") from None
        expires = to_json(expires_dt)
        now = self.clock.now()

        if len(name) > MAX_NAME_LENGTH:
            # Upstream would store it and then fail every listing's output check (a 500);
            # a clear 400 up front serves a learner better.
            raise input_error(f"Artifact names may be at most {MAX_NAME_LENGTH} characters "
                              f"long; this one has {len(name)}")
        # §e check 1 (before the task is even looked up)
        if expires_dt < now - EXPIRES_DRIFT:
            raise input_error("Expires must be in the future")

        messages = []
        reply: dict[str, Any]
        with self.store.transaction() as conn:
            task = self.get_task(conn, taskId)
            status = self.get_status(conn, taskId) if task is not None else None
            if task is None or status is None:
                raise input_error("Task not found")
            runs = status["runs"]
            if not 0 <= runId < len(runs):
                raise input_error("Run not found")
            run = runs[runId]
            workerGroup, workerId = run.get("workerGroup"), run.get("workerId")
            if not workerGroup or not workerId:
                raise input_error("Run was not claimed by a worker and so no artifacts can exist")

            task_expires = parse_date(task["expires"])
            if expires_dt > task_expires:
                raise input_error(
                    f"Artifact expires ({expires}) after the task expiration "
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

            details: dict[str, Any]
            present = True
            uploadId = objectName = None
            if storageType == "s3":
                key = blobs.BlobKey.for_artifact(taskId, runId, name)
                details = {"bucket": key.bucket, "prefix": f"{taskId}/{runId}/{name}"}
            elif storageType == "object":
                present = False  # present only after finishArtifact
                uploadId = self._art_slugid()
                objectName = blobs.object_name(taskId, runId, name)
                details = {"uploadId": uploadId}
            elif storageType == "reference":
                details = {"url": _field(body, "url")}
            elif storageType == "link":
                details = {"artifact": _field(body, "artifact")}
            elif storageType == "error":
                details = {"message": _field(body, "message"), "reason": _field(body, "reason")}
            else:  # validation makes this unreachable; answer clearly anyway
                raise input_error(f"Unknown storageType: {storageType!r}")

            original = _load(conn, taskId, runId, name)
            if original is None:
                conn.execute(
                    f"INSERT INTO artifacts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (taskId, runId, name, storageType, contentType, contentLength, expires,
                     json.dumps(details, sort_keys=True), int(present)))
            else:
                if not _compatible(original, storageType, contentType, expires, details):
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
                              taskId, runId, name))
            artifact = _load(conn, taskId, runId, name)
            assert artifact is not None

            # s3 never announces itself; object only once finished.
            if present and artifact.storageType != "s3":
                messages.append(self.task_message(
                    "artifact-created", status, task, runId=runId, workerGroup=workerGroup,
                    workerId=workerId, extra={"artifact": artifact.message_form()}))

            if artifact.storageType == "s3":
                key = blobs.BlobKey.for_artifact(taskId, runId, name)
                reply = {
                    "storageType": "s3",
                    "contentType": artifact.contentType,
                    "expires": to_json(now + blobs.PUT_URL_LIFETIME),
                    "putUrl": None,  # filled after the transaction (the signer may write)
                }
            elif artifact.storageType == "object":
                reply = {"storageType": "object", "name": objectName,
                         "projectId": task["projectId"], "uploadId": uploadId,
                         "expires": expires, "credentials": None}
            else:
                reply = {"storageType": storageType}

        if reply["storageType"] == "s3":
            reply["putUrl"] = self._blob_signer().signed_url(
                call.root_url, "PUT", key, now, blobs.PUT_URL_SECONDS)
        elif reply["storageType"] == "object":
            expiry = min(expires_dt, now + UPLOAD_CREDENTIALS_MAX)
            reply["credentials"] = self._art_credentials(
                f"artifact-upload/{taskId}/{runId}/on/{workerGroup}/{workerId}",
                [f"object:upload:{task['projectId']}:{objectName}"], now, expiry)
        self.publish(messages)
        return Reply(reply)

    def finishArtifact(self, call: Call) -> Reply:
        taskId, runId, name = call.params["taskId"], int(call.params["runId"]), call.params["name"]
        uploadId = (call.body or {}).get("uploadId")
        messages = []
        with self.store.transaction() as conn:
            artifact = _load(conn, taskId, runId, name)
            task = self.get_task(conn, taskId)
            status = self.get_status(conn, taskId) if task is not None else None
            if artifact is None or status is None or not 0 <= runId < len(status["runs"]):
                raise not_found(f"Artifact with taskId `{taskId}`, runId {runId}, "
                                f"name `{name}` not found")
            run = status["runs"][runId]
            if artifact.storageType != "object":
                raise input_error("Only object artifacts can be finished")
            if not artifact.present:
                if uploadId != artifact.details.get("uploadId"):
                    raise input_error("given uploadId does not match that for the artifact")
                if not self.objects.finished(conn, blobs.object_name(taskId, runId, name)):
                    raise input_error("Object storing artifact data does not exist")
                # Present from now on; the uploadId has done its job.
                conn.execute("UPDATE artifacts SET present = 1, details = '{}' "
                             "WHERE task_id = ? AND run_id = ? AND name = ?",
                             (taskId, runId, name))
            # Finishing again is idempotent and re-announces the artifact (at least once).
            messages.append(self.task_message(
                "artifact-created", status, task, runId=runId,
                workerGroup=run.get("workerGroup"), workerId=run.get("workerId"),
                extra={"artifact": artifact.message_form()}))
        self.publish(messages)
        return Reply(status=204)

    # -- getArtifact / getLatestArtifact ----------------------------------------------------------
    def _art_redirect(self, call: Call, taskId: str, runId: int, name: str) -> Reply:
        with self.store.read() as conn:
            artifact = self._art_follow_links(call, conn, taskId, runId, name)
        storageType = artifact.storageType
        headers = {STORAGE_HEADER: storageType}
        if storageType == "error":
            # Not the error envelope: a plain {reason, message} with 424.
            return Reply({"reason": artifact.details["reason"],
                          "message": artifact.details["message"]}, status=424, headers=headers)
        if storageType == "reference":
            url = artifact.details["url"]
        else:  # s3 or object: the mock's own blob store
            url = self._art_download_url(call.root_url, artifact)
        return Reply({"storageType": storageType, "url": url}, status=303,
                     headers={**headers, "Location": url})

    def getArtifact(self, call: Call) -> Reply:
        p = call.params
        return self._art_redirect(call, p["taskId"], int(p["runId"]), p["name"])

    def getLatestArtifact(self, call: Call) -> Reply:
        taskId, name = call.params["taskId"], call.params["name"]
        # Permission first, so a caller without it learns nothing (not even a 404).
        call.authorize(names=[name])
        with self.store.read() as conn:
            runId = self._art_latest_run(conn, taskId)
        return self._art_redirect(call, taskId, runId, name)

    # -- artifact / latestArtifact (artifact-content) ---------------------------------------------
    def _art_content(self, call: Call, taskId: str, runId: int, name: str) -> Reply:
        with self.store.read() as conn:
            artifact = self._art_follow_links(call, conn, taskId, runId, name)
        storageType = artifact.storageType
        if storageType == "error":
            return Reply({"storageType": "error", "reason": artifact.details["reason"],
                          "message": artifact.details["message"]})
        if storageType == "reference":
            return Reply({"storageType": "reference", "url": artifact.details["url"]})
        if storageType == "object":
            objectName = blobs.object_name(taskId, runId, artifact.name)
            now = self.clock.now()
            credentials = self._art_credentials(
                f"artifact-download/{taskId}/{runId}/{artifact.name}",
                [f"object:download:{objectName}"], now, now + DOWNLOAD_CREDENTIALS)
            return Reply({"storageType": "object", "name": objectName,
                          "credentials": credentials})
        return Reply({"storageType": "s3", "url": self._art_download_url(call.root_url, artifact)})

    def artifact(self, call: Call) -> Reply:
        p = call.params
        return self._art_content(call, p["taskId"], int(p["runId"]), p["name"])

    def latestArtifact(self, call: Call) -> Reply:
        taskId, name = call.params["taskId"], call.params["name"]
        with self.store.read() as conn:
            runId = self._art_latest_run(conn, taskId)
        return self._art_content(call, taskId, runId, name)

    # -- artifactInfo / latestArtifactInfo --------------------------------------------------------
    def _art_info(self, taskId: str, runId: int, name: str) -> Reply:
        with self.store.read() as conn:
            artifact = _load(conn, taskId, runId, name)
        if artifact is None or not artifact.present:
            raise not_found("Artifact not found")
        return Reply(artifact.serialize())

    def artifactInfo(self, call: Call) -> Reply:
        p = call.params
        return self._art_info(p["taskId"], int(p["runId"]), p["name"])

    def latestArtifactInfo(self, call: Call) -> Reply:
        taskId = call.params["taskId"]
        with self.store.read() as conn:
            runId = self._art_latest_run(conn, taskId)
        return self._art_info(taskId, runId, call.params["name"])

    # -- listArtifacts / listLatestArtifacts ------------------------------------------------------
    def _art_list(self, call: Call, taskId: str, runId: int | None) -> Reply:
        size = page_size(call.query)
        after = _decode_token(call.query.get("continuationToken"))
        with self.store.read() as conn:
            latest = self._art_latest_run(conn, taskId)
            if runId is None:
                runId = latest
            elif not 0 <= runId <= latest:
                raise not_found(f"Task with taskId: `{taskId}` has no run with runId: {runId}")
            # Unfinished (not yet present) artifacts are listed too, as upstream does.
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM artifacts WHERE task_id = ? AND run_id = ? AND name > ? "
                "ORDER BY name LIMIT ?",
                (taskId, runId, after if after is not None else "", size + 1)).fetchall()
        artifacts = [Artifact.from_row(r) for r in rows]
        reply: dict[str, Any] = {"artifacts": [a.serialize() for a in artifacts[:size]]}
        if len(artifacts) > size:
            reply["continuationToken"] = _encode_token(artifacts[size - 1].name)
        return Reply(reply)

    def listArtifacts(self, call: Call) -> Reply:
        return self._art_list(call, call.params["taskId"], int(call.params["runId"]))

    def listLatestArtifacts(self, call: Call) -> Reply:
        return self._art_list(call, call.params["taskId"], None)

    # -- the blob store (plain HTTP, no Taskcluster auth; used by the HTTP layer) -----------------
    def put_blob(self, key: str, query: dict[str, str], data: bytes, content_type: str | None,
                 *, content_length: int | None = None) -> None:
        """Store the bytes PUT to a ``putUrl``.

        ``key`` is the raw (still percent-encoded) path after ``/mock/v1/blobs/``. Raises
        QueueError: 404 unknown blob/artifact, 403 bad or expired signature, 400 content type
        not the declared one or a wrong Content-Length, 413 over ``max_blob_bytes``.
        """
        blob = blobs.BlobKey.parse(key)
        now = self.clock.now()
        self._blob_signer().verify("PUT", blob, query, now)
        with self.store.transaction() as conn:
            artifact = _load(conn, blob.taskId, blob.runId, blob.name)
            if artifact is None or artifact.storageType != "s3":
                raise not_found(f"No s3 artifact `{blob.name}` on run {blob.runId} of task "
                                f"`{blob.taskId}` to upload to")
            if content_length is not None and content_length != len(data):
                raise input_error(f"Content-Length says {content_length} bytes but "
                                  f"{len(data)} arrived")
            if len(data) > self.max_blob_bytes:
                raise QueueError("InputTooLarge", f"The upload is {len(data)} bytes; this mock "
                                 f"stores at most {self.max_blob_bytes} bytes per artifact")
            if (content_type or "").strip() != artifact.contentType:
                raise input_error(f"Content-Type must be `{artifact.contentType}` as declared "
                                  f"in createArtifact, not `{content_type or ''}`")
            blobs.store_blob(conn, blob.taskId, blob.runId, blob.name, artifact.contentType,
                             data, to_json(now))

    def get_blob(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """The bytes and content type behind a download URL (private ones must be signed).

        ``key`` is the raw path after ``/mock/v1/blobs/``. Raises QueueError 404 / 403.
        """
        blob = blobs.BlobKey.parse(key)
        if blob.bucket == blobs.PRIVATE_BUCKET:
            self._blob_signer().verify("GET", blob, query, self.clock.now())
        with self.store.read() as conn:
            found = blobs.load_blob(conn, blob.taskId, blob.runId, blob.name)
        if found is None:
            raise not_found("The specified key does not exist.")
        return found

    def put_object(self, name: str, query: dict[str, str], data: bytes,
                   content_type: str | None, *, content_length: int | None = None) -> None:
        """A PUT to ``/mock/v1/objects/<object name>``.

        With a signature in the query it is the upload to a ``putUrl`` the Object service's
        createUpload handed out (:meth:`ObjectService.put_data`). With ``?uploadId=`` instead it
        is the mock's one-step shortcut for an object artifact (``name`` is then
        ``t/<taskId>/<runId>/<name>``, ``uploadId`` the one createArtifact returned): the
        object is stored finished, so finishArtifact succeeds next. Raises QueueError 404 /
        400 / 403 / 409 (already finished) / 413.
        """
        if "X-Amz-Signature" in query:
            self.objects.put_data(name, query, data, content_type, content_length)
            return
        taskId, runId, artifact_name = blobs.parse_object_name(name)
        with self.store.transaction() as conn:
            artifact = _load(conn, taskId, runId, artifact_name)
            if artifact is None or artifact.storageType != "object":
                raise not_found(f"No object artifact `{artifact_name}` on run {runId} of task "
                                f"`{taskId}`")
            if artifact.present:
                raise conflict("This object artifact is finished; its data cannot change")
            if not query.get("uploadId") or query["uploadId"] != artifact.details.get("uploadId"):
                raise input_error("given uploadId does not match that for the artifact")
            if len(data) > self.max_blob_bytes:
                raise QueueError("InputTooLarge", f"The upload is {len(data)} bytes; this mock "
                                 f"stores at most {self.max_blob_bytes} bytes per artifact")
            task = self.get_task(conn, taskId)
            self.objects.store_finished(
                conn, blobs.object_name(taskId, runId, artifact_name),
                task["projectId"] if task is not None else "none", artifact.expires,
                (content_type or "").strip() or artifact.contentType, data)

    def get_object(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """The bytes behind an object download URL (``key``: raw path after /mock/v1/objects/)."""
        return self.objects.get_data(key, query)
