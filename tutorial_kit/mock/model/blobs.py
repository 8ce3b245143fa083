"""The mock queue's own "S3": buckets, blob URLs, their signatures, and the ``blobs`` table.

The real queue hands out pre-signed S3 URLs: a ``putUrl`` for uploading an ``s3`` artifact
(about 45 minutes), unsigned GET URLs for the public bucket and signed GET URLs (30 minutes) for
the private one. The mock serves the same flow itself, under ``<rootUrl>/mock/v1/blobs/``:

    <rootUrl>/mock/v1/blobs/<bucket>/<taskId>/<runId>/<name>?X-Amz-...

``bucket`` is ``public`` for names starting ``public/`` and ``private`` otherwise (the old s3
rule). A signature is an HMAC-SHA256 with a per-backend secret over the verb, the bucket, the
artifact's (taskId, runId, name) and the validity window; the query parameters borrow the names
of S3's pre-signed URLs (so golden-trace comparisons line up) but the algorithm is our own and
says so (``X-Amz-Algorithm=MOCK-HMAC-SHA256``). Times come from the mock clock, so moving the
clock expires URLs as it would in real life.

Bytes live in SQLite, keyed by (taskId, runId, name): an artifact name never reaches the file
system, so no name can escape anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, unquote, urlencode

from .errors import QueueError, not_found
from .store import Store

#: Where the HTTP layer mounts the blob store and the minimal object-upload path.
BLOBS_PATH = "/mock/v1/blobs/"
OBJECTS_PATH = "/mock/v1/objects/"

PUBLIC_BUCKET = "public"
PRIVATE_BUCKET = "private"
BUCKETS = (PUBLIC_BUCKET, PRIVATE_BUCKET)

#: createArtifact's ``expires`` for an s3 upload: now + 45 min. The URL itself gets 10 s more
#: for clock drift, as the real queue does (``X-Amz-Expires=2710``).
PUT_URL_LIFETIME = timedelta(minutes=45)
PUT_URL_SECONDS = 45 * 60 + 10
#: Signed download URLs of the private bucket.
GET_URL_SECONDS = 30 * 60
#: Default upper bound for one upload; ``BlobStore.max_bytes`` (the backend's
#: ``max_blob_bytes``) overrides it.
DEFAULT_MAX_BLOB_BYTES = 100 * 1024 * 1024

ALGORITHM = "MOCK-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_MAX_EXPIRES = 7 * 24 * 3600  # S3's own upper bound for a pre-signed URL
_ACTION = {"PUT": "PutObject", "GET": "GetObject"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    stored TEXT NOT NULL,
    PRIMARY KEY (task_id, run_id, name)
);
CREATE TABLE IF NOT EXISTS blob_secrets (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL
);
"""


def bucket_for(name: str) -> str:
    """``public`` for names starting ``public/``, ``private`` for every other name."""
    return PUBLIC_BUCKET if name.startswith("public/") else PRIVATE_BUCKET


def encode_name(name: str) -> str:
    """An artifact name as URL path text.

    Slashes stay readable (``public/logs/live.log``) unless a segment is empty, ``.`` or ``..``,
    which browsers and proxies would collapse; then the whole name becomes one encoded segment.
    """
    if any(seg in ("", ".", "..") for seg in name.split("/")):
        return quote(name, safe="").replace(".", "%2E")
    return quote(name, safe="/")


@dataclass(frozen=True)
class BlobKey:
    """Which blob: the artifact it belongs to and the bucket its name implies."""

    bucket: str
    taskId: str
    runId: int
    name: str

    @classmethod
    def for_artifact(cls, taskId: str, runId: int, name: str) -> BlobKey:
        return cls(bucket_for(name), taskId, int(runId), name)

    @property
    def path(self) -> str:
        """``<bucket>/<taskId>/<runId>/<encoded name>`` (what follows ``/mock/v1/blobs/``)."""
        return f"{self.bucket}/{quote(self.taskId, safe='')}/{self.runId}/{encode_name(self.name)}"

    @classmethod
    def parse(cls, raw: str) -> BlobKey:
        """Parse the *raw* (still percent-encoded) path after ``/mock/v1/blobs/``.

        Raises QueueError 404 for anything that cannot name a blob.
        """
        parts = raw.lstrip("/").split("/", 3)
        if len(parts) != 4 or not parts[3]:
            raise not_found(f"No such blob: {raw!r}")
        bucket, task_id, run_id, name = parts[0], unquote(parts[1]), parts[2], unquote(parts[3])
        if bucket not in BUCKETS or not run_id.isdigit() or not task_id or len(run_id) > 4:
            raise not_found(f"No such blob: {raw!r}")
        key = cls(bucket, task_id, int(run_id), name)
        if bucket != bucket_for(name):
            # The bucket is implied by the name; any other combination names nothing.
            raise not_found(f"No such blob: {raw!r}")
        return key


