"""The mock queue's artifact methods, driven directly (no HTTP) through the backend contract.

Each test builds a real QueueBackend (SQLite store, controllable clock, bus), creates and
claims tasks through the backend's own methods, and checks the artifact methods against
QUEUE-FACTS §e and the golden traces; replies and Pulse messages are validated against the
official schemas in ../shared (the oracle).
"""

from __future__ import annotations

import json
import pathlib
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from tutorial_kit.api import BY_NAME, SLUGID_PATTERN
from tutorial_kit.client.slugid import slugid
from tutorial_kit.mock.security import auth, scopes
from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mock.model.call import Call, Reply
from tutorial_kit.mock.model.clock import Clock
from tutorial_kit.dates import to_json
from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.model import storagetypes
from tutorial_kit.mock.web.validation import Validator

from .backend_helpers import ANONYMOUS, ROOT, Oracle, paused_clock

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
ROOT_URL = "http://127.0.0.1:8321"
ISSUER = ("mock-issuer", "issuer-access-token-for-tests-only")
_VALIDATOR = Validator()


def issue(client_id: str, scope_list: list, start: datetime, expiry: datetime) -> dict:
    return auth.issue_temporary_credentials(*ISSUER, client_id, scope_list, start, expiry)


class Harness:
    """A QueueBackend plus the two things the HTTP layer would do for a call: fill input
    defaults by schema, and check scope expressions that need only URL parameters."""

    def __init__(self, db_path: str | None = None, clock: Clock | None = None) -> None:
        self.clock = clock if clock is not None else paused_clock(T0)
        self.backend = QueueBackend(db_path=db_path, clock=self.clock, credential_issuer=issue)
        self.messages: list = []
        self.backend.bus.subscribe(self.messages.append)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def call(self, name: str, *args: Any, body: Any = None, query: dict | None = None,
             caller: auth.Caller = ROOT) -> Reply:
        entry = BY_NAME[name]
        params = dict(zip(entry.args, args))
        if "runId" in params:
            params["runId"] = int(params["runId"])
        if entry.input:
            body = _VALIDATOR.validate_input(entry.input, {} if body is None else body)
        if entry.scopes is not None and scopes.required_params(entry.scopes) <= set(entry.args):
            caller.authorize(entry.scopes, params)
        return self.backend.handle(Call(entry, params, dict(query or {}), body, caller,
                                        ROOT_URL))

    def error(self, name: str, *args: Any, **kw: Any) -> QueueError:
        with pytest.raises(QueueError) as info:
            self.call(name, *args, **kw)
        return info.value

    # -- tasks -------------------------------------------------------------------------------
    def create_task(self, *, queue: str = "prov/artifacts", **extra: Any) -> str:
        taskId = slugid()
        body = {"taskQueueId": queue, "created": to_json(self.now),
                "deadline": to_json(self.now + timedelta(days=1)), "payload": {},
                "metadata": {"name": "t", "description": "d", "owner": "o@example.com",
                             "source": "https://example.com/t"}, **extra}
        self.call("createTask", taskId, body=body)
        return taskId

    def claim(self, queue: str = "prov/artifacts") -> dict:
        reply = self.call("claimWork", queue, body={"workerGroup": "wg", "workerId": "w1",
                                                    "tasks": 1})
        assert len(reply.body["tasks"]) == 1
        return reply.body["tasks"][0]

    def running_task(self, **extra: Any) -> str:
        queue = f"prov/q{len(self.messages)}"
        taskId = self.create_task(queue=queue, **extra)
        self.claim(queue)
        return taskId

    def expires(self, **delta: float) -> str:
        return to_json(self.now + timedelta(**(delta or {"days": 1})))

    def create(self, taskId: str, name: str, body: dict, runId: int = 0) -> Reply:
        body = {"expires": self.expires(), **body}
        return self.call("createArtifact", taskId, runId, name, body=body)

    def upload(self, put_url: str, data: bytes, content_type: str | None) -> None:
        key, query = split_blob_url(put_url)
        self.backend.put_blob(key, query, data, content_type)

    def download(self, url: str) -> tuple[bytes, str]:
        if url.startswith(ROOT_URL + "/mock/v1/objects/"):  # an object artifact's bytes
            parts = urlsplit(url)
            return self.backend.get_object(parts.path.split("/mock/v1/objects/", 1)[1],
                                           dict(parse_qsl(parts.query)))
        key, query = split_blob_url(url)
        return self.backend.get_blob(key, query)

    def sent(self, exchange: str) -> list:
        return [m for m in self.messages if m.exchange.endswith("/" + exchange)]


