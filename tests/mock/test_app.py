"""The HTTP layer through a real socket: routing, order of checks, envelopes, headers."""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import quote

import httpx
import mohawk
import pytest
import taskcluster

from tutorial_kit import api
from tutorial_kit.mock import start
from tutorial_kit.mock.web.app import KnownRoutes, QueueApp
from tutorial_kit.mock.security.auth import Authenticator
from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mock.model.blobs import object_upload_url
from tutorial_kit.mock.model.call import Reply
from tutorial_kit.mock.server import launch
from tutorial_kit.mock.web.validation import Validator

FOOTER = re.compile(r"\n\n---\n\n\* method:     (\w+)\n\* errorCode:  (\w+)\n"
                    r"\* statusCode: (\d+)\n\* time:       (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$")
QUEUE_ID = "proj-app/worker"


@pytest.fixture(scope="module")
def mock():
    with start(workers=False, claim_wait=0.2, check_output=True) as m:
        yield m


@pytest.fixture(scope="module")
def queue(mock):
    return taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials),
                              "maxRetries": 0})


def url(mock, route: str) -> str:
    return f"{mock.root_url}/api/queue/v1{route}"


def task_def(**extra) -> dict:
    return {"taskQueueId": QUEUE_ID, "created": taskcluster.fromNowJSON("0 seconds"),
            "deadline": taskcluster.fromNowJSON("1 day"), "payload": {},
            "metadata": {"name": "app test", "description": "d", "owner": "t@example.com",
                         "source": "https://example.com/app"}, **extra}