def blob_url(root_url: str, key: BlobKey) -> str:
    """The unsigned URL of a blob (how public-bucket downloads look)."""
    return f"{root_url.rstrip('/')}{BLOBS_PATH}{key.path}"


def object_name(taskId: str, runId: int, name: str) -> str:
    """The object-service name of an ``object`` artifact: ``t/<taskId>/<runId>/<name>``."""
    return f"t/{taskId}/{runId}/{name}"


def parse_object_name(raw: str) -> tuple[str, int, str]:
    """``t/<taskId>/<runId>/<name>`` (raw path after ``/mock/v1/objects/``) -> its parts."""
    parts = raw.lstrip("/").split("/", 3)
    if len(parts) != 4 or parts[0] != "t" or not parts[2].isdigit() or not parts[3] \
            or len(parts[2]) > 4:
        raise not_found(f"No such object: {raw!r}")
    return unquote(parts[1]), int(parts[2]), unquote(parts[3])


def object_upload_url(root_url: str, name: str, uploadId: str) -> str:
    """Where a worker PUTs the bytes of an ``object`` artifact in the mock.

    ``name`` is the object name createArtifact returned; the ``uploadId`` query parameter
    proves the uploader is the caller of createArtifact (there is no object service to check
    its credentials).
    """
    return (f"{root_url.rstrip('/')}{OBJECTS_PATH}{quote(name, safe='/')}?"
            + urlencode({"uploadId": uploadId}))


class BlobSigner:
    """Signs and verifies blob URLs with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a blob signing secret needs at least 16 bytes")
        self._secret = secret

    def _mac(self, verb: str, key: BlobKey, amz_date: str, seconds: str) -> str:
        text = "\n".join([ALGORITHM, verb, key.bucket, key.taskId, str(key.runId), key.name,
                          amz_date, seconds])
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(self, verb: str, key: BlobKey, now: datetime, seconds: int) -> dict[str, str]:
        """Query parameters that make ``verb`` on ``key`` valid for ``seconds`` from ``now``."""
        if verb not in _ACTION:
            raise ValueError(f"cannot sign {verb!r}")
        amz_date = now.astimezone(timezone.utc).strftime(_AMZ_DATE)
        return {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(int(seconds)),
            "X-Amz-Signature": self._mac(verb, key, amz_date, str(int(seconds))),
            "x-id": _ACTION[verb],
        }

    def signed_url(self, root_url: str, verb: str, key: BlobKey, now: datetime,
                   seconds: int) -> str:
        query = self.sign(verb, key, now, seconds)
        return blob_url(root_url, key) + "?" + urlencode(sorted(query.items()))

    def verify(self, verb: str, key: BlobKey, query: dict[str, str], now: datetime) -> None:
        """Raise QueueError 403 unless ``query`` is a valid, unexpired signature for this use."""
        needed = ("X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature")
        missing = [p for p in needed if not query.get(p)]
        if missing:
            raise _denied("This blob needs a signed URL; missing query parameter(s): "
                          + ", ".join(missing))
        if query["X-Amz-Algorithm"] != ALGORITHM:
            raise _denied(f"Unsupported signature algorithm {query['X-Amz-Algorithm']!r}; "
                          f"the mock signs with {ALGORITHM}")
        amz_date, seconds = query["X-Amz-Date"], query["X-Amz-Expires"]
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=timezone.utc)
        except ValueError:
            raise _denied("Malformed X-Amz-Date (expected YYYYMMDDTHHMMSSZ)") from None
        if not seconds.isdigit() or not 0 < int(seconds) <= _MAX_EXPIRES:
            raise _denied("X-Amz-Expires must be a whole number of seconds, at most 7 days")
        expected = self._mac(verb, key, amz_date, seconds)
        if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
            raise QueueError("SignatureDoesNotMatch",
                             "The request signature does not match this URL and verb",
                             status=403)
        if now > signed_at + timedelta(seconds=int(seconds)):
            raise _denied("Request has expired: this signed URL is no longer valid "
                          "(the mock's clock has passed its expiry)")


def _denied(message: str) -> QueueError:
    return QueueError("AccessDenied", message, status=403)


class BlobStore:
    """What ``s3`` artifacts and the Object service share: the store their bytes live in, the
    signing secret of their URLs, and the size limit of one upload (``max_bytes``, settable)."""

    def __init__(self, store: Store, max_bytes: int = DEFAULT_MAX_BLOB_BYTES) -> None:
        self.store = store
        self.max_bytes = max_bytes
        store.register_schema(SCHEMA)

    def signer(self) -> BlobSigner:
        """The signer with this store's secret (created, and kept, on first use)."""
        with self.store.read() as conn:
            secret = load_secret(conn, create=False)
        if secret is None:
            with self.store.transaction() as conn:
                secret = load_secret(conn, create=True)
        return BlobSigner(secret)

    def check_size(self, size: int, per: str) -> None:
        """413 ``InputTooLarge`` for an upload over ``max_bytes`` (``per``: artifact, object)."""
        if size > self.max_bytes:
            raise QueueError("InputTooLarge", f"The upload is {size} bytes; this mock stores "
                             f"at most {self.max_bytes} bytes per {per}")


