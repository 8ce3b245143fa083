"""The mock's Object service: objects, their uploads and downloads (``/api/object/v1``).

A real deployment keeps artifact bytes in its Object service, and the official clients' helpers
(``taskcluster.upload`` / ``taskcluster.download``) talk to it directly: ``createUpload`` (the
service picks ``dataInline`` or ``putUrl`` from what the caller offers), a PUT of the bytes,
``finishUpload``; then ``startDownload`` (``getUrl``) or ``download`` (a 303 to the bytes).

Objects live in the ``objects`` table of the backend's store, bytes included. An object whose
``upload_id`` is set is an upload in progress; ``finishUpload`` clears it and from then on the
object is immutable and downloadable. The "backend storage" URLs (``putUrl``, ``getUrl``) point
at ``<rootUrl>/mock/v1/objects/<name>`` and are signed with the blob store's secret, under a
bucket name of their own (``object``) so a blob signature never opens an object or back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode

from . import blobs
from .clock import Clock
from tutorial_kit.dates import parse_date, to_json
from .errors import QueueError, conflict, input_error, not_found
from .store import Store

#: Where the HTTP layer serves the bytes behind putUrl / getUrl.
OBJECTS_PATH = blobs.OBJECTS_PATH
#: The download methods the mock offers, best first (as the real service orders them).
DOWNLOAD_METHODS = ("getUrl", "simple")
#: Unfinished uploads are forgotten after a day, as the real service does.
UPLOAD_LIFETIME = timedelta(days=1)
#: A putUrl works 45 minutes (10 s more for clock drift); a download URL 30 minutes.
PUT_URL_SECONDS = 45 * 60
GET_URL_SECONDS = blobs.GET_URL_SECONDS
#: dataInline carries at most this many bytes (decoded).
DATA_INLINE_MAX = 8192
#: Hash algorithms a downloader accepts (at least one must be present).
ACCEPTABLE_HASHES = ("sha256", "sha512")
_SIGNING_BUCKET = "object"

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    name TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    upload_id TEXT,
    upload_expires TEXT NOT NULL,
    expires TEXT NOT NULL,
    hashes TEXT NOT NULL,
    content_type TEXT,
    data BLOB
);
CREATE INDEX IF NOT EXISTS objects_expires ON objects (expires);
"""

_COLUMNS = "name, project_id, upload_id, upload_expires, expires, hashes, content_type, data"


def hashes_of(data: bytes) -> dict[str, str]:
    """The hashes the official upload helper sends for ``data``."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


def object_url(root_url: str, name: str) -> str:
    """The unsigned URL of an object's bytes (the signature goes in the query)."""
    return f"{root_url.rstrip('/')}{OBJECTS_PATH}{blobs.encode_name(name)}"


def _key(name: str) -> blobs.BlobKey:
    # The blob signer signs (bucket, taskId, runId, name); an object is named by its name alone.
    return blobs.BlobKey(_SIGNING_BUCKET, name, 0, "-")


def _not_found(name: str) -> QueueError:
    return not_found(f'Object "{name}" not found')


class _Row:
    __slots__ = ("name", "projectId", "uploadId", "uploadExpires", "expires", "hashes",
                 "contentType", "data")

    def __init__(self, row: sqlite3.Row | tuple) -> None:
        (self.name, self.projectId, self.uploadId, self.uploadExpires, self.expires, hashes,
         self.contentType, data) = tuple(row)
        self.hashes: dict[str, str] = json.loads(hashes)
        self.data: bytes | None = bytes(data) if data is not None else None

    @property
    def finished(self) -> bool:
        return self.uploadId is None


def _load(conn: sqlite3.Connection, name: str) -> _Row | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM objects WHERE name = ?", (name,)).fetchone()
    return _Row(row) if row is not None else None


def _merge_hashes(conn: sqlite3.Connection, row: _Row, hashes: dict[str, str] | None) -> None:
    """Add hashes to an object; an algorithm already set may not change (409)."""
    if not hashes:
        return
    merged = dict(row.hashes)
    for algo, value in hashes.items():
        if algo in merged and merged[algo] != value:
            raise conflict("Content hash already exists with a different value")
        merged[algo] = value
    conn.execute("UPDATE objects SET hashes = ? WHERE name = ?",
                 (json.dumps(merged, sort_keys=True), row.name))
    row.hashes = merged