def assert_envelope(response: httpx.Response, code: str, status: int, method: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["code"] == code
    m = FOOTER.search(body["message"])
    assert m, body["message"]
    assert m.groups()[:3] == (method, code, str(status))
    info = body["requestInfo"]
    assert info["method"] == method and info["time"] == m.group(4)
    assert set(info) == {"method", "params", "payload", "time"}
    return body


def claimed_run(queue) -> tuple[str, dict]:
    """Create a task and claim it; (taskId, the claim's temporary credentials)."""
    queue_id = f"proj-app/claim-{taskcluster.slugId()[:8].lower().replace('_', 'x').replace('-', 'x')}"
    task_id = taskcluster.slugId()
    queue.createTask(task_id, task_def(taskQueueId=queue_id))
    claim = queue.claimWork(queue_id, {"workerGroup": "wg", "workerId": "w1", "tasks": 1})
    assert [t["status"]["taskId"] for t in claim["tasks"]] == [task_id]
    return task_id, claim["tasks"][0]["credentials"]


# -- routing ---------------------------------------------------------------------------------

def test_encoded_slashes_route_as_one_parameter(mock, queue):
    task_id, creds = claimed_run(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    name = "public/logs/a b%.txt"
    worker.createArtifact(task_id, 0, name, {"storageType": "reference",
                                             "url": "https://example.com/x",
                                             "contentType": "text/plain",
                                             "expires": taskcluster.fromNowJSON("1 hour")})
    info = queue.artifactInfo(task_id, 0, name)
    assert info["name"] == name
    # the wildcard routes also take raw slashes (browsers, curl)
    raw = httpx.get(url(mock, f"/task/{task_id}/runs/0/artifact-info/public/logs/a%20b%25.txt"))
    assert raw.status_code == 200 and raw.json()["name"] == name
    encoded = httpx.get(url(mock, f"/pending/{quote(QUEUE_ID, safe='')}"))
    slashed = httpx.get(url(mock, f"/pending/{QUEUE_ID}"))
    assert encoded.json() == slashed.json()
    assert encoded.json()["taskQueueId"] == QUEUE_ID


def test_unknown_route_and_wrong_method_are_plain_404(mock):
    for method, route in [("GET", "/no/such/route"), ("DELETE", f"/task/{taskcluster.slugId()}"),
                          ("POST", "/ping"), ("GET", "")]:
        r = httpx.request(method, url(mock, route))
        assert r.status_code == 404
        assert r.json() == {"error": "Not found"}
        assert r.headers["access-control-allow-origin"] == "*"


def test_every_api_response_carries_the_taskcluster_headers(mock, queue):
    task_id = taskcluster.slugId()
    queue.createTask(task_id, task_def())
    ids = set()
    for r in (httpx.get(url(mock, f"/task/{task_id}/status")),
              httpx.get(url(mock, f"/task/{taskcluster.slugId()}/status")),
              httpx.get(url(mock, "/task/bad/status"))):
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        assert r.headers["cache-control"] == "no-store no-cache must-revalidate"
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.headers["access-control-max-age"] == "900"
        assert "GET" in r.headers["access-control-allow-methods"]
        assert "Authorization" in r.headers["access-control-allow-headers"]
        assert r.headers["x-for-trace-id"]
        ids.add(r.headers["x-for-request-id"])
    assert len(ids) == 3


def test_cors_preflight(mock):
    r = httpx.options(url(mock, f"/task/{taskcluster.slugId()}"),
                      headers={"Origin": "https://example.com",
                               "Access-Control-Request-Method": "PUT",
                               "Access-Control-Request-Headers": "authorization,content-type"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-max-age"] == "900"


# -- the order of checks and the error classes ---------------------------------------------

def test_malformed_payloads(mock):
    route = url(mock, f"/task/{taskcluster.slugId()}")
    r = httpx.put(route, content=json.dumps(task_def()), headers={"Content-Type": "text/plain"})
    assert_envelope(r, "MalformedPayload", 400, "createTask")
    r = httpx.put(route, content=b"{not json", headers={"Content-Type": "application/json"})
    assert_envelope(r, "MalformedPayload", 400, "createTask")
    r = httpx.put(route, content=b"42", headers={"Content-Type": "application/json"})
    assert_envelope(r, "MalformedPayload", 400, "createTask")
    # the body is parsed before credentials are looked at
    r = httpx.put(route, content=b"{", headers={"Content-Type": "application/json",
                                                "Authorization": 'Hawk id="x", ts="1", '
                                                                 'nonce="n", mac="m"'})
    assert r.json()["code"] == "MalformedPayload"


def test_body_over_10_mb_is_413(mock):
    big = b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    r = httpx.put(url(mock, f"/task/{taskcluster.slugId()}"), content=big,
                  headers={"Content-Type": "application/json"})
    assert_envelope(r, "InputTooLarge", 413, "createTask")


def test_url_parameter_patterns(mock, queue):
    r = httpx.get(url(mock, "/task/bad_task_id/status"))
    body = assert_envelope(r, "InvalidRequestArguments", 400, "status")
    assert body["message"].startswith("Invalid URL patterns:\nURL parameter 'taskId' given as "
                                      f"'bad_task_id' must match regular expression: "
                                      f"'/{api.SLUGID_PATTERN}/'")
    assert body["requestInfo"]["params"] == {"taskId": "bad_task_id"}
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        queue.createTask("bad_task_id", task_def())
    assert info.value.body["code"] == "InvalidRequestArguments"
    # payload shown as sent (validation has not run yet)
    assert "priority" not in info.value.body["requestInfo"]["payload"]


def test_url_only_scopes_are_checked_before_url_patterns(mock):
    # reportCompleted's scopes need only URL parameters: anonymous gets 403 even for a bad id
    r = httpx.post(url(mock, "/task/bad_task_id/runs/0/completed"))
    assert_envelope(r, "InsufficientScopes", 403, "reportCompleted")
    # createTask's scopes need the body: the URL pattern wins
    r = httpx.put(url(mock, "/task/bad_task_id"), json=task_def())
    assert_envelope(r, "InvalidRequestArguments", 400, "createTask")


def test_a_route_met_before_is_checked_in_the_same_order(mock, queue):
    # The app remembers routes whose URL parameters passed their patterns (KnownRoutes); the
    # checks around that step must not change for the second request of a route.
    for _ in range(2):  # a failing route is not remembered
        r = httpx.get(url(mock, "/task/bad_task_id/status"))
        assert_envelope(r, "InvalidRequestArguments", 400, "status")
    task_id = taskcluster.slugId()
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        queue.reportCompleted(task_id, "0")  # signed: passes scopes and patterns, no such task
    assert info.value.status_code == 404
    r = httpx.post(url(mock, f"/task/{task_id}/runs/0/completed"))  # anonymous: scopes first
    assert_envelope(r, "InsufficientScopes", 403, "reportCompleted")
    r = httpx.get(url(mock, f"/task/{task_id}/status?bogus=1"))  # the query is still checked
    assert_envelope(r, "InvalidRequestArguments", 400, "status")


def test_known_routes_stay_within_their_budget():
    known = KnownRoutes()
    entry = api.BY_NAME["status"]
    for n in range(KnownRoutes.MAX_ENTRIES + 5):
        known.add("GET", f"/task/{n}/status", (entry, {"taskId": str(n)}))
        assert len(known._known) <= KnownRoutes.MAX_ENTRIES
    assert known.get("GET", f"/task/{KnownRoutes.MAX_ENTRIES + 4}/status") is not None
    assert known.get("PUT", f"/task/{KnownRoutes.MAX_ENTRIES + 4}/status") is None


def test_query_string_checks(mock, queue):
    task_id = taskcluster.slugId()
    r = httpx.get(url(mock, f"/task/{task_id}/status?bogus=1"))
    body = assert_envelope(r, "InvalidRequestArguments", 400, "status")
    assert body["message"].startswith("Query-string parameter: bogus is not supported!\n\n---")
    r = httpx.get(url(mock, f"/task-group/{task_id}/list?limit=ten"))
    body = assert_envelope(r, "InvalidRequestArguments", 400, "listTaskGroup")
    assert "limit" in body["message"]
    queue.createTask(task_id, task_def())
    r = httpx.get(url(mock, f"/task-group/{task_id}/list?limit=1"))
    assert r.status_code == 200 and len(r.json()["tasks"]) == 1


def test_input_validation_error_shows_payload_with_defaults(mock):
    definition = task_def()
    del definition["metadata"]
    r = httpx.put(url(mock, f"/task/{taskcluster.slugId()}"), json=definition)
    body = assert_envelope(r, "InputValidationError", 400, "createTask")
    assert body["message"].startswith("\nSchema Validation Failed!")
    assert "data must have required property 'metadata'" in body["message"]
    assert f"{mock.root_url}/schemas/queue/v1/create-task-request.json" in body["message"]
    assert body["requestInfo"]["payload"]["retries"] == 5


def test_not_found_envelope_and_run_id_as_text(mock, queue):
    task_id = taskcluster.slugId()
    r = httpx.get(url(mock, f"/task/{task_id}/runs/0/artifacts"))
    body = assert_envelope(r, "ResourceNotFound", 404, "listArtifacts")
    assert body["requestInfo"]["params"] == {"taskId": task_id, "runId": "0"}


def test_bodyless_posts_and_303_and_204(mock, queue):
    task_id, creds = claimed_run(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    created = worker.createArtifact(task_id, 0, "public/obj.bin",
                                    {"storageType": "object", "contentType": "text/plain",
                                     "expires": taskcluster.fromNowJSON("1 hour")})
    put = httpx.put(object_upload_url(mock.root_url, created["name"], created["uploadId"]),
                    content=b"object bytes", headers={"Content-Type": "text/plain"})
    assert put.status_code == 200, put.text
    assert worker.finishArtifact(task_id, 0, "public/obj.bin",
                                 {"uploadId": created["uploadId"]}) is None
    # the same again, looking at the raw reply: 204, no body, no content type
    route = f"/task/{task_id}/runs/0/artifacts/public%2Fobj.bin"
    body = json.dumps({"uploadId": created["uploadId"]}).encode()
    header = mohawk.Sender({"id": mock.credentials["clientId"],
                            "key": mock.credentials["accessToken"], "algorithm": "sha256"},
                           url(mock, route), "PUT", content=body,
                           content_type="application/json").request_header
    finish = httpx.put(url(mock, route), content=body,
                       headers={"Authorization": header, "Content-Type": "application/json"})
    assert finish.status_code == 204, finish.text
    assert finish.content == b"" and "content-type" not in finish.headers
    # a POST with no body and no content type (as the clients send reportCompleted)
    done = worker.reportCompleted(task_id, 0)
    assert done["status"]["state"] == "completed"
    r = httpx.get(url(mock, f"/task/{task_id}/artifacts/public%2Fobj.bin"))
    assert r.status_code == 303
    assert r.json()["url"] == r.headers["location"]
    assert httpx.get(r.headers["location"]).content == b"object bytes"


def test_claim_work_long_poll_wakes_up_for_new_work(queue):
    with start(workers=False, claim_wait=10.0, check_output=True) as mock:
        q = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials),
                               "maxRetries": 0})
        result: dict = {}

        def claim() -> None:
            result["claim"] = q.claimWork("proj-app/poll", {"workerGroup": "wg", "workerId": "w",
                                                            "tasks": 1})

        worker = threading.Thread(target=claim)
        worker.start()
        # wait (bounded) until the long poll is parked, then give it work
        for _ in range(500):
            if mock.app.long_polls:
                break
            threading.Event().wait(0.01)
        assert mock.app.long_polls == 1
        task_id = taskcluster.slugId()
        q.createTask(task_id, task_def(taskQueueId="proj-app/poll"))
        worker.join(15)
        assert not worker.is_alive()
        assert [t["status"]["taskId"] for t in result["claim"]["tasks"]] == [task_id]


def test_empty_claim_work_answers_empty_list(mock, queue):
    assert queue.claimWork("proj-app/empty", {"workerGroup": "wg", "workerId": "w",
                                              "tasks": 2}) == {"tasks": []}


# -- crashes, output checks -----------------------------------------------------------------

class _Odd(QueueBackend):
    """A real backend with two deliberate faults, to test the HTTP layer's safety nets."""

    def status(self, call):
        if call.params["taskId"].startswith("crash"):
            raise RuntimeError("a bug in the model")
        return super().status(call)

    def getTaskQueue(self, call):
        return Reply({"not": "a task queue"})


@pytest.fixture(scope="module")
def odd():
    backend = _Odd()
    app = QueueApp(backend, authenticator=Authenticator({"tutorial": {"accessToken": "t",
                                                                      "scopes": ["*"]}}),
                   validator=Validator(), check_output=True)
    m = launch(app, credentials={"clientId": "tutorial", "accessToken": "t"})
    yield m
    m.stop()


def test_crash_is_500_with_incident_and_server_survives(odd):
    bad_id = "crash" + taskcluster.slugId()[5:]
    r = httpx.get(url(odd, f"/task/{bad_id}/status"))
    body = assert_envelope(r, "InternalServerError", 500, "status")
    assert re.search(r"incidentId [0-9a-f-]{36}", body["message"])
    assert httpx.get(url(odd, "/ping")).json()["alive"] is True


def test_output_not_matching_its_schema_is_500(odd):
    q = taskcluster.Queue({"rootUrl": odd.root_url, "credentials": dict(odd.credentials),
                           "maxRetries": 0})
    with pytest.raises(taskcluster.exceptions.TaskclusterRestFailure) as info:
        q.getTaskQueue("proj-app/worker")
    assert info.value.status_code == 500
    assert "taskqueue-response.json" in info.value.body["message"]


# -- documents and uploads ------------------------------------------------------------------

def test_schemas_and_references_are_served_absolute(mock):
    r = httpx.get(f"{mock.root_url}/schemas/queue/v1/task-status-response.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["$id"] == f"{mock.root_url}/schemas/queue/v1/task-status-response.json#"
    assert r.text.startswith('{\n  "')  # 2-space indented
    ref = httpx.get(f"{mock.root_url}/references/queue/v1/api.json")
    assert ref.status_code == 200 and ref.json()["serviceName"] == "queue"
    assert httpx.get(f"{mock.root_url}/schemas/queue/v1/nope.json").status_code == 404
    assert httpx.get(f"{mock.root_url}/schemas/../../etc/passwd").status_code == 404


def test_blob_put_requires_content_length(mock, queue):
    task_id, creds = claimed_run(queue)
    worker = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds, "maxRetries": 0})
    created = worker.createArtifact(task_id, 0, "public/s3.txt",
                                    {"storageType": "s3", "contentType": "text/plain",
                                     "expires": taskcluster.fromNowJSON("1 hour")})

    def chunks():
        yield b"streamed"

    r = httpx.put(created["putUrl"], content=chunks(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 411
    r = httpx.put(created["putUrl"], content=b"hello", headers={"Content-Type": "text/plain"})
    assert r.status_code == 200
    got = httpx.get(queue.getArtifact(task_id, 0, "public/s3.txt")["url"])
    assert got.content == b"hello" and got.headers["content-type"].startswith("text/plain")


def test_prefix_is_part_of_the_root_url():
    with start(workers=False, prefix="/tc", claim_wait=0.1) as mock:
        assert mock.root_url.endswith("/tc")
        q = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials)})
        task_id = taskcluster.slugId()
        assert q.createTask(task_id, task_def())["status"]["taskId"] == task_id
        assert httpx.get(mock.root_url.removesuffix("/tc") + f"/api/queue/v1/task/{task_id}"
                         ).status_code == 404