def split_blob_url(url: str) -> tuple[str, dict[str, str]]:
    """The raw key after /mock/v1/blobs/ and the query, as the HTTP layer hands them over."""
    parts = urlsplit(url)
    assert url.startswith(ROOT_URL + "/mock/v1/blobs/"), url
    return parts.path.split("/mock/v1/blobs/", 1)[1], dict(parse_qsl(parts.query))


# -- the oracle (shared with the model's tests) ------------------------------------------------

@pytest.fixture(scope="session")
def oracle(oracle_schemas: pathlib.Path) -> Oracle:
    return Oracle(oracle_schemas)


@pytest.fixture
def mock() -> Harness:
    h = Harness()
    yield h
    h.backend.close()


def check_message(oracle: Oracle, message: Any, taskId: str, runId: int = 0) -> None:
    assert message.routing_key.split(".")[:5] == ["primary", taskId, str(runId), "wg", "w1"]
    oracle.check("artifact-created-message.json", message.payload)


# == s3 ===========================================================================================

def test_s3_end_to_end(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    before = len(mock.messages)
    reply = mock.create(taskId, "public/hello.txt", {"storageType": "s3",
                                                     "contentType": "text/plain"})
    oracle.check("post-artifact-response.json", reply.body)
    assert reply.body["expires"] == to_json(T0 + timedelta(minutes=45))  # the putUrl's expiry
    assert reply.body["contentType"] == "text/plain"
    put = urlsplit(reply.body["putUrl"])
    assert put.path == f"/mock/v1/blobs/public/{taskId}/0/public/hello.txt"
    assert dict(parse_qsl(put.query))["X-Amz-Expires"] == "2710"
    assert mock.messages[before:] == []  # s3 artifacts never announce themselves

    mock.upload(reply.body["putUrl"], b"hello golden\n", "text/plain")

    listing = mock.call("listArtifacts", taskId, 0).body
    oracle.check("list-artifacts-response.json", listing)
    assert listing == {"artifacts": [{"storageType": "s3", "name": "public/hello.txt",
                                      "expires": mock.expires(), "contentType": "text/plain"}]}
    assert mock.call("listLatestArtifacts", taskId, caller=ANONYMOUS).body == listing

    for got in (mock.call("getLatestArtifact", taskId, "public/hello.txt", caller=ANONYMOUS),
                mock.call("getArtifact", taskId, 0, "public/hello.txt")):
        assert got.status == 303
        oracle.check("get-artifact-response.json", got.body)
        url = f"{ROOT_URL}/mock/v1/blobs/public/{taskId}/0/public/hello.txt"  # unsigned
        assert got.body == {"storageType": "s3", "url": url}
        assert got.headers["Location"] == url
        assert got.headers["x-taskcluster-artifact-storage-type"] == "s3"
        assert mock.download(got.body["url"]) == (b"hello golden\n", "text/plain")

    info = mock.call("artifactInfo", taskId, 0, "public/hello.txt").body
    oracle.check("artifact-response.json", info)
    assert info == listing["artifacts"][0]
    assert mock.call("latestArtifactInfo", taskId, "public/hello.txt").body == info
    for content in (mock.call("artifact", taskId, 0, "public/hello.txt"),
                    mock.call("latestArtifact", taskId, "public/hello.txt")):
        assert content.status == 200
        oracle.check("artifact-content-response.json", content.body)
        assert content.body["storageType"] == "s3"

    # An identical repeat is fine (a fresh putUrl); another content type is a conflict.
    again = mock.create(taskId, "public/hello.txt", {"storageType": "s3",
                                                     "contentType": "text/plain"})
    assert again.body["storageType"] == "s3" and again.body["putUrl"]
    err = mock.error("createArtifact", taskId, 0, "public/hello.txt",
                     body={"storageType": "s3", "contentType": "application/json",
                           "expires": mock.expires()})
    assert (err.status, err.code) == (409, "RequestConflict")
    assert err.message.startswith("Artifact already exists with different properties, and "
                                  "none of the allowed exceptions apply: {\n  \"storageType\"")
    assert mock.sent("artifact-created") == []

    missing = mock.error("getLatestArtifact", taskId, "public/missing.txt")
    assert (missing.status, missing.message) == (404, "Artifact not found")


def test_contentLength_is_listed_when_given(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    mock.create(taskId, "public/sized.bin", {"storageType": "s3", "contentLength": 3,
                                              "contentType": "application/octet-stream"})
    info = mock.call("artifactInfo", taskId, 0, "public/sized.bin").body
    oracle.check("artifact-response.json", info)
    assert info["contentLength"] == 3


def test_private_bucket_is_signed_and_needs_scopes(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    reply = mock.create(taskId, "private/secret.txt", {"storageType": "s3",
                                                       "contentType": "text/plain"})
    assert f"/mock/v1/blobs/private/{taskId}/0/private/secret.txt?" in reply.body["putUrl"]
    mock.upload(reply.body["putUrl"], b"secret golden\n", "text/plain")

    for method, args in (("getLatestArtifact", (taskId,)), ("getArtifact", (taskId, 0))):
        err = mock.error(method, *args, "private/secret.txt", caller=ANONYMOUS)
        assert (err.status, err.code) == (403, "InsufficientScopes")
        assert "queue:get-artifact:private/secret.txt" in err.message
    # Listing needs only queue:list-artifacts, which the anonymous role has.
    names = [a["name"] for a in
             mock.call("listLatestArtifacts", taskId, caller=ANONYMOUS).body["artifacts"]]
    assert names == ["private/secret.txt"]

    got = mock.call("getLatestArtifact", taskId, "private/secret.txt")
    assert got.status == 303
    oracle.check("get-artifact-response.json", got.body)
    query = dict(parse_qsl(urlsplit(got.body["url"]).query))
    assert query["X-Amz-Expires"] == "1800" and query["x-id"] == "GetObject"
    assert mock.download(got.body["url"]) == (b"secret golden\n", "text/plain")
    # Without its signature the private blob is refused.
    key, _ = split_blob_url(got.body["url"])
    with pytest.raises(QueueError) as info:
        mock.backend.get_blob(key, {})
    assert info.value.status == 403


# == reference / link / error =====================================================================

def test_reference_replacement_rules(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    ref = {"storageType": "reference", "contentType": "text/plain",
           "url": "https://example.com/ref-1.txt"}
    reply = mock.create(taskId, "public/ref.txt", ref)
    oracle.check("post-artifact-response.json", reply.body)
    assert reply.body == {"storageType": "reference"}
    (created,) = mock.sent("artifact-created")
    check_message(oracle, created, taskId)
    assert created.payload["artifact"] == {"storageType": "reference", "name": "public/ref.txt",
                                           "expires": mock.expires(),
                                           "contentType": "text/plain"}

    got = mock.call("getLatestArtifact", taskId, "public/ref.txt")
    assert (got.status, got.headers["Location"]) == (303, "https://example.com/ref-1.txt")
    assert got.headers["x-taskcluster-artifact-storage-type"] == "reference"

    # reference -> reference with a new URL: allowed, announced again, followed at once.
    mock.create(taskId, "public/ref.txt", {**ref, "url": "https://example.com/ref-2.txt"})
    assert len(mock.sent("artifact-created")) == 2
    got = mock.call("getLatestArtifact", taskId, "public/ref.txt")
    assert got.body == {"storageType": "reference", "url": "https://example.com/ref-2.txt"}
    content = mock.call("latestArtifact", taskId, "public/ref.txt").body
    oracle.check("artifact-content-response.json", content)
    assert content == got.body

    # Not allowed: another content type, an earlier expiry, another type than link.
    for change in ({"contentType": "text/html"}, {"expires": mock.expires(hours=1)}):
        err = mock.error("createArtifact", taskId, 0, "public/ref.txt",
                         body={**ref, "expires": mock.expires(), **change})
        assert err.code == "RequestConflict", change
    err = mock.error("createArtifact", taskId, 0, "public/ref.txt",
                     body={"storageType": "error", "reason": "file-missing-on-worker",
                           "message": "gone", "expires": mock.expires()})
    assert err.code == "RequestConflict"
    # A later expiry is fine.
    mock.create(taskId, "public/ref.txt", {**ref, "expires": mock.expires(days=2)})
    assert mock.call("artifactInfo", taskId, 0, "public/ref.txt").body["expires"] == \
        mock.expires(days=2)

    # reference -> link is the one allowed change of type (content type exempt) ...
    mock.create(taskId, "public/target.txt", {**ref, "url": "https://example.com/target"})
    mock.create(taskId, "public/ref.txt", {"storageType": "link", "artifact": "public/target.txt",
                                           "expires": mock.expires(days=2)})
    info = mock.call("artifactInfo", taskId, 0, "public/ref.txt").body
    assert (info["storageType"], info["contentType"]) == ("link", "text/plain")
    assert mock.call("getArtifact", taskId, 0, "public/ref.txt").body["url"] == \
        "https://example.com/target"
    # ... and there is no way back.
    err = mock.error("createArtifact", taskId, 0, "public/ref.txt",
                     body={**ref, "expires": mock.expires(days=2)})
    assert err.code == "RequestConflict"


def test_live_log_is_repointed_while_running(mock: Harness) -> None:
    """The worker engine's pattern: live.log points at the live stream, then elsewhere."""
    taskId = mock.running_task()
    live = {"storageType": "reference", "contentType": "text/plain; charset=utf-8"}
    mock.create(taskId, "public/logs/live.log",
                {**live, "url": f"{ROOT_URL}/mock/v1/livelog/{taskId}/0"})
    mock.create(taskId, "public/logs/live.log",
                {**live, "url": f"{ROOT_URL}/mock/v1/logs/{taskId}/0/final"})
    got = mock.call("getLatestArtifact", taskId, "public/logs/live.log", caller=ANONYMOUS)
    assert got.headers["Location"].endswith(f"/logs/{taskId}/0/final")


def test_link_chains_scopes_and_cycles(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    mock.create(taskId, "public/target.txt", {"storageType": "reference",
                                              "contentType": "text/plain",
                                              "url": "https://example.com/target.txt"})
    reply = mock.create(taskId, "public/link.txt", {"storageType": "link",
                                                    "artifact": "public/target.txt"})
    assert reply.body == {"storageType": "link"}
    link_msg = mock.sent("artifact-created")[-1]
    check_message(oracle, link_msg, taskId)
    assert link_msg.payload["artifact"]["contentType"] == "application/binary"

    mock.create(taskId, "public/link2.txt", {"storageType": "link", "artifact": "public/link.txt"})
    got = mock.call("getLatestArtifact", taskId, "public/link2.txt", caller=ANONYMOUS)
    assert got.status == 303
    assert got.body == {"storageType": "reference", "url": "https://example.com/target.txt"}
    assert got.headers["x-taskcluster-artifact-storage-type"] == "reference"
    assert mock.call("artifact", taskId, 0, "public/link.txt").body == got.body
    info = mock.call("artifactInfo", taskId, 0, "public/link.txt").body  # not followed
    assert (info["storageType"], info["contentType"]) == ("link", "application/binary")

    # Every name along the chain needs queue:get-artifact:<name>.
    mock.create(taskId, "private/hidden.txt", {"storageType": "reference",
                                               "contentType": "text/plain",
                                               "url": "https://example.com/hidden"})
    mock.create(taskId, "public/peek.txt", {"storageType": "link",
                                            "artifact": "private/hidden.txt"})
    err = mock.error("getArtifact", taskId, 0, "public/peek.txt", caller=ANONYMOUS)
    assert err.code == "InsufficientScopes" and "private/hidden.txt" in err.message
    allowed = auth.Caller("reader", ["queue:get-artifact:public/peek.txt",
                                     "queue:get-artifact:private/hidden.txt"])
    assert mock.call("getArtifact", taskId, 0, "public/peek.txt", caller=allowed).status == 303

    mock.create(taskId, "public/loop-a", {"storageType": "link", "artifact": "public/loop-b"})
    mock.create(taskId, "public/loop-b", {"storageType": "link", "artifact": "public/loop-a"})
    for method, args in (("getLatestArtifact", (taskId,)), ("artifact", (taskId, 0))):
        err = mock.error(method, *args, "public/loop-a")
        assert (err.status, err.code, err.message) == (400, "InputError",
                                                       "Artifact leads to a link cycle")
    mock.create(taskId, "public/self", {"storageType": "link", "artifact": "public/self"})
    assert mock.error("getArtifact", taskId, 0, "public/self").code == "InputError"

    mock.create(taskId, "public/dangling", {"storageType": "link",
                                            "artifact": "public/nothing-here"})
    err = mock.error("getLatestArtifact", taskId, "public/dangling")
    assert (err.status, err.message) == (404, "Artifact not found")


def test_error_artifact_answers_424(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    body = {"storageType": "error", "reason": "file-missing-on-worker",
            "message": "the file was not there"}
    assert mock.create(taskId, "public/missing.txt", body).body == {"storageType": "error"}
    check_message(oracle, mock.sent("artifact-created")[-1], taskId)

    for got in (mock.call("getLatestArtifact", taskId, "public/missing.txt"),
                mock.call("getArtifact", taskId, 0, "public/missing.txt", caller=ANONYMOUS)):
        assert got.status == 424
        assert got.body == {"reason": "file-missing-on-worker",
                            "message": "the file was not there"}
        assert got.headers == {"x-taskcluster-artifact-storage-type": "error"}
    content = mock.call("latestArtifact", taskId, "public/missing.txt")
    assert content.status == 200
    oracle.check("artifact-content-response.json", content.body)
    assert content.body == {"storageType": "error", **{k: body[k] for k in ("reason", "message")}}
    info = mock.call("artifactInfo", taskId, 0, "public/missing.txt").body
    assert info["contentType"] == "application/binary"

    # Repeating an error artifact is idempotent (and announced again).
    mock.create(taskId, "public/missing.txt", body)
    assert len(mock.sent("artifact-created")) == 2
    err = mock.error("createArtifact", taskId, 0, "public/missing.txt",
                     body={**body, "message": "other words", "expires": mock.expires()})
    assert err.code == "RequestConflict"


# == object =======================================================================================

def test_object_flow(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    name = "public/object.bin"
    reply = mock.create(taskId, name, {"storageType": "object",
                                       "contentType": "application/octet-stream"})
    oracle.check("post-artifact-response.json", reply.body)
    body = reply.body
    assert body["name"] == f"t/{taskId}/0/{name}" and body["projectId"] == "none"
    assert re.match(SLUGID_PATTERN, body["uploadId"]) and body["expires"] == mock.expires()
    creds = body["credentials"]
    assert creds["clientId"] == f"artifact-upload/{taskId}/0/on/wg/w1"
    cert = json.loads(creds["certificate"])
    assert cert["scopes"] == [f"object:upload:none:t/{taskId}/0/{name}"]
    assert cert["expiry"] == int((T0 + timedelta(hours=24)).timestamp() * 1000)
    assert mock.sent("artifact-created") == []  # not before finishArtifact

    # Listed, but not present yet.
    assert [a["name"] for a in mock.call("listArtifacts", taskId, 0).body["artifacts"]] == [name]
    assert mock.error("artifactInfo", taskId, 0, name).status == 404
    assert mock.error("getLatestArtifact", taskId, name).status == 404

    other = slugid()
    err = mock.error("finishArtifact", taskId, 0, name, body={"uploadId": other})
    assert (err.status, err.message) == (400, "given uploadId does not match that for the "
                                              "artifact")
    err = mock.error("finishArtifact", taskId, 0, name, body={"uploadId": body["uploadId"]})
    assert (err.status, err.message) == (400, "Object storing artifact data does not exist")

    # The mock's minimal object upload, then finish.
    with pytest.raises(QueueError) as info:
        mock.backend.put_object(body["name"], {"uploadId": other}, b"x", None)
    assert info.value.status == 400
    mock.backend.put_object(body["name"], {"uploadId": body["uploadId"]}, b"\x00\x01object",
                            "application/octet-stream")
    done = mock.call("finishArtifact", taskId, 0, name, body={"uploadId": body["uploadId"]})
    assert (done.status, done.body) == (204, None)
    (created,) = mock.sent("artifact-created")
    check_message(oracle, created, taskId)
    assert created.payload["artifact"]["storageType"] == "object"

    got = mock.call("getLatestArtifact", taskId, name)
    assert got.status == 303 and got.headers["x-taskcluster-artifact-storage-type"] == "object"
    assert mock.download(got.body["url"]) == (b"\x00\x01object", "application/octet-stream")
    content = mock.call("artifact", taskId, 0, name).body
    oracle.check("artifact-content-response.json", content)
    assert content["name"] == f"t/{taskId}/0/{name}"
    assert json.loads(content["credentials"]["certificate"])["scopes"] == \
        [f"object:download:t/{taskId}/0/{name}"]

    # Finishing again: 204 and announced again; creating again conflicts; data is immutable.
    assert mock.call("finishArtifact", taskId, 0, name, body={"uploadId": other}).status == 204
    assert len(mock.sent("artifact-created")) == 2
    err = mock.error("createArtifact", taskId, 0, name,
                     body={"storageType": "object", "contentType": "application/octet-stream",
                           "expires": mock.expires()})
    assert err.code == "RequestConflict"
    with pytest.raises(QueueError) as info:
        mock.backend.put_object(body["name"], {"uploadId": body["uploadId"]}, b"new", None)
    assert info.value.status == 409


def test_finish_artifact_errors(mock: Harness) -> None:
    taskId = mock.running_task()
    upload = {"uploadId": slugid()}
    err = mock.error("finishArtifact", taskId, 0, "public/none", body=upload)
    assert err.status == 404 and "public/none" in err.message
    assert mock.error("finishArtifact", slugid(), 0, "public/none", body=upload).status == 404
    mock.create(taskId, "public/ref", {"storageType": "reference", "contentType": "text/plain",
                                       "url": "https://example.com/"})
    err = mock.error("finishArtifact", taskId, 0, "public/ref", body=upload)
    assert (err.status, err.message) == (400, "Only object artifacts can be finished")


def test_object_credentials_end_with_the_artifact(mock: Harness) -> None:
    taskId = mock.running_task()
    reply = mock.create(taskId, "public/short.bin", {"storageType": "object",
                                                     "contentType": "application/octet-stream",
                                                     "expires": mock.expires(hours=2)})
    cert = json.loads(reply.body["credentials"]["certificate"])
    assert cert["expiry"] == int((T0 + timedelta(hours=2)).timestamp() * 1000)


# == createArtifact's checks ======================================================================

def test_create_checks_in_order(mock: Harness) -> None:
    ref = {"storageType": "reference", "contentType": "text/plain",
           "url": "https://example.com/x"}
    unknown = mock.error("createArtifact", slugid(), 0, "public/x.txt",
                         body={**ref, "expires": mock.expires()})
    assert (unknown.status, unknown.code, unknown.message) == (400, "InputError",
                                                               "Task not found")
    # The expiry check comes first of all, even for an unknown task.
    past = mock.error("createArtifact", slugid(), 0, "public/x.txt",
                      body={**ref, "expires": mock.expires(minutes=-16)})
    assert past.message == "Expires must be in the future"

    queue = "prov/checks"
    taskId = mock.create_task(queue=queue)
    err = mock.error("createArtifact", taskId, 0, "public/early.txt",
                     body={**ref, "expires": mock.expires()})
    assert (err.status, err.message) == (400, "Run was not claimed by a worker and so no "
                                              "artifacts can exist")
    err = mock.error("createArtifact", taskId, 1, "public/x.txt",
                     body={**ref, "expires": mock.expires()})
    assert (err.status, err.message) == (400, "Run not found")

    mock.claim(queue)
    # A little in the past is tolerated (clock drift) ...
    mock.create(taskId, "public/drift.txt", {**ref, "expires": mock.expires(minutes=-14)})
    # ... but not past the task's own expiry.
    late = to_json(T0 + timedelta(days=400))
    err = mock.error("createArtifact", taskId, 0, "public/late.txt",
                     body={**ref, "expires": late})
    task_expires = mock.call("task", taskId).body["expires"]
    assert err.message == (f"Artifact expires ({late}) after the task expiration "
                           f"{task_expires} (task.expires < expires) - this is not allowed, "
                           "artifacts may not expire after the task they belong to expires")

    mock.call("reportCompleted", taskId, 0)
    err = mock.error("createArtifact", taskId, 0, "public/after.txt",
                     body={**ref, "expires": mock.expires()})
    assert (err.status, err.code) == (409, "RequestConflict")
    assert '"state": "completed"' in err.message  # the task status is shown


def test_one_handler_per_storage_type_the_schema_allows(mock: Harness) -> None:
    """The handlers are exactly the request schema's storage types, and only ``finish`` of
    an object artifact is allowed."""
    schema_path = (pathlib.Path(storagetypes.__file__).parents[1] / "schemas" / "queue" / "v1"
                   / "post-artifact-request.json")
    schema = json.loads(schema_path.read_text())
    allowed = {v for shape in schema["oneOf"] for v in shape["properties"]["storageType"]["enum"]}
    assert {t.name for t in storagetypes.STORAGE_TYPES} == allowed == {
        "s3", "object", "reference", "link", "error"}
    taskId = mock.running_task()
    bodies = {"s3": {"contentType": "text/plain"}, "object": {"contentType": "text/plain"},
              "reference": {"contentType": "text/plain", "url": "https://example.com/r"},
              "link": {"artifact": "public/r"},
              "error": {"reason": "file-missing-on-worker", "message": "gone"}}
    for kind in ("reference", "s3", "object", "link", "error"):
        name = "public/r" if kind == "reference" else f"public/{kind}"
        reply = mock.create(taskId, name, {"storageType": kind, **bodies[kind]})
        assert reply.body["storageType"] == kind
        err = mock.error("finishArtifact", taskId, 0, name, body={"uploadId": slugid()})
        if kind == "object":
            assert err.message == "given uploadId does not match that for the artifact"
        else:
            assert err.message == "Only object artifacts can be finished"


def test_overlong_names_are_refused_clearly(mock: Harness) -> None:
    taskId = mock.running_task()
    ok = "public/" + "n" * (1024 - len("public/"))
    mock.create(taskId, ok, {"storageType": "s3", "contentType": "text/plain"})
    err = mock.error("createArtifact", taskId, 0, ok + "x",
                     body={"storageType": "s3", "contentType": "text/plain",
                           "expires": mock.expires()})
    assert (err.status, err.code) == (400, "InputError") and "1024" in err.message


def test_exception_run_accepts_artifacts_for_25_minutes(mock: Harness) -> None:
    ref = {"storageType": "reference", "contentType": "text/plain",
           "url": "https://example.com/log"}
    taskId = mock.running_task()
    mock.call("reportException", taskId, 0, body={"reason": "malformed-payload"})
    mock.clock.advance(timedelta(minutes=24))
    mock.create(taskId, "public/logs/live.log", ref)
    mock.clock.advance(timedelta(minutes=2))
    err = mock.error("createArtifact", taskId, 0, "public/late.log",
                     body={**ref, "expires": mock.expires()})
    assert err.code == "RequestConflict"


def test_create_needs_the_run_scope(mock: Harness) -> None:
    taskId, other = mock.running_task(), mock.running_task()
    worker = auth.Caller("task-client", [f"queue:create-artifact:{other}/0"])
    err = mock.error("createArtifact", taskId, 0, "public/x",
                     body={"storageType": "error", "reason": "file-missing-on-worker",
                           "message": "m", "expires": mock.expires()}, caller=worker)
    assert err.code == "InsufficientScopes"


# == listing, info, expiry ========================================================================

def test_listing_pages_sorted_by_name(mock: Harness, oracle: Oracle) -> None:
    taskId = mock.running_task()
    names = ["public/b", "public/a", "private/z", "public/c/d", "public/c", "Public/E"]
    for n in names:
        mock.create(taskId, n, {"storageType": "error", "reason": "file-missing-on-worker",
                                "message": n})
    seen, token, pages = [], None, 0
    while pages < 10:
        query = {"limit": "2", **({"continuationToken": token} if token else {})}
        page = mock.call("listLatestArtifacts", taskId, query=query).body
        oracle.check("list-artifacts-response.json", page)
        assert len(page["artifacts"]) <= 2
        seen += [a["name"] for a in page["artifacts"]]
        pages += 1
        token = page.get("continuationToken")
        if token is None:
            break
    assert seen == sorted(names) and pages == 3
    whole = mock.call("listArtifacts", taskId, 0, query={"limit": "1000"}).body
    assert "continuationToken" not in whole and len(whole["artifacts"]) == len(names)
    # A token we did not make restarts the listing, as the real queue's key tokens do.
    restarted = mock.call("listArtifacts", taskId, 0,
                          query={"continuationToken": "not-a-token", "limit": "1"}).body
    assert restarted["artifacts"][0]["name"] == sorted(names)[0]

    err = mock.error("listArtifacts", taskId, 0, query={"limit": "0"})
    assert (err.status, err.code) == (400, "InputError")


def test_listing_404s(mock: Harness) -> None:
    taskId = mock.running_task()
    err = mock.error("listArtifacts", taskId, 5)
    assert (err.status, err.message) == (404, f"Task with taskId: `{taskId}` has no run with "
                                              "runId: 5")
    assert mock.error("listLatestArtifacts", slugid()).status == 404
    # An unscheduled task (waiting on a dependency) has no runs: 404 too.
    blocked = mock.create_task(queue="prov/blocked", dependencies=[taskId])
    err = mock.error("listLatestArtifacts", blocked)
    assert (err.status, err.message) == (404, "Task doesn't have any runs")
    assert mock.error("latestArtifactInfo", blocked, "public/x").status == 404
    assert mock.error("latestArtifact", blocked, "public/x").status == 404


def test_latest_checks_scopes_before_looking(mock: Harness) -> None:
    unknown = slugid()
    # getLatestArtifact checks the requested name before anything else ...
    assert mock.error("getLatestArtifact", unknown, "private/x",
                      caller=ANONYMOUS).code == "InsufficientScopes"
    assert mock.error("getLatestArtifact", unknown, "public/x",
                      caller=ANONYMOUS).code == "ResourceNotFound"
    # ... while artifact-content looks the run up first.
    assert mock.error("latestArtifact", unknown, "private/x",
                      caller=ANONYMOUS).code == "ResourceNotFound"


def test_latest_means_highest_run(mock: Harness) -> None:
    queue = "prov/retry"
    taskId = mock.create_task(queue=queue)
    mock.claim(queue)
    ref = {"storageType": "reference", "contentType": "text/plain"}
    mock.create(taskId, "public/log", {**ref, "url": "https://example.com/run0"})
    mock.call("reportException", taskId, 0, body={"reason": "worker-shutdown"})
    mock.claim(queue)
    mock.create(taskId, "public/log", {**ref, "url": "https://example.com/run1"}, runId=1)
    assert mock.call("getLatestArtifact", taskId, "public/log").body["url"] == \
        "https://example.com/run1"
    assert mock.call("getArtifact", taskId, 0, "public/log").body["url"] == \
        "https://example.com/run0"


def test_expired_artifact_is_410_but_listed(mock: Harness) -> None:
    taskId = mock.running_task()
    reply = mock.create(taskId, "public/soon.txt", {"storageType": "s3",
                                                    "contentType": "text/plain",
                                                    "expires": mock.expires(hours=1)})
    mock.upload(reply.body["putUrl"], b"soon", "text/plain")
    mock.create(taskId, "public/keep.txt", {"storageType": "reference",
                                            "contentType": "text/plain",
                                            "url": "https://example.com/keep"})
    mock.clock.advance(timedelta(hours=2))
    for method, args in (("getArtifact", (taskId, 0)), ("latestArtifact", (taskId,))):
        err = mock.error(method, *args, "public/soon.txt")
        assert (err.status, err.code) == (410, "ResourceExpired")
    # Expiry is a delete job's business: until it runs, the artifact is still listed.
    names = [a["name"] for a in mock.call("listArtifacts", taskId, 0).body["artifacts"]]
    assert names == ["public/keep.txt", "public/soon.txt"]

    mock.backend.tick()  # the expiry pass: the artifact goes, with its bytes
    names = [a["name"] for a in mock.call("listArtifacts", taskId, 0).body["artifacts"]]
    assert names == ["public/keep.txt"]
    state = mock.backend.dump()
    assert [a["name"] for a in state["artifacts"]] == ["public/keep.txt"]
    assert state["blobs"] == []
    assert [t["taskId"] for t in state["tasks"]] == [taskId]  # the task itself stays


# == names, state, durability =====================================================================

@pytest.mark.parametrize("name", [
    "public/with space/and%percent?query#frag.txt",
    "public/../escape", "public/./x", "public//double", "..", "private/~tilde+plus&amp=1",
    "public/" + "x" * 500,
])
def test_any_printable_name_round_trips(mock: Harness, name: str) -> None:
    taskId = mock.running_task()
    reply = mock.create(taskId, name, {"storageType": "s3", "contentType": "text/plain"})
    payload = name.encode()
    mock.upload(reply.body["putUrl"], payload, "text/plain")
    got = mock.call("getArtifact", taskId, 0, name)
    assert mock.download(got.body["url"]) == (payload, "text/plain")
    assert [a["name"] for a in mock.call("listArtifacts", taskId, 0).body["artifacts"]] == [name]


def test_dump_and_reset(mock: Harness) -> None:
    taskId = mock.running_task()
    reply = mock.create(taskId, "public/a.txt", {"storageType": "s3", "contentType": "text/plain"})
    mock.upload(reply.body["putUrl"], b"abc", "text/plain")
    state = mock.backend.dump()
    json.dumps(state)  # serialisable
    (art,) = state["artifacts"]
    assert (art["taskId"], art["name"], art["present"]) == (taskId, "public/a.txt", True)
    assert state["blobs"] == [{"bucket": "public", "taskId": taskId, "runId": 0,
                               "name": "public/a.txt", "contentType": "text/plain", "size": 3,
                               "stored": to_json(T0)}]
    mock.backend.reset()
    assert mock.backend.dump()["artifacts"] == [] and mock.backend.dump()["blobs"] == []


def test_blobs_and_signatures_survive_a_restart(tmp_path: pathlib.Path) -> None:
    db = str(tmp_path / "queue.sqlite")
    first = Harness(db_path=db)
    taskId = first.running_task()
    reply = first.create(taskId, "private/durable.txt", {"storageType": "s3",
                                                         "contentType": "text/plain"})
    first.upload(reply.body["putUrl"], b"kept", "text/plain")
    url = first.call("getArtifact", taskId, 0, "private/durable.txt").body["url"]
    first.backend.close()

    second = Harness(db_path=db, clock=first.clock)
    assert second.download(url) == (b"kept", "text/plain")  # signed before the restart
    second.upload(reply.body["putUrl"], b"again", "text/plain")
    assert second.download(url) == (b"again", "text/plain")
    second.backend.close()
