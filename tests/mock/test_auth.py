"""Hawk, bewits, temporary credentials and scopes, through a real socket."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import urlsplit

import httpx
import mohawk
import pytest
import taskcluster

from tutorial_kit.mock import start
from tutorial_kit.mock.security.auth import (ANONYMOUS_SCOPES, Authenticator, Caller, HawkRequest,
                                    issue_temporary_credentials)
from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.security.scopes import ScopeExpressionError

LIMITED = {"clientId": "limited", "accessToken": "limited-secret-token",
           "scopes": ["queue:list-task-queues", "queue:create-task:*", "queue:scheduler-id:*"]}


@pytest.fixture(scope="module")
def mock():
    with start(workers=False, claim_wait=0.2, check_output=True,
               clients={"limited": {"accessToken": LIMITED["accessToken"],
                                    "scopes": LIMITED["scopes"]}}) as m:
        yield m


def task_def(queue_id: str = "proj-auth/worker") -> dict:
    return {"taskQueueId": queue_id, "created": taskcluster.fromNowJSON("0 seconds"),
            "deadline": taskcluster.fromNowJSON("1 day"), "payload": {},
            "metadata": {"name": "auth test", "description": "d", "owner": "t@example.com",
                         "source": "https://example.com/auth"}}


def official(mock, credentials=None):
    options = {"rootUrl": mock.root_url, "maxRetries": 0}
    if credentials is not None:
        options["credentials"] = dict(credentials)  # the client mutates what it is given
    return taskcluster.Queue(options)


def api_url(mock, route: str) -> str:
    return f"{mock.root_url}/api/queue/v1{route}"


def js_style_header(client_id, token, method, url, *, ext=None, ts=None, nonce=None):
    """What the JS client sends: no payload hash, ``ext`` in standard base64."""
    parts = urlsplit(url)
    resource = parts.path + ("?" + parts.query if parts.query else "")
    ts = str(int(time.time()) if ts is None else ts)
    nonce = nonce or secrets.token_hex(3)
    ext_text = base64.b64encode(json.dumps(ext).encode()).decode() if ext is not None else ""
    text = (f"hawk.1.header\n{ts}\n{nonce}\n{method}\n{resource}\n{parts.hostname}\n"
            f"{parts.port}\n\n{ext_text}\n")
    mac = base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha256).digest())
    header = f'Hawk id="{client_id}", ts="{ts}", nonce="{nonce}", '
    if ext_text:
        header += f'ext="{ext_text}", '
    return header + f'mac="{mac.decode()}"'


def py_style_header(client_id, token, method, url, body=b"", content_type="", ext=None):
    """What the Python client sends: a payload hash and URL-safe base64 ``ext`` (via mohawk)."""
    ext_text = base64.urlsafe_b64encode(json.dumps(ext or {}).encode()).decode()
    sender = mohawk.Sender({"id": client_id, "key": token, "algorithm": "sha256"}, url, method,
                           content=body, content_type=content_type, ext=ext_text)
    return sender.request_header


def make_task(mock) -> str:
    task_id = taskcluster.slugId()
    official(mock, mock.credentials).createTask(task_id, task_def())
    return task_id


# -- headers ---------------------------------------------------------------------------------

def test_python_style_header_with_hash_signs_get_and_json_body(mock):
    creds = mock.credentials
    task_id = taskcluster.slugId()
    url = api_url(mock, f"/task/{task_id}")
    body = json.dumps(task_def()).encode()
    header = py_style_header(creds["clientId"], creds["accessToken"], "PUT", url, body,
                             "application/json")
    assert 'hash="' in header
    r = httpx.put(url, content=body, headers={"Authorization": header,
                                              "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["status"]["taskId"] == task_id
    url = api_url(mock, f"/task-group/{task_id}/list?limit=1")
    r = httpx.get(url, headers={"Authorization": py_style_header(
        creds["clientId"], creds["accessToken"], "GET", url)})
    assert r.status_code == 200, r.text
    assert [t["status"]["taskId"] for t in r.json()["tasks"]] == [task_id]


def test_js_style_header_without_hash_and_standard_base64_ext(mock):
    # Pick authorizedScopes whose standard base64 really uses '+' or '/', so the two
    # alphabets differ and the server must accept the standard one.
    for i in range(200):
        ext = {"authorizedScopes": ["queue:list-task-queues", f"queue:x?>{i}~"]}
        encoded = base64.b64encode(json.dumps(ext).encode()).decode()
        if "+" in encoded or "/" in encoded:
            break
    else:
        pytest.fail("no ext with + or / found")
    url = api_url(mock, "/task-queues")
    creds = mock.credentials
    header = js_style_header(creds["clientId"], creds["accessToken"], "GET", url, ext=ext)
    assert "hash=" not in header
    r = httpx.get(url, headers={"Authorization": header})
    assert r.status_code == 200, r.text
    assert "taskQueues" in r.json()


def test_official_client_works_with_encoded_slashes(mock):
    queue = official(mock, mock.credentials)
    result = queue.pendingTasks("proj-auth/worker")  # claim-work style %2F in the path
    assert result["taskQueueId"] == "proj-auth/worker"


def test_bad_mac_is_401_with_www_authenticate(mock):
    task_id = make_task(mock)
    bad = official(mock, {"clientId": mock.credentials["clientId"], "accessToken": "wrong"})
    with pytest.raises(taskcluster.exceptions.TaskclusterAuthFailure) as info:
        bad.status(task_id)
    assert info.value.status_code == 401
    body = info.value.body
    assert body["code"] == "AuthenticationFailed"
    assert body["message"].startswith("Unauthorized: Bad mac\n\n---\n\n* method:     status")
    url = api_url(mock, f"/task/{task_id}/status")
    r = httpx.get(url, headers={"Authorization": js_style_header("tutorial", "wrong", "GET", url)})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "hawk"


def test_signature_covers_host_and_port(mock):
    url = api_url(mock, "/task-queues")
    header = js_style_header(mock.credentials["clientId"], mock.credentials["accessToken"],
                             "GET", url.replace("127.0.0.1", "localhost"))
    r = httpx.get(url, headers={"Authorization": header})
    assert r.status_code == 401
    assert "Bad mac" in r.json()["message"]


def test_payload_hash_must_match_body(mock):
    creds = mock.credentials
    url = api_url(mock, f"/task/{taskcluster.slugId()}")
    signed = json.dumps(task_def()).encode()
    header = py_style_header(creds["clientId"], creds["accessToken"], "PUT", url, signed,
                             "application/json")
    other = json.dumps({**task_def(), "priority": "high"}).encode()
    r = httpx.put(url, content=other, headers={"Authorization": header,
                                               "Content-Type": "application/json"})
    assert r.status_code == 401
    assert "Bad payload hash" in r.json()["message"]


def test_stale_timestamp_is_refused(mock):
    url = api_url(mock, "/task-queues")
    creds = mock.credentials
    for offset in (-120, 120):
        header = js_style_header(creds["clientId"], creds["accessToken"], "GET", url,
                                 ts=int(time.time()) + offset)
        r = httpx.get(url, headers={"Authorization": header})
        assert r.status_code == 401
        assert "Stale timestamp" in r.json()["message"]
    # within the 60 s allowance
    header = js_style_header(creds["clientId"], creds["accessToken"], "GET", url,
                             ts=int(time.time()) - 30)
    assert httpx.get(url, headers={"Authorization": header}).status_code == 200


def test_replayed_nonce_is_refused(mock):
    url = api_url(mock, "/task-queues")
    header = js_style_header(mock.credentials["clientId"], mock.credentials["accessToken"],
                             "GET", url)
    assert httpx.get(url, headers={"Authorization": header}).status_code == 200
    again = httpx.get(url, headers={"Authorization": header})
    assert again.status_code == 401
    assert "nonce" in again.json()["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Hawk garbage",
                                    'Hawk id="tutorial", ts="1"'])
def test_malformed_headers_are_401_not_500(mock, header):
    r = httpx.get(api_url(mock, "/task-queues"), headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["code"] == "AuthenticationFailed"


def test_unknown_client_is_401(mock):
    url = api_url(mock, "/task-queues")
    r = httpx.get(url, headers={"Authorization": js_style_header("nobody", "x", "GET", url)})
    assert r.status_code == 401


def test_bad_credentials_do_not_matter_where_no_scopes_are_needed(mock):
    bad = official(mock, {"clientId": "tutorial", "accessToken": "wrong"})
    assert bad.ping()["alive"] is True


# -- scopes ----------------------------------------------------------------------------------

def test_anonymous_reads_allowed_and_create_forbidden(mock):
    task_id = make_task(mock)
    anon = official(mock)
    assert anon.status(task_id)["status"]["taskId"] == task_id
    assert anon.task(task_id)["taskQueueId"] == "proj-auth/worker"
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        anon.createTask(taskcluster.slugId(), task_def())
    assert info.value.status_code == 403
    body = info.value.body
    assert body["code"] == "InsufficientScopes"
    assert body["message"].startswith("This request requires Taskcluster credentials that "
                                      "satisfy the following scope expression:\n\n```\n{")
    assert "queue:create-task:lowest:proj-auth/worker" in body["message"]
    # the payload in requestInfo has the defaults filled in (the check ran after validation)
    assert body["requestInfo"]["payload"]["priority"] == "lowest"


def test_insufficient_scopes_message_names_client_and_missing_scopes(mock):
    limited = official(mock, LIMITED)
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        limited.taskQueueCounts("proj-auth/worker")
    message = info.value.body["message"]
    assert info.value.status_code == 403
    assert message.startswith("Client ID limited does not have sufficient scopes and is missing "
                              "the following scopes:\n\n```\nqueue:claimed-count:proj-auth/worker\n```")
    assert "This request requires the client to satisfy the following scope expression:" in message
    assert '"queue:pending-count:proj-auth/worker"' in message


def test_authorized_scopes_restrict_and_cannot_overstep(mock):
    creds = mock.credentials
    queue = taskcluster.Queue({"rootUrl": mock.root_url, "maxRetries": 0,
                               "credentials": dict(creds),
                               "authorizedScopes": ["queue:list-task-queues"]})
    assert "taskQueues" in queue.listTaskQueues()
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        queue.createTask(taskcluster.slugId(), task_def())
    assert info.value.status_code == 403
    over = taskcluster.Queue({"rootUrl": mock.root_url, "maxRetries": 0,
                              "credentials": dict(LIMITED), "authorizedScopes": ["queue:*"]})
    with pytest.raises(taskcluster.exceptions.TaskclusterAuthFailure):
        over.listTaskQueues()


# -- bewits ----------------------------------------------------------------------------------

def test_signed_url_valid(mock):
    anon_url = api_url(mock, "/task-queues")
    assert httpx.get(anon_url).status_code == 403  # not in the anonymous role
    signed = official(mock, mock.credentials).buildSignedUrl("listTaskQueues")
    assert "bewit=" in signed
    r = httpx.get(signed)
    assert r.status_code == 200, r.text


def _bewit_url(mock, route: str, client_id: str, token: str, expiry: int) -> str:
    url = api_url(mock, route)
    parts = urlsplit(url)
    resource = parts.path + ("?" + parts.query if parts.query else "")
    text = f"hawk.1.bewit\n{expiry}\n\nGET\n{resource}\n{parts.hostname}\n{parts.port}\n\n\n"
    mac = base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha256).digest())
    bewit = base64.urlsafe_b64encode(f"{client_id}\\{expiry}\\{mac.decode()}\\".encode())
    return url + ("&" if parts.query else "?") + "bewit=" + bewit.decode().rstrip("=")


def test_signed_url_expired_or_tampered(mock):
    creds = mock.credentials
    good = _bewit_url(mock, "/task-queues", creds["clientId"], creds["accessToken"],
                      int(time.time()) + 60)
    assert httpx.get(good).status_code == 200
    expired = _bewit_url(mock, "/task-queues", creds["clientId"], creds["accessToken"],
                         int(time.time()) - 5)
    r = httpx.get(expired)
    assert r.status_code == 401 and "expired" in r.json()["message"]
    tampered = good.replace("/task-queues?", "/task-queues?limit=5&")
    assert httpx.get(tampered).status_code == 401
    not_last = good + "&limit=5"
    assert httpx.get(not_last).status_code == 401
    both = httpx.get(good, headers={"Authorization": js_style_header(
        creds["clientId"], creds["accessToken"], "GET", api_url(mock, "/task-queues"))})
    assert both.status_code == 401


# -- temporary credentials --------------------------------------------------------------------

def _cert_scopes(creds) -> list[str]:
    return json.loads(creds["certificate"])["scopes"]


def test_issued_temporary_credentials_have_the_documented_shape():
    now_ms = int(time.time() * 1000)
    creds = issue_temporary_credentials("tutorial", "issuer-token", "task-client/x", ["a", "b"],
                                        now_ms, now_ms + 60_000)
    cert = json.loads(creds["certificate"])
    assert creds["clientId"] == "task-client/x"
    assert cert["version"] == 1 and cert["issuer"] == "tutorial" and len(cert["seed"]) == 44
    assert (cert["start"], cert["expiry"], cert["scopes"]) == (now_ms, now_ms + 60_000, ["a", "b"])
    text = ("version:1\nclientId:task-client/x\nissuer:tutorial\n"
            f"seed:{cert['seed']}\nstart:{now_ms}\nexpiry:{now_ms + 60_000}\nscopes:\na\nb")
    assert cert["signature"] == base64.b64encode(
        hmac.new(b"issuer-token", text.encode(), hashlib.sha256).digest()).decode()
    token = hmac.new(b"issuer-token", cert["seed"].encode(), hashlib.sha256).digest()
    assert creds["accessToken"] == base64.urlsafe_b64encode(token).decode().rstrip("=")


@pytest.mark.parametrize("name", [None, "my-temp-client"])
def test_temporary_credentials_are_accepted_and_limited(mock, name):
    creds = mock.credentials
    start_ms = int(time.time() * 1000) - 1000
    temp = issue_temporary_credentials(creds["clientId"], creds["accessToken"], name,
                                       ["queue:list-task-queues"], start_ms, start_ms + 600_000)
    queue = official(mock, temp)
    assert "taskQueues" in queue.listTaskQueues()
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        queue.createTask(taskcluster.slugId(), task_def())
    assert info.value.status_code == 403
    assert f"Client ID {name or 'tutorial'} " in info.value.body["message"]


def test_official_clients_temporary_credentials_are_accepted(mock):
    creds = mock.credentials
    for name in (None, "official-temp"):
        temp = taskcluster.createTemporaryCredentials(
            creds["clientId"], creds["accessToken"], taskcluster.fromNow("-1 minute"),
            taskcluster.fromNow("1 hour"), ["queue:list-task-queues"], name=name)
        temp = {k: v.decode() if isinstance(v, bytes) else v for k, v in temp.items()}
        assert "taskQueues" in official(mock, temp).listTaskQueues()


def test_temporary_credentials_scopes_are_capped_by_the_issuer(mock):
    start_ms = int(time.time() * 1000)
    temp = issue_temporary_credentials("limited", LIMITED["accessToken"], None, ["*"],
                                       start_ms, start_ms + 600_000)
    queue = official(mock, temp)
    assert "taskQueues" in queue.listTaskQueues()  # held by the issuer
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        queue.getTaskQueue("proj-auth/worker")  # in the certificate, not held by the issuer
    assert info.value.status_code == 403


def test_bad_certificates_are_refused(mock):
    creds = mock.credentials
    now_ms = int(time.time() * 1000)
    expired = issue_temporary_credentials(creds["clientId"], creds["accessToken"], None,
                                          ["*"], now_ms - 3_600_000, now_ms - 600_000)
    tampered = issue_temporary_credentials(creds["clientId"], creds["accessToken"], None,
                                           ["queue:status:*"], now_ms, now_ms + 600_000)
    cert = json.loads(tampered["certificate"])
    cert["scopes"] = ["*"]
    tampered["certificate"] = json.dumps(cert)
    for temp in (expired, tampered):
        with pytest.raises(taskcluster.exceptions.TaskclusterAuthFailure):
            official(mock, temp).listTaskQueues()


def test_authenticator_unit_caller_scopes_include_the_anonymous_role():
    auth = Authenticator({"c": {"accessToken": "t", "scopes": ["x"]}})
    url = "http://127.0.0.1:9/api/queue/v1/ping"
    header = js_style_header("c", "t", "GET", url)
    caller, query = auth.authenticate(HawkRequest("GET", "/api/queue/v1/ping", "",
                                                  "127.0.0.1:9", authorization=header))
    assert caller.client_id == "c" and query == ""
    assert "x" in caller.scopes and set(ANONYMOUS_SCOPES) <= set(caller.scopes)
    with pytest.raises(QueueError) as info:
        caller.authorize("queue:create-task:x", {})
    assert info.value.code == "InsufficientScopes"
    with pytest.raises(ValueError):
        Authenticator({"c": {"scopes": ["x"]}})  # no accessToken


def test_the_shared_anonymous_caller_answers_as_a_fresh_one():
    # The anonymous caller every request shares remembers which templates it holds whatever
    # the parameters; its answers must be those of a caller that expands each time.
    auth = Authenticator({})
    shared, fresh = auth.anonymous(), Caller(None, ANONYMOUS_SCOPES)
    assert auth.anonymous() is shared
    for template, params in [("queue:status:<taskId>", {"taskId": "T"}),
                             ("queue:status:<taskId>", {"taskId": "a%2Fb"}),
                             ("queue:create-task:<p>", {"p": "x"}),
                             ("queue:status:<taskId>", {}),
                             ("queue:status:<taskId>", {"taskId": ["T"]})]:
        outcomes = []
        for caller in (shared, fresh, shared):
            try:
                caller.authorize(template, params)
                outcomes.append("ok")
            except (QueueError, ScopeExpressionError) as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")
        assert outcomes[0] == outcomes[1] == outcomes[2], (template, params, outcomes)