# -- the real service's error answers (golden traces) ---------------------------------------

GOLDEN_ERRORS = ["auth-anonymous-create", "auth-bad-credentials", "validation-unknown-query",
                 "validation-bad-taskid", "validation-missing-metadata",
                 "auth-wrong-task-credentials"]


def _replay_request(mock, step: dict, ids: dict[str, str], t0: str, t1d: str,
                    task_creds: dict[str, dict]) -> httpx.Response:
    from urllib.parse import urlencode

    entry = api.BY_NAME[step["call"].split(".", 1)[1]]
    args = [ids.setdefault(a, taskcluster.slugId()) if re.fullmatch(r"T\d+", str(a)) else a
            for a in step["args"]]
    target = url(mock, entry.path(*args))
    if step.get("query"):
        target += "?" + urlencode(step["query"])
    body = b""
    headers = {}
    if "payload" in step:
        text = json.dumps(step["payload"]).replace("<now+1d>", t1d).replace("<now>", t0)
        body = text.encode()
        headers["Content-Type"] = "application/json"
    import base64

    creds, ext = None, "e30="
    if step["auth"] in ("root", "bad"):
        token = mock.credentials["accessToken"] if step["auth"] == "root" else "wrong-token"
        creds = {"clientId": mock.credentials["clientId"], "accessToken": token}
    elif step["auth"].startswith("task:"):
        creds = task_creds[step["auth"][len("task:"):]]
        ext = base64.urlsafe_b64encode(json.dumps(
            {"certificate": json.loads(creds["certificate"])}).encode()).decode()
    if creds is not None:
        headers["Authorization"] = mohawk.Sender(
            {"id": creds["clientId"], "key": creds["accessToken"], "algorithm": "sha256"},
            target, entry.method.upper(), content=body,
            content_type=headers.get("Content-Type", ""), ext=ext).request_header
    return httpx.request(entry.method.upper(), target, content=body, headers=headers)


