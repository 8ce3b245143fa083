"""The five artifact storage types (QUEUE-FACTS §e), one small class each.

* ``s3``: bytes PUT to a signed URL of the mock's own blob store (:mod:`.blobs`); never
  announced; downloads are public unsigned or private signed blob URLs.
* ``object``: bytes uploaded through the mock's Object service (:mod:`.objects`) with the
  credentials createArtifact returns, then ``finishArtifact``; absent and unannounced until then.
* ``reference``: a URL somewhere else.
* ``link``: another artifact of the same run (followed before any type is asked about it).
* ``error``: a 424 with reason and message.

Each type says what createArtifact stores (:meth:`StorageType.details`) and answers
(:meth:`StorageType.reply`), whether it is present and announced at once, what
``finishArtifact`` does with it, and where ``getArtifact`` and ``artifact`` send a downloader.
The checks every type shares stay in :mod:`.artifacts`.
"""

from __future__ import annotations

import base64
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from . import artifact as rows
from . import blobs
from .artifact import Artifact
from .call import Reply
from .claims import CredentialIssuer
from .clock import Clock
from tutorial_kit.dates import to_json
from .errors import conflict, input_error, not_found
from .objects import ObjectService
from .records import Records

#: Lifetimes of the credentials in object replies.
UPLOAD_CREDENTIALS_MAX = timedelta(hours=24)
DOWNLOAD_CREDENTIALS = timedelta(hours=1)
#: getArtifact's header naming the storage type of the artifact it resolved.
STORAGE_HEADER = "x-taskcluster-artifact-storage-type"


@dataclass
class Creation:
    """One createArtifact call whose shared checks passed."""

    taskId: str
    runId: int
    name: str
    body: dict[str, Any]
    task: dict[str, Any]  # the task's definition
    expires: datetime  # the artifact's, as requested
    now: datetime
    workerGroup: str  # of the run
    workerId: str
    root_url: str


def _field(body: dict[str, Any], key: str) -> Any:
    """A required request field (schema validation guarantees it; this keeps a clear 400)."""
    if key not in body:
        raise input_error(f"`{key}` is required for this storageType")
    return body[key]


class StorageType:
    """What one storage type stores, answers and serves."""

    name: ClassVar[str]
    #: Present (downloadable) from createArtifact on; else only after finishArtifact.
    present: ClassVar[bool] = True
    #: Announced on ``artifact-created`` by createArtifact.
    announced: ClassVar[bool] = True

    def details(self, c: Creation) -> dict[str, Any]:
        """What the ``details`` column keeps for this type (a repeat must match it)."""
        raise NotImplementedError

    def reply(self, c: Creation, artifact: Artifact) -> dict[str, Any]:
        """createArtifact's answer, made after the commit (signing may write the store)."""
        return {"storageType": self.name}

    def finish(self, conn: sqlite3.Connection, artifact: Artifact, uploadId: Any) -> None:
        """finishArtifact's own part (inside its transaction)."""
        raise input_error("Only object artifacts can be finished")

    def url(self, artifact: Artifact, root_url: str) -> str:
        """Where the content is."""
        raise NotImplementedError

    def redirect(self, artifact: Artifact, root_url: str) -> Reply:
        """getArtifact's answer: a 303 to the content."""
        url = self.url(artifact, root_url)
        return Reply({"storageType": self.name, "url": url}, status=303,
                     headers={STORAGE_HEADER: self.name, "Location": url})

    def content(self, artifact: Artifact, root_url: str) -> dict[str, Any]:
        """The ``artifact`` method's answer (``artifact-content-response.json``)."""
        return {"storageType": self.name, "url": self.url(artifact, root_url)}


