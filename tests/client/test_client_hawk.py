"""Hawk: every signed request is accepted by mohawk.Receiver on the server, and header and
bewit are byte-identical to the official Python client's for the same ts and nonce."""

from __future__ import annotations

import json
from unittest import mock

import pytest
import taskcluster

from tutorial_kit.client import Queue, TaskclusterError
from tutorial_kit.client import hawk as our_hawk

TASK = "fN1SbArXTPSVFNUvaOlinQ"
CERT = {"version": 1, "scopes": ["queue:status:*"], "start": 1, "expiry": 2,
        "seed": "s" * 44, "signature": "sig="}


def test_get_is_signed_with_empty_payload_hash_and_ext(server, queue):
    queue.status(TASK)
    rec = server.requests[0]
    assert rec.hawk == "ok"
    attrs = rec.hawk_attrs
    assert attrs["id"] == "tester" and len(attrs["nonce"]) == 6
    assert attrs["hash"] == our_hawk.payload_hash(b"", "")
    assert attrs["ext"] == "e30="
    assert rec.headers["authorization"].startswith('Hawk mac="')


def test_json_payload_is_hashed_and_verified(server, queue):
    queue.createTask(TASK, {"payload": {"command": ["echo", "hi"]}, "é": "ü"})
    rec = server.requests[0]
    assert rec.hawk == "ok"
    assert rec.headers["content-type"] == "application/json"
    assert rec.body == b'{"payload":{"command":["echo","hi"]},"\\u00e9":"\\u00fc"}'


def test_bodyless_post_has_no_body_and_no_content_type(server, queue):
    queue.reportCompleted(TASK, 0)
    rec = server.requests[0]
    assert rec.hawk == "ok" and rec.method == "POST"
    assert rec.body == b"" and "content-type" not in rec.headers
    assert rec.headers.get("content-length") == "0"


@pytest.mark.parametrize("certificate", [CERT, json.dumps(CERT)])
def test_ext_carries_certificate_and_authorized_scopes(server, sleeps, creds, certificate):
    options = {"rootUrl": server.url, "credentials": {**creds, "certificate": certificate},
               "authorizedScopes": ["queue:status:*"]}
    with Queue(options, sleep=sleeps) as q:
        q.status(TASK)
    rec = server.requests[0]
    assert rec.hawk == "ok"
    assert rec.ext == {"certificate": CERT, "authorizedScopes": ["queue:status:*"]}


def test_anonymous_requests_have_no_authorization(server, anon_queue):
    anon_queue.status(TASK)
    assert server.requests[0].hawk == "none"
    assert "authorization" not in server.requests[0].headers
    with pytest.raises(TaskclusterError, match="needs credentials"):
        anon_queue.buildSignedUrl("status", TASK)


def test_wrong_token_is_rejected_by_the_receiver(server, sleeps):
    with Queue(rootUrl=server.url, credentials={"clientId": "tester", "accessToken": "nope"},
               sleep=sleeps) as q:
        q.status(TASK)
    assert server.requests[0].hawk.startswith("MacMismatch")


def _official_header(server, options, method, *args, ts, nonce):
    """What the official client sends, captured by the same server."""
    tc = taskcluster.Queue(json.loads(json.dumps(options)))
    with mock.patch("mohawk.base.utc_now", return_value=ts), \
            mock.patch("mohawk.base.random_string", return_value=nonce):
        getattr(tc, method)(*args)
    return server.requests[-1]


def _our_header(server, options, method, *args, ts, nonce):
    with mock.patch("tutorial_kit.client.hawk.time.time", return_value=float(ts)), \
            mock.patch("tutorial_kit.client.hawk.new_nonce", return_value=nonce):
        with Queue(json.loads(json.dumps(options))) as q:
            getattr(q, method)(*args)
    return server.requests[-1]


@pytest.mark.parametrize("method,args", [
    ("status", (TASK,)),
    ("createTask", (TASK, {"provisionerId": "p", "metadata": {"name": "n"}, "tags": {}})),
    ("reportCompleted", (TASK, 0)),
    ("listTaskGroup", (TASK,)),
    ("latestArtifact", (TASK, "public/a b.txt")),
])
@pytest.mark.parametrize("extra", [{}, {"authorizedScopes": ["a", "b:*"]}, {"cert": True}])
def test_header_is_byte_identical_to_the_official_client(server, creds, method, args, extra):
    credentials = dict(creds)
    options = {"rootUrl": server.url}
    if extra.get("cert"):
        credentials["certificate"] = json.dumps(CERT)
    if "authorizedScopes" in extra:
        options["authorizedScopes"] = extra["authorizedScopes"]
    options["credentials"] = credentials
    theirs = _official_header(server, options, method, *args, ts=1790000000, nonce="Ab3_-x")
    ours = _our_header(server, options, method, *args, ts=1790000000, nonce="Ab3_-x")
    assert theirs.target == ours.target
    assert theirs.body == ours.body
    assert ours.headers["authorization"] == theirs.headers["authorization"]
    assert 'ts="1790000000"' in ours.headers["authorization"]


@pytest.mark.parametrize("method,args,query", [
    ("getLatestArtifact", (TASK, "private/build/target.zip"), {}),
    ("listTaskGroup", (TASK,), {"limit": 3}),
])
@pytest.mark.parametrize("authorized", [None, ["queue:get-artifact:private/*"]])
def test_bewit_is_byte_identical_to_the_official_client(server, creds, method, args, query,
                                                       authorized):
    options = {"rootUrl": server.url, "credentials": dict(creds)}
    if authorized:
        options["authorizedScopes"] = authorized
    with mock.patch("time.time", return_value=1790000000.5):
        tc = taskcluster.Queue(json.loads(json.dumps(options)))
        theirs = tc.buildSignedUrl(method, *args, query=query, expiration=600)
        with Queue(json.loads(json.dumps(options))) as q:
            ours = q.buildSignedUrl(method, *args, expiration=600, **query)
    assert ours == theirs
    assert ours.rsplit("&bewit=" if query else "?bewit=", 1)[1]


def test_signed_url_is_accepted_by_mohawk_bewit_check(server, queue):
    url = queue.buildSignedUrl("getLatestArtifact", TASK, "private/x.txt", expiration=60)
    queue._http.get(url)  # a plain GET, as a browser would do
    rec = server.requests[0]
    assert rec.hawk == "bewit-ok"
    assert rec.ext == {}
    with pytest.raises(TaskclusterError, match="only GET methods"):
        queue.buildSignedUrl("createTask", TASK)