def _normalize(value, mock, ids: dict[str, str], t0: str, t1d: str, step: int):
    text = json.dumps(value)
    for name, real in ids.items():
        text = text.replace(real, name)
    text = text.replace(mock.root_url, "<rootUrl>").replace(t1d, "<now+1d>").replace(t0, "<now>")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f"<step{step}>", text)
    text = re.sub(r"/until/\d+", "/until/<epoch>", text)
    return json.loads(text)


@pytest.mark.parametrize("scenario", GOLDEN_ERRORS)
def test_error_answers_match_the_golden_traces(golden_traces, scenario):
    from datetime import datetime, timedelta, timezone

    from tutorial_kit.dates import to_json

    trace = json.loads((golden_traces / f"{scenario}.json").read_text())
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=1)
    t0, t1d = to_json(now), to_json(now + timedelta(days=1))
    ids: dict[str, str] = {}
    task_creds: dict[str, dict] = {}
    with start(workers=False, claim_wait=0.1, check_output=True) as mock:
        for step in trace["steps"]:
            r = _replay_request(mock, step, ids, t0, t1d, task_creds)
            if step["call"] == "queue.claimWork":
                for item in r.json()["tasks"]:
                    name = {v: k for k, v in ids.items()}[item["status"]["taskId"]]
                    task_creds[f"{name}/{item['runId']}"] = item["credentials"]
            assert r.status_code == step["status"], (step["step"], r.text)
            for header, value in step["headers"].items():
                assert r.headers.get(header) == value, (step["step"], header)
            if r.status_code < 400:
                continue
            got = _normalize(r.json(), mock, ids, t0, t1d, step["step"])
            want = step["body"]
            if got["code"] == "InputValidationError":
                # Ajv's wording is the validator's business; the envelope is ours
                assert got["message"].startswith("\nSchema Validation Failed!")
                got["message"] = want["message"]
            assert got == want, step["step"]


def test_live_logs_are_streamed_while_the_run_writes(tmp_path):
    from tutorial_kit.mock.model.livelog import LiveLogs

    with start(workers=False, claim_wait=0.1) as mock:
        task_id = taskcluster.slugId()
        assert httpx.get(f"{mock.root_url}/mock/v1/livelog/{task_id}/0").status_code == 404
        live_logs = mock.app.services.livelogs = LiveLogs(tmp_path)
        live = live_logs.open(task_id, 0)
        live.line("first line")
        received: list[str] = []

        def follow() -> None:
            with httpx.stream("GET", f"{mock.root_url}/mock/v1/livelog/{task_id}/0",
                              timeout=10) as r:
                assert r.headers["content-type"].startswith("text/plain")
                for line in r.iter_lines():
                    received.append(line)
                    if line == "first line":
                        live.line("second line")  # written while the reader is attached
                        live.finish()

        reader = threading.Thread(target=follow)
        reader.start()
        reader.join(15)
        assert not reader.is_alive()
        assert received == ["first line", "second line"]