class ObjectService:
    """The Object service's model over the backend's store, clock and blob store (its
    signing secret and size limit).

    Every method takes the authenticated caller and checks the real service's scopes itself,
    since two of them need ``projectId`` from the body.
    """

    def __init__(self, store: Store, clock: Clock, blob_store: blobs.BlobStore) -> None:
        self.store = store
        self.clock = clock
        self.blob_store = blob_store
        store.register_schema(SCHEMA)

    @property
    def _now(self) -> datetime:
        return self.clock.now()

    # -- housekeeping ---------------------------------------------------------------------
    def expire(self, conn: sqlite3.Connection, now: datetime) -> int:
        """Forget objects past ``expires`` and uploads left unfinished for a day."""
        cutoff = to_json(now)
        gone = conn.execute("DELETE FROM objects WHERE expires < ? OR (upload_id IS NOT NULL "
                            "AND upload_expires < ?)", (cutoff, cutoff)).rowcount
        return gone or 0

    def finished(self, conn: sqlite3.Connection, name: str) -> bool:
        """Has the object been uploaded and finished? (the queue's finishArtifact asks)"""
        row = _load(conn, name)
        return row is not None and row.finished

    def store_finished(self, conn: sqlite3.Connection, name: str, project_id: str,
                       expires: str, content_type: str, data: bytes) -> None:
        """Create a finished object in one step (the mock's shortcut upload for workers that
        predate the Object service; see ``ObjectType.put_object`` in :mod:`.storagetypes`)."""
        now = self._now
        conn.execute(
            f"INSERT INTO objects ({_COLUMNS}) VALUES (?, ?, NULL, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET upload_id = NULL, hashes = excluded.hashes, "
            "content_type = excluded.content_type, data = excluded.data",
            (name, project_id, to_json(now + UPLOAD_LIFETIME), expires,
             json.dumps(hashes_of(data), sort_keys=True), content_type, sqlite3.Binary(data)))

    # -- signed URLs of the bytes -----------------------------------------------------------
    def signed_url(self, root_url: str, verb: str, name: str, seconds: int) -> str:
        query = self.blob_store.signer().sign(verb, _key(name), self._now, seconds)
        return object_url(root_url, name) + "?" + urlencode(sorted(query.items()))

    def download_url(self, root_url: str, name: str) -> str:
        """A signed GET URL of a finished object's bytes (30 minutes)."""
        return self.signed_url(root_url, "GET", name, GET_URL_SECONDS)

    # -- the API ----------------------------------------------------------------------------
    def createUpload(self, name: str, body: dict[str, Any], caller: Any,
                     root_url: str) -> dict[str, Any]:
        projectId, uploadId = body["projectId"], body["uploadId"]
        caller.authorize("object:upload:<projectId>:<name>", {"projectId": projectId,
                                                               "name": name})
        try:
            expires = to_json(parse_date(body["expires"]))
        except ValueError as e:
            raise input_error(f"`expires` is not a valid date-time: {e}") from None
        now = self._now
        proposed = body.get("proposedUploadMethods") or {}
        with self.store.transaction() as conn:
            row = _load(conn, name)
            if row is None:
                conn.execute(
                    f"INSERT INTO objects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, '{{}}', NULL, NULL)",
                    (name, projectId, uploadId, to_json(now + UPLOAD_LIFETIME), expires))
                row = _load(conn, name)
                assert row is not None
            elif (row.finished or row.uploadId != uploadId or row.projectId != projectId
                  or parse_date(row.expires) != parse_date(expires)):
                # Only the holder of the uploadId may go on, with the same projectId and
                # expires; a finished object never changes.
                raise conflict("Object already exists")
            _merge_hashes(conn, row, body.get("hashes"))
            method: dict[str, Any] = {}
            if "dataInline" in proposed:
                inline = proposed["dataInline"]
                try:
                    data = base64.b64decode(inline["objectData"], validate=True)
                except (binascii.Error, ValueError):
                    raise input_error("Invalid base64 objectData") from None
                if len(data) > DATA_INLINE_MAX:
                    raise input_error(f"dataInline carries at most {DATA_INLINE_MAX} bytes; "
                                      f"this is {len(data)}. Offer putUrl for larger data.")
                conn.execute("UPDATE objects SET data = ?, content_type = ? WHERE name = ?",
                             (sqlite3.Binary(data), inline["contentType"], name))
                method = {"dataInline": True}
            elif "putUrl" in proposed:
                put = proposed["putUrl"]
                conn.execute("UPDATE objects SET content_type = ? WHERE name = ?",
                             (put["contentType"], name))
                method = {"putUrl": {
                    # the URL itself lives 10 s longer, for clock drift
                    "url": self.signed_url(root_url, "PUT", name, PUT_URL_SECONDS + 10),
                    "expires": to_json(now + timedelta(seconds=PUT_URL_SECONDS)),
                    "headers": {"Content-Type": put["contentType"],
                                "Content-Length": str(put["contentLength"])},
                }}
        return {"projectId": projectId, "uploadId": uploadId, "expires": body["expires"],
                "uploadMethod": method}

    def finishUpload(self, name: str, body: dict[str, Any], caller: Any) -> dict[str, Any]:
        projectId, uploadId = body["projectId"], body["uploadId"]
        caller.authorize("object:upload:<projectId>:<name>", {"projectId": projectId,
                                                               "name": name})
        with self.store.transaction() as conn:
            row = _load(conn, name)
            if row is None:
                raise _not_found(name)
            if row.projectId != projectId:
                raise input_error(f'Object "{name}" does not have projectId {projectId}')
            hashes = body.get("hashes") or {}
            if row.finished:
                # Idempotent, as long as no hash is new or different.
                for algo, value in hashes.items():
                    if algo not in row.hashes:
                        raise conflict(f'Object "{name}" is already finished, but without '
                                       f"hash algorithm {algo}")
                    if row.hashes[algo] != value:
                        raise conflict(f'Object "{name}" is already finished, but with a '
                                       f"different hash for algorithm {algo}")
                return {}
            if row.uploadId != uploadId:
                raise conflict(f'Object "{name}" does not have uploadId {uploadId}')
            if row.data is None:
                # The real storage would only notice at download time; say it now.
                raise input_error(f'No data has arrived for object "{name}": PUT the bytes to '
                                  "the putUrl createUpload returned before finishUpload")
            _merge_hashes(conn, row, hashes)
            if not row.hashes:
                _merge_hashes(conn, row, hashes_of(row.data))
            conn.execute("UPDATE objects SET upload_id = NULL WHERE name = ?", (name,))
        return {}

    def _finished_row(self, name: str, caller: Any) -> _Row:
        caller.authorize("object:download:<name>", {"name": name})
        with self.store.read() as conn:
            row = _load(conn, name)
        if row is None or not row.finished:
            raise _not_found(name)
        return row

    def startDownload(self, name: str, body: dict[str, Any], caller: Any,
                      root_url: str) -> dict[str, Any]:
        row = self._finished_row(name, caller)
        accepted = body.get("acceptDownloadMethods") or {}
        matching = [m for m in DOWNLOAD_METHODS if m in accepted]
        if not matching:
            raise QueueError("NoMatchingMethod",
                             f"Object supports methods {', '.join(DOWNLOAD_METHODS)}",
                             status=406)
        url = self.download_url(root_url, name)
        if matching[0] == "simple":
            return {"method": "simple", "url": url}
        return {"method": "getUrl", "url": url,
                "expires": to_json(self._now + timedelta(seconds=GET_URL_SECONDS)),
                "hashes": row.hashes}

    def object(self, name: str, caller: Any) -> dict[str, Any]:
        row = self._finished_row(name, caller)
        return {"projectId": row.projectId, "expires": row.expires, "hashes": row.hashes}

    def download(self, name: str, caller: Any, root_url: str) -> str:
        """Where ``download`` redirects (303) to: the object's bytes."""
        self._finished_row(name, caller)
        return self.download_url(root_url, name)

    # -- the bytes (plain HTTP, signed URLs, no Taskcluster auth) ---------------------------
    def put_data(self, raw_key: str, query: dict[str, str], data: bytes,
                 content_type: str | None, content_length: int | None) -> None:
        """The PUT to a putUrl. Raises 403 (signature), 404, 409 (finished), 400, 413."""
        name = unquote(raw_key)
        self.blob_store.signer().verify("PUT", _key(name), query, self._now)
        with self.store.transaction() as conn:
            row = _load(conn, name)
            if row is None:
                raise _not_found(name)
            if row.finished:
                raise conflict(f'Object "{name}" is finished; its data cannot change')
            if content_length is not None and content_length != len(data):
                raise input_error(f"Content-Length says {content_length} bytes but "
                                  f"{len(data)} arrived")
            self.blob_store.check_size(len(data), "object")
            wanted = row.contentType
            if wanted and (content_type or "").strip() != wanted:
                raise input_error(f"Content-Type must be `{wanted}` as proposed in "
                                  f"createUpload, not `{content_type or ''}`")
            conn.execute("UPDATE objects SET data = ? WHERE name = ?",
                         (sqlite3.Binary(data), name))

    def get_data(self, raw_key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """The bytes behind a getUrl/simple URL. Raises 403 (signature) or 404."""
        name = unquote(raw_key)
        self.blob_store.signer().verify("GET", _key(name), query, self._now)
        with self.store.read() as conn:
            row = _load(conn, name)
        if row is None or not row.finished or row.data is None:
            raise not_found("The specified key does not exist.")
        return row.data, row.contentType or "application/octet-stream"