# -- the blobs table ----------------------------------------------------------------------------

def load_secret(conn: sqlite3.Connection, *, create: bool) -> bytes | None:
    """The backend's signing secret; created (random) on first use when ``create``.

    Kept in the store so URLs signed before a restart of a file-backed mock stay valid.
    """
    row = conn.execute("SELECT secret FROM blob_secrets WHERE name = 'blobs'").fetchone()
    if row is not None:
        return bytes(row[0])
    if not create:
        return None
    secret = secrets.token_bytes(32)
    conn.execute("INSERT INTO blob_secrets (name, secret) VALUES ('blobs', ?)", (secret,))
    return secret


def store_blob(conn: sqlite3.Connection, taskId: str, runId: int, name: str, content_type: str,
               data: bytes, stored: str) -> None:
    """Insert or replace the bytes of one artifact (a repeated PUT overwrites, as S3 does)."""
    conn.execute(
        "INSERT INTO blobs (task_id, run_id, name, content_type, size, data, stored) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (task_id, run_id, name) DO UPDATE SET content_type = excluded.content_type, "
        "size = excluded.size, data = excluded.data, stored = excluded.stored",
        (taskId, runId, name, content_type, len(data), sqlite3.Binary(data), stored))


def load_blob(conn: sqlite3.Connection, taskId: str, runId: int,
              name: str) -> tuple[bytes, str] | None:
    row = conn.execute("SELECT data, content_type FROM blobs WHERE task_id = ? AND run_id = ? "
                       "AND name = ?", (taskId, runId, name)).fetchone()
    if row is None:
        return None
    return bytes(row[0]), row[1]


def delete_blob(conn: sqlite3.Connection, taskId: str, runId: int, name: str) -> None:
    conn.execute("DELETE FROM blobs WHERE task_id = ? AND run_id = ? AND name = ?",
                 (taskId, runId, name))


def list_blobs(conn: sqlite3.Connection) -> list[dict[str, object]]:
    """Blob metadata (no bytes), for the state dump."""
    rows = conn.execute("SELECT task_id, run_id, name, content_type, size, stored FROM blobs "
                        "ORDER BY task_id, run_id, name").fetchall()
    return [{"bucket": bucket_for(r[2]), "taskId": r[0], "runId": r[1], "name": r[2],
             "contentType": r[3], "size": r[4], "stored": r[5]} for r in rows]
