"""The mock's own "S3": keys, URL signatures on the mock clock, and the blob entry points
(``put_blob``/``get_blob``/``put_object``) — directly, and once through a real HTTP server with
the official client."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutorial_kit.mock.model import blobs
from tutorial_kit.mock.model.errors import QueueError

from .test_artifacts import T0, Harness, split_blob_url

PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                    min_size=1, max_size=80)
SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def mock() -> Harness:
    h = Harness()
    yield h
    h.backend.close()


def raises(status: int, fn, *args, **kw) -> QueueError:
    with pytest.raises(QueueError) as info:
        fn(*args, **kw)
    assert info.value.status == status, info.value
    return info.value


# == keys =========================================================================================

def test_bucket_follows_the_public_prefix() -> None:
    assert blobs.bucket_for("public/a") == "public"
    assert blobs.bucket_for("public") == "private"  # no slash: not under public/
    assert blobs.bucket_for("Public/a") == "private"
    assert blobs.bucket_for("private/a") == "private"


@settings(max_examples=300, deadline=None)
@given(name=PRINTABLE)
def test_every_printable_name_round_trips_through_a_key(name: str) -> None:
    key = blobs.BlobKey.for_artifact("Ux4Kw_M5QGGEWwzjYc9jiQ", 3, name)
    path = key.path
    assert blobs.BlobKey.parse(path) == key
    # The URL path never carries a segment that a browser or proxy would collapse, nor a
    # character that would end the path.
    assert not any(seg in ("", ".", "..") for seg in path.split("/"))
    assert "?" not in path and "#" not in path and " " not in path
    assert urlsplit(blobs.blob_url("http://h:1", key)).path == "/mock/v1/blobs/" + path


@pytest.mark.parametrize("raw", [
    "", "public", "public/T/0", "public/T/0/", "other/T/0/public/x", "public/T/x/public/a",
    "public/T/0/private/a",  # a private name under the public bucket
    "private/T/0/public/a",  # and the reverse
    "public/T/99999/public/a",
])
def test_keys_that_name_nothing_are_404(raw: str) -> None:
    raises(404, blobs.BlobKey.parse, raw)


def test_object_names() -> None:
    name = blobs.object_name("Ux4Kw_M5QGGEWwzjYc9jiQ", 2, "public/a b.bin")
    assert name == "t/Ux4Kw_M5QGGEWwzjYc9jiQ/2/public/a b.bin"
    url = blobs.object_upload_url("http://h:1", name, "MxXT0qdPRR2FHvNz2tjgnQ")
    raw = urlsplit(url).path.split(blobs.OBJECTS_PATH, 1)[1]
    assert blobs.parse_object_name(raw) == ("Ux4Kw_M5QGGEWwzjYc9jiQ", 2, "public/a b.bin")
    assert dict(parse_qsl(urlsplit(url).query)) == {"uploadId": "MxXT0qdPRR2FHvNz2tjgnQ"}
    for bad in ("x/T/0/a", "t/T/zero/a", "t/T/0/", "t/T"):
        raises(404, blobs.parse_object_name, bad)


# == signatures ===================================================================================

KEY = blobs.BlobKey.for_artifact("Ux4Kw_M5QGGEWwzjYc9jiQ", 0, "private/secret.txt")


def test_signature_verifies_until_it_expires() -> None:
    signer = blobs.BlobSigner(SECRET)
    query = signer.sign("GET", KEY, T0, 1800)
    assert set(query) == {"X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature",
                          "x-id"}
    signer.verify("GET", KEY, query, T0)
    signer.verify("GET", KEY, query, T0 + timedelta(seconds=1800))
    err = raises(403, signer.verify, "GET", KEY, query, T0 + timedelta(seconds=1801))
    assert "expired" in err.message


@pytest.mark.parametrize("change", [
    {"X-Amz-Signature": "0" * 64},
    {"X-Amz-Date": "20300101T120001Z"},
    {"X-Amz-Expires": "999999"},
    {"X-Amz-Expires": "3600"},
])
def test_tampered_query_is_refused(change: dict) -> None:
    signer = blobs.BlobSigner(SECRET)
    query = {**signer.sign("GET", KEY, T0, 1800), **change}
    raises(403, signer.verify, "GET", KEY, query, T0)


def test_signature_binds_verb_key_and_secret() -> None:
    signer = blobs.BlobSigner(SECRET)
    query = signer.sign("PUT", KEY, T0, 60)
    raises(403, signer.verify, "GET", KEY, query, T0)  # an upload URL cannot download
    for other in (blobs.BlobKey.for_artifact(KEY.taskId, 1, KEY.name),
                  blobs.BlobKey.for_artifact(KEY.taskId, 0, KEY.name + "x"),
                  blobs.BlobKey.for_artifact("Vx4Kw_M5QGGEWwzjYc9jiQ", 0, KEY.name)):
        raises(403, signer.verify, "PUT", other, query, T0)
    raises(403, blobs.BlobSigner(b"another secret, 32 bytes long!!!").verify, "PUT", KEY,
           query, T0)
    for missing in ("X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Algorithm"):
        partial = {k: v for k, v in query.items() if k != missing}
        err = raises(403, signer.verify, "PUT", KEY, partial, T0)
        assert missing in err.message
    raises(403, signer.verify, "PUT", KEY, {**query, "X-Amz-Algorithm": "AWS4-HMAC-SHA256"}, T0)
    with pytest.raises(ValueError):
        blobs.BlobSigner(b"short")


# == put_blob / get_blob on the backend ===========================================================

def s3_artifact(mock: Harness, name: str = "public/data.txt", **body) -> tuple[str, str]:
    taskId = mock.running_task()
    reply = mock.create(taskId, name, {"storageType": "s3", "contentType": "text/plain", **body})
    return taskId, reply.body["putUrl"]


def test_put_url_lasts_45_minutes_on_the_mock_clock(mock: Harness) -> None:
    _, put_url = s3_artifact(mock)
    mock.clock.advance(timedelta(minutes=45))
    mock.upload(put_url, b"in time", "text/plain")
    mock.clock.advance(timedelta(seconds=11))
    err = raises(403, mock.upload, put_url, b"too late", "text/plain")
    assert err.code == "AccessDenied"


def test_private_download_url_lasts_30_minutes(mock: Harness) -> None:
    taskId, put_url = s3_artifact(mock, "private/p.txt")
    mock.upload(put_url, b"private bytes", "text/plain")
    url = mock.call("getArtifact", taskId, 0, "private/p.txt").body["url"]
    mock.clock.advance(timedelta(minutes=30))
    assert mock.download(url) == (b"private bytes", "text/plain")
    mock.clock.advance(timedelta(seconds=1))
    raises(403, mock.download, url)
    # A fresh getArtifact signs a fresh URL.
    fresh = mock.call("getArtifact", taskId, 0, "private/p.txt").body["url"]
    assert mock.download(fresh)[0] == b"private bytes"


def test_put_checks(mock: Harness) -> None:
    taskId, put_url = s3_artifact(mock)
    key, query = split_blob_url(put_url)
    raises(400, mock.backend.put_blob, key, query, b"x", "application/json")
    raises(400, mock.backend.put_blob, key, query, b"x", None)
    raises(400, mock.backend.put_blob, key, query, b"abc", "text/plain", content_length=4)
    mock.backend.max_blob_bytes = 4
    err = raises(413, mock.backend.put_blob, key, query, b"12345", "text/plain")
    assert err.code == "InputTooLarge"
    mock.backend.put_blob(key, query, b"1234", "text/plain")
    # A repeated PUT replaces the bytes, as S3 does.
    mock.backend.put_blob(key, query, b"5678", "text/plain")
    assert mock.download(mock.call("getArtifact", taskId, 0, "public/data.txt").body["url"]) \
        == (b"5678", "text/plain")
    # The key in the path is what the signature covers.
    other = key.replace("public/data.txt", "public/other.txt")
    raises(403, mock.backend.put_blob, other, query, b"1", "text/plain")


def test_put_and_get_of_things_that_are_not_there(mock: Harness) -> None:
    taskId = mock.running_task()
    # Signed properly, but no s3 artifact of that name (a reference) -> 404.
    mock.create(taskId, "public/ref", {"storageType": "reference", "contentType": "text/plain",
                                       "url": "https://example.com/"})
    key = blobs.BlobKey.for_artifact(taskId, 0, "public/ref")
    url = mock.backend.blob_store.signer().signed_url("http://x", "PUT", key, mock.now, 60)
    parts = urlsplit(url)
    raw, query = parts.path.split(blobs.BLOBS_PATH, 1)[1], dict(parse_qsl(parts.query))
    raises(404, mock.backend.put_blob, raw, query, b"1", "text/plain")
    # Nothing uploaded yet -> 404 on download.
    _, put_url = s3_artifact(mock, "public/empty.txt")
    raw, _ = split_blob_url(put_url)
    raises(404, mock.backend.get_blob, raw, {})
    raises(404, mock.backend.get_blob, "public/nothing", {})


def test_put_object_checks(mock: Harness) -> None:
    taskId = mock.running_task()
    raises(404, mock.backend.put_object, f"t/{taskId}/0/public/none", {"uploadId": "x"}, b"", None)
    mock.create(taskId, "public/s3", {"storageType": "s3", "contentType": "text/plain"})
    raises(404, mock.backend.put_object, f"t/{taskId}/0/public/s3", {"uploadId": "x"}, b"", None)
    reply = mock.create(taskId, "public/o", {"storageType": "object",
                                             "contentType": "application/octet-stream"})
    raises(400, mock.backend.put_object, reply.body["name"], {}, b"", None)
    mock.backend.max_blob_bytes = 2
    raises(413, mock.backend.put_object, reply.body["name"],
           {"uploadId": reply.body["uploadId"]}, b"123", None)


# == through HTTP, with the official client =======================================================

def test_s3_upload_and_download_over_http() -> None:
    taskcluster = pytest.importorskip("taskcluster")
    from tutorial_kit.mock import server

    mock = server.start(workers=False, claim_wait=0.2)
    try:
        queue = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials,
                                   "maxRetries": 0})
        taskId = taskcluster.slugId()
        queue.createTask(taskId, {
            "taskQueueId": "blobs/http", "created": taskcluster.fromNowJSON("0 seconds"),
            "deadline": taskcluster.fromNowJSON("1 hour"), "payload": {},
            "metadata": {"name": "n", "description": "d", "owner": "o@example.com",
                         "source": "https://example.com/"}})
        claim = queue.claimWork("blobs/http", {"workerGroup": "wg", "workerId": "w1", "tasks": 1})
        worker = taskcluster.Queue({"rootUrl": mock.root_url, "maxRetries": 0,
                                    "credentials": claim["tasks"][0]["credentials"]})
        anonymous = taskcluster.Queue({"rootUrl": mock.root_url, "maxRetries": 0})
        with httpx.Client(timeout=10) as http:
            for name in ("public/hello world.txt", "private/odd ?#%.txt"):
                created = worker.createArtifact(taskId, 0, name, {
                    "storageType": "s3", "contentType": "text/plain",
                    "expires": taskcluster.fromNowJSON("1 hour")})
                data = f"bytes of {name}".encode()
                wrong = http.put(created["putUrl"], content=data,
                                 headers={"Content-Type": "text/html"})
                assert wrong.status_code == 400
                put = http.put(created["putUrl"], content=data,
                               headers={"Content-Type": "text/plain"})
                assert put.status_code == 200, put.text
                got = queue.getLatestArtifact(taskId, name)  # the 303's JSON body
                assert got["storageType"] == "s3"
                assert http.get(got["url"]).content == data
                signed = queue.buildSignedUrl("getLatestArtifact", taskId, name)
                assert http.get(signed, follow_redirects=True).content == data
            public = anonymous.buildUrl("getLatestArtifact", taskId, "public/hello world.txt")
            assert http.get(public, follow_redirects=True).content == \
                b"bytes of public/hello world.txt"
            private = urlsplit(queue.getLatestArtifact(taskId, "private/odd ?#%.txt")["url"])
            unsigned = f"{mock.root_url}{private.path}"
            assert http.get(unsigned).status_code == 403
    finally:
        mock.stop()