class S3Type(StorageType):
    name = "s3"
    announced = False  # s3 artifacts never announce themselves

    def __init__(self, clock: Clock, blob_store: blobs.BlobStore) -> None:
        self.clock = clock
        self.blob_store = blob_store

    def details(self, c: Creation) -> dict[str, Any]:
        key = blobs.BlobKey.for_artifact(c.taskId, c.runId, c.name)
        return {"bucket": key.bucket, "prefix": f"{c.taskId}/{c.runId}/{c.name}"}

    def reply(self, c: Creation, artifact: Artifact) -> dict[str, Any]:
        key = blobs.BlobKey.for_artifact(c.taskId, c.runId, c.name)
        return {"storageType": "s3", "contentType": artifact.contentType,
                "expires": to_json(c.now + blobs.PUT_URL_LIFETIME),
                "putUrl": self.blob_store.signer().signed_url(c.root_url, "PUT", key, c.now,
                                                              blobs.PUT_URL_SECONDS)}

    def url(self, artifact: Artifact, root_url: str) -> str:
        """Public bytes unsigned, private ones signed."""
        key = blobs.BlobKey.for_artifact(artifact.taskId, artifact.runId, artifact.name)
        if key.bucket == blobs.PUBLIC_BUCKET:
            return blobs.blob_url(root_url, key)
        return self.blob_store.signer().signed_url(root_url, "GET", key, self.clock.now(),
                                                   blobs.GET_URL_SECONDS)

    # -- the blob store (plain HTTP, no Taskcluster auth; used by the HTTP layer) -------------
    def put_blob(self, key: str, query: dict[str, str], data: bytes, content_type: str | None,
                 *, content_length: int | None = None) -> None:
        """Store the bytes PUT to a ``putUrl``.

        ``key`` is the raw (still percent-encoded) path after ``/mock/v1/blobs/``. Raises
        QueueError: 404 unknown blob/artifact, 403 bad or expired signature, 400 content type
        not the declared one or a wrong Content-Length, 413 over the size limit.
        """
        blob = blobs.BlobKey.parse(key)
        now = self.clock.now()
        self.blob_store.signer().verify("PUT", blob, query, now)
        with self.blob_store.store.transaction() as conn:
            artifact = rows.load(conn, blob.taskId, blob.runId, blob.name)
            if artifact is None or artifact.storageType != "s3":
                raise not_found(f"No s3 artifact `{blob.name}` on run {blob.runId} of task "
                                f"`{blob.taskId}` to upload to")
            if content_length is not None and content_length != len(data):
                raise input_error(f"Content-Length says {content_length} bytes but "
                                  f"{len(data)} arrived")
            self.blob_store.check_size(len(data), "artifact")
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
            self.blob_store.signer().verify("GET", blob, query, self.clock.now())
        with self.blob_store.store.read() as conn:
            found = blobs.load_blob(conn, blob.taskId, blob.runId, blob.name)
        if found is None:
            raise not_found("The specified key does not exist.")
        return found


class ObjectType(StorageType):
    name = "object"
    present = False  # present only after finishArtifact
    announced = False  # announced by finishArtifact

    def __init__(self, records: Records, clock: Clock, rng: random.Random,
                 credential_issuer: CredentialIssuer, objects: ObjectService,
                 blob_store: blobs.BlobStore) -> None:
        self.records = records
        self.clock = clock
        self.rng = rng
        self.credential_issuer = credential_issuer
        self.objects = objects
        self.blob_store = blob_store

    def _slugid(self) -> str:
        """A v4 "nice" slugid from the backend's seeded random source."""
        raw = bytearray(self.rng.getrandbits(128).to_bytes(16, "big"))
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        raw[0] &= 0x7F
        return base64.urlsafe_b64encode(bytes(raw)).decode("ascii")[:22]

    def details(self, c: Creation) -> dict[str, Any]:
        return {"uploadId": self._slugid()}

    def reply(self, c: Creation, artifact: Artifact) -> dict[str, Any]:
        object_name = blobs.object_name(c.taskId, c.runId, c.name)
        expiry = min(c.expires, c.now + UPLOAD_CREDENTIALS_MAX)
        credentials = self.credential_issuer(
            f"artifact-upload/{c.taskId}/{c.runId}/on/{c.workerGroup}/{c.workerId}",
            [f"object:upload:{c.task['projectId']}:{object_name}"], c.now, expiry)
        return {"storageType": "object", "name": object_name,
                "projectId": c.task["projectId"], "uploadId": artifact.details["uploadId"],
                "expires": to_json(c.expires), "credentials": credentials}

    def finish(self, conn: sqlite3.Connection, artifact: Artifact, uploadId: Any) -> None:
        if artifact.present:
            return  # finishing again is idempotent
        if uploadId != artifact.details.get("uploadId"):
            raise input_error("given uploadId does not match that for the artifact")
        if not self.objects.finished(conn, blobs.object_name(artifact.taskId, artifact.runId,
                                                             artifact.name)):
            raise input_error("Object storing artifact data does not exist")
        # Present from now on; the uploadId has done its job.
        conn.execute("UPDATE artifacts SET present = 1, details = '{}' "
                     "WHERE task_id = ? AND run_id = ? AND name = ?",
                     (artifact.taskId, artifact.runId, artifact.name))

    def url(self, artifact: Artifact, root_url: str) -> str:
        """The Object service's "simple" download URL (always signed)."""
        return self.objects.download_url(
            root_url, blobs.object_name(artifact.taskId, artifact.runId, artifact.name))

    def content(self, artifact: Artifact, root_url: str) -> dict[str, Any]:
        object_name = blobs.object_name(artifact.taskId, artifact.runId, artifact.name)
        now = self.clock.now()
        credentials = self.credential_issuer(
            f"artifact-download/{artifact.taskId}/{artifact.runId}/{artifact.name}",
            [f"object:download:{object_name}"], now, now + DOWNLOAD_CREDENTIALS)
        return {"storageType": "object", "name": object_name, "credentials": credentials}

    # -- the bytes (plain HTTP, used by the HTTP layer) ---------------------------------------
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
        with self.blob_store.store.transaction() as conn:
            artifact = rows.load(conn, taskId, runId, artifact_name)
            if artifact is None or artifact.storageType != "object":
                raise not_found(f"No object artifact `{artifact_name}` on run {runId} of task "
                                f"`{taskId}`")
            if artifact.present:
                raise conflict("This object artifact is finished; its data cannot change")
            if not query.get("uploadId") or query["uploadId"] != artifact.details.get("uploadId"):
                raise input_error("given uploadId does not match that for the artifact")
            self.blob_store.check_size(len(data), "artifact")
            task = self.records.get_task(conn, taskId)
            self.objects.store_finished(
                conn, blobs.object_name(taskId, runId, artifact_name),
                task["projectId"] if task is not None else "none", artifact.expires,
                (content_type or "").strip() or artifact.contentType, data)

    def get_object(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """The bytes behind an object download URL (``key``: raw path after /mock/v1/objects/)."""
        return self.objects.get_data(key, query)


class ReferenceType(StorageType):
    name = "reference"

    def details(self, c: Creation) -> dict[str, Any]:
        return {"url": _field(c.body, "url")}

    def url(self, artifact: Artifact, root_url: str) -> str:
        return artifact.details["url"]


class LinkType(StorageType):
    """A link is followed to its target before anything asks where its content is."""

    name = "link"

    def details(self, c: Creation) -> dict[str, Any]:
        return {"artifact": _field(c.body, "artifact")}


class ErrorType(StorageType):
    name = "error"

    def details(self, c: Creation) -> dict[str, Any]:
        return {"message": _field(c.body, "message"), "reason": _field(c.body, "reason")}

    def redirect(self, artifact: Artifact, root_url: str) -> Reply:
        # Not the error envelope: a plain {reason, message} with 424.
        return Reply({"reason": artifact.details["reason"],
                      "message": artifact.details["message"]}, status=424,
                     headers={STORAGE_HEADER: "error"})

    def content(self, artifact: Artifact, root_url: str) -> dict[str, Any]:
        return {"storageType": "error", "reason": artifact.details["reason"],
                "message": artifact.details["message"]}


#: Every storage type, one handler class each (the request schemas' ``storageType`` values).
STORAGE_TYPES: tuple[type[StorageType], ...] = (S3Type, ObjectType, ReferenceType, LinkType,
                                                ErrorType)
