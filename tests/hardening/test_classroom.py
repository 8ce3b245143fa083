"""Classroom mode: one learner cannot act for another.

Two learners get the scopes the lead's roster plan gives learner ``L`` (see
``planned_scopes``), on a strict mock, with one correction: the plan's
``queue:create-task:*:<provisionerId>/*`` cannot match anything, because a ``*`` only acts as a
wildcard at the end of a scope; ``queue:create-task:highest:<provisionerId>/*`` is what grants
every priority (createTask accepts the scope of the requested priority or any higher one).
``test_a_star_inside_a_scope_is_literal`` pins that rule. Each may create, cancel, rerun, schedule and claim under
its own schedulerId and task queues, may read anyone's status, and is refused 403
``InsufficientScopes`` for every write under the other learner's name; nothing of the other
learner's changes. The control plane answers neither of them.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator

import pytest

from tutorial_kit.mock import MockQueue, start

from .support import Answer, Wire, assert_still_serves, check_error, new_task_id, task_definition


def planned_scopes(name: str) -> list[str]:
    """The planned roster's scopes for learner ``name`` (classroom serve --roster), verbatim."""
    return [
        f"queue:scheduler-id:{name}",
        "queue:create-task:project:*",
        "queue:create-task:*:built-in/*",
        "queue:create-task:*:tutorial/*",
        f"queue:create-task:*:learner-{name}/*",
        f"queue:rerun-task:{name}/*",
        f"queue:cancel-task:{name}/*",
        f"queue:schedule-task:{name}/*",
        f"queue:seal-task-group:{name}/*",
        f"queue:cancel-task-group:{name}/*",
        f"queue:change-task-priority-in-queue:learner-{name}/*",
        f"queue:claim-work:learner-{name}/*",
        f"queue:worker-id:{name}/*",
    ]


def learner_scopes(name: str) -> list[str]:
    """The planned scopes, corrected so that learners can create tasks at every priority."""
    return [s.replace("queue:create-task:*:", "queue:create-task:highest:")
            for s in planned_scopes(name)]


LEARNERS = ("alice", "bob")


@pytest.fixture(scope="module")
def classroom() -> Iterator[tuple[MockQueue, dict[str, dict[str, str]]]]:
    creds = {n: {"clientId": n, "accessToken": secrets.token_urlsafe(33)} for n in LEARNERS}
    clients = {n: {"accessToken": c["accessToken"], "scopes": learner_scopes(n)}
               for n, c in creds.items()}
    with start(workers=False, claim_wait=0.2, strict=True, clients=clients) as queue:
        yield queue, creds


@pytest.fixture(scope="module")
def cwire(classroom) -> Wire:
    return Wire.for_root(classroom[0].root_url)


def own_task(wire: Wire, learner: str, creds: dict[str, str]) -> tuple[str, str, str]:
    """A task of ``learner`` in a group and a task queue of its own:
    (taskId, taskGroupId, the task queue, URL-encoded)."""
    task_id, group = new_task_id(), new_task_id()
    queue = f"learner-{learner}/w{secrets.token_hex(4)}"
    body = task_definition(queue, scheduler_id=learner, task_group_id=group)
    answer = wire.api("PUT", f"/task/{task_id}", json_body=body, credentials=creds)
    assert answer.status == 200, answer.text[:500]
    return task_id, group, queue.replace("/", "%2F")


def refused(answer: Answer, method: str) -> None:
    body = check_error(answer, method=method)
    assert answer.status == 403 and body is not None and body["code"] == "InsufficientScopes", \
        (method, answer.status, body)


def test_a_learner_cannot_write_under_another_learners_name(classroom, cwire: Wire) -> None:
    mock, creds = classroom
    alice, bob = creds["alice"], creds["bob"]
    bob_task, bob_group, bob_queue = own_task(cwire, "bob", bob)
    before = cwire.api("GET", f"/task/{bob_task}/status").json()

    # createTask under bob's schedulerId, or on bob's task queue, or in bob's group's name
    as_bob = task_definition("learner-alice/worker", scheduler_id="bob")
    refused(cwire.api("PUT", f"/task/{new_task_id()}", json_body=as_bob, credentials=alice),
            "createTask")
    on_bobs_queue = task_definition("learner-bob/worker", scheduler_id="alice")
    refused(cwire.api("PUT", f"/task/{new_task_id()}", json_body=on_bobs_queue,
                      credentials=alice), "createTask")
    # cancel, rerun, schedule, priority: bob's task
    for verb, route, body, name in [
        ("POST", f"/task/{bob_task}/cancel", None, "cancelTask"),
        ("POST", f"/task/{bob_task}/rerun", None, "rerunTask"),
        ("POST", f"/task/{bob_task}/schedule", None, "scheduleTask"),
        ("POST", f"/task/{bob_task}/priority", {"newPriority": "highest"}, "changeTaskPriority"),
        ("POST", f"/task-group/{bob_group}/seal", None, "sealTaskGroup"),
        ("POST", f"/task-group/{bob_group}/cancel", None, "cancelTaskGroup"),
    ]:
        refused(cwire.api(verb, route, json_body=body, credentials=alice), name)
    # claim bob's work, or claim as one of bob's workers
    refused(cwire.api("POST", f"/claim-work/{bob_queue}", credentials=alice,
                      json_body={"workerGroup": "alice", "workerId": "w1", "tasks": 1}),
            "claimWork")
    refused(cwire.api("POST", "/claim-work/learner-alice%2Fworker", credentials=alice,
                      json_body={"workerGroup": "bob", "workerId": "w1", "tasks": 1}),
            "claimWork")
    refused(cwire.api("POST", f"/task/{bob_task}/runs/0/claim", credentials=alice,
                      json_body={"workerGroup": "alice", "workerId": "w1"}), "claimTask")
    # bob's task is untouched ...
    assert cwire.api("GET", f"/task/{bob_task}/status").json() == before
    # ... and readable by alice, as statuses are for everyone
    read = cwire.api("GET", f"/task/{bob_task}/status", credentials=alice)
    assert read.status == 200 and read.json()["status"]["state"] == "pending"
    assert cwire.api("GET", f"/task-group/{bob_group}/list", credentials=alice).status == 200
    assert_still_serves(cwire)


def test_each_learner_may_work_on_their_own_tasks(classroom, cwire: Wire) -> None:
    _, creds = classroom
    for learner in LEARNERS:
        mine = creds[learner]
        task_id, group, queue = own_task(cwire, learner, mine)
        assert cwire.api("POST", f"/task/{task_id}/priority", credentials=mine,
                         json_body={"newPriority": "high"}).status == 200
        claimed = cwire.api("POST", f"/claim-work/{queue}", credentials=mine,
                            json_body={"workerGroup": learner, "workerId": "w1", "tasks": 1})
        assert claimed.status == 200, claimed.text[:300]
        assert [t["status"]["taskId"] for t in claimed.json()["tasks"]] == [task_id]
        assert cwire.api("POST", f"/task/{task_id}/cancel", credentials=mine).status == 200
        assert cwire.api("POST", f"/task/{task_id}/rerun", credentials=mine).status == 200
        assert cwire.api("POST", f"/task-group/{group}/seal", credentials=mine).status == 200
        assert cwire.api("POST", f"/task-group/{group}/cancel", credentials=mine).status == 200


def test_claim_credentials_cannot_touch_another_learners_run(classroom, cwire: Wire) -> None:
    _, creds = classroom
    bob_task, _, bob_queue = own_task(cwire, "bob", creds["bob"])
    bob_claim = cwire.api("POST", f"/claim-work/{bob_queue}", credentials=creds["bob"],
                          json_body={"workerGroup": "bob", "workerId": "w2", "tasks": 1}).json()
    assert [t["status"]["taskId"] for t in bob_claim["tasks"]] == [bob_task]
    alice_task, _, alice_queue = own_task(cwire, "alice", creds["alice"])
    alice_claim = cwire.api("POST", f"/claim-work/{alice_queue}",
                            credentials=creds["alice"],
                            json_body={"workerGroup": "alice", "workerId": "w2",
                                       "tasks": 1}).json()
    temp = alice_claim["tasks"][0]["credentials"]
    cert = json.loads(temp["certificate"])
    ext = base64.urlsafe_b64encode(json.dumps({"certificate": cert}).encode()).decode()
    for route, name in [(f"/task/{bob_task}/runs/0/completed", "reportCompleted"),
                        (f"/task/{bob_task}/runs/0/reclaim", "reclaimTask"),
                        (f"/task/{bob_task}/runs/0/artifacts/public%2Fx", "createArtifact")]:
        target = "/api/queue/v1" + route
        body = b""
        ctype = ""
        if name == "createArtifact":
            body = json.dumps({"storageType": "reference", "expires": task_definition()["deadline"],
                               "contentType": "text/plain", "url": "https://example.com"}).encode()
            ctype = "application/json"
        header = cwire.sign(temp, "POST", target, body, ctype, ext=ext)
        refused(cwire.send("POST", target, body=body or None, content_type=ctype or None,
                           authorization=header), name)
    # the same credentials do work on alice's own run
    target = f"/api/queue/v1/task/{alice_task}/runs/0/completed"
    header = cwire.sign(temp, "POST", target, ext=ext)
    assert cwire.send("POST", target, authorization=header).status == 200
    status = cwire.api("GET", f"/task/{bob_task}/status").json()["status"]
    assert status["state"] == "running"


def test_learners_cannot_use_the_control_plane(classroom, cwire: Wire) -> None:
    mock, creds = classroom
    for learner in LEARNERS:
        for verb, path in [("POST", "/mock/v1/reset"), ("GET", "/mock/v1/state"),
                           ("POST", "/mock/v1/clock")]:
            answer = cwire.send(verb, path, credentials=creds[learner], body=b"{}",
                                content_type="application/json")
            assert answer.status in (401, 403), (path, answer.status, answer.text[:200])
        assert cwire.send("GET", "/mock/v1/state").status in (401, 403)  # anonymous
    assert cwire.send("GET", "/mock/v1/state", credentials=mock.credentials).status == 200


def test_a_star_inside_a_scope_is_literal(classroom, cwire: Wire) -> None:
    """With the roster exactly as planned, a learner cannot create a task even on its own queue
    (a mid-scope ``*`` is no wildcard): the mock must not treat it as one, or it would be a
    scope hole. Fix the roster, not the mock."""
    mock, _ = classroom
    token = secrets.token_urlsafe(33)
    mock.app.authenticator.add_client("carol", token, planned_scopes("carol"))
    carol = {"clientId": "carol", "accessToken": token}
    for queue in ("learner-carol/worker", "built-in/succeed", "tutorial/docker-worker"):
        body = task_definition(queue, scheduler_id="carol")
        refused(cwire.api("PUT", f"/task/{new_task_id()}", json_body=body, credentials=carol),
                "createTask")
    fixed = [s.replace("queue:create-task:*:", "queue:create-task:highest:")
             for s in planned_scopes("carol")]
    mock.app.authenticator.add_client("carol", token, fixed)
    body = task_definition("learner-carol/worker", scheduler_id="carol")
    assert cwire.api("PUT", f"/task/{new_task_id()}", json_body=body,
                     credentials=carol).status == 200


# -- the roster's own scopes (tutorial_kit.mock.security.classroom.learner_scopes) ---------------------

@pytest.fixture(scope="module")
def enrolled() -> Iterator[tuple[MockQueue, dict[str, dict[str, str]]]]:
    from tutorial_kit.mock.security.classroom import enroll

    learners, clients = enroll(list(LEARNERS))
    creds = {l.name: {"clientId": l.client_id, "accessToken": l.access_token} for l in learners}
    with start(workers=False, claim_wait=0.2, strict=True, clients=clients) as queue:
        yield queue, creds


def _publish_as_own_worker(mock: MockQueue, learner: str, creds: dict[str, str],
                           artifacts: dict[str, bytes]) -> str:
    """As lesson 6 does it: create a task on the learner's own task queue, claim it with
    workerGroup <learner>, upload the artifacts, report it completed. Returns its taskId."""
    import httpx

    import tutorial_kit as tk

    queue = tk.Queue({"rootUrl": mock.root_url, "credentials": creds})
    task_queue = f"learner-{learner}/my-worker"
    task_id = tk.slugid()
    queue.createTask(task_id, tk.lessons.tutorial_task("true", task_queue=task_queue,
                                                       schedulerId=learner))
    claim = queue.claimWork(task_queue, {"workerGroup": learner, "workerId": "worker-1",
                                         "tasks": 1})["tasks"][0]
    assert claim["status"]["taskId"] == task_id
    worker = tk.Queue({"rootUrl": mock.root_url, "credentials": claim["credentials"]})
    for name, data in artifacts.items():
        made = worker.createArtifact(task_id, claim["runId"], name, {
            "storageType": "s3", "contentType": "text/plain", "expires": tk.fromNowJSON("1 day")})
        assert httpx.put(made["putUrl"], content=data,
                         headers={"Content-Type": "text/plain"}).status_code == 200
    worker.reportCompleted(task_id, claim["runId"])
    return task_id


def test_a_learner_reads_their_own_private_artifacts_by_signed_url(enrolled) -> None:
    """Lesson 3's signed URL works for a learner: `private/secret.txt` (the lesson's name, which
    every learner may read) and anything under `private/<name>/` (theirs alone)."""
    import httpx

    import tutorial_kit as tk

    mock, creds = enrolled
    task_id = _publish_as_own_worker(mock, "alice", creds["alice"], {
        "private/secret.txt": b"the secret is 42\n",
        "private/alice/notes.txt": b"alice's own notes\n"})
    alice = tk.Queue({"rootUrl": mock.root_url, "credentials": creds["alice"]})
    bob = tk.Queue({"rootUrl": mock.root_url, "credentials": creds["bob"]})

    def fetch(queue, name: str) -> httpx.Response:
        url = queue.buildSignedUrl("getLatestArtifact", task_id, name, expiration=600)
        return httpx.get(url, follow_redirects=True)

    assert fetch(alice, "private/secret.txt").text == "the secret is 42\n"
    assert fetch(alice, "private/alice/notes.txt").text == "alice's own notes\n"
    # bob may read the lesson's shared name, not alice's namespace; nobody anonymous may
    assert fetch(bob, "private/secret.txt").status_code == 200
    assert fetch(bob, "private/alice/notes.txt").status_code == 403
    anonymous = tk.Queue({"rootUrl": mock.root_url})
    for name in ("private/secret.txt", "private/alice/notes.txt"):
        plain = anonymous.buildUrl("getLatestArtifact", task_id, name)
        assert httpx.get(plain, follow_redirects=True).status_code == 403


def test_a_learner_works_their_own_queue_as_workergroup_named_after_them(enrolled) -> None:
    """Lesson 6 in a classroom: learner `alice` claims from `learner-alice/*` with workerGroup
    `alice` (queue:worker-id:alice/*); any other workerGroup, or another learner's task queue,
    is refused."""
    mock, creds = enrolled
    wire = Wire.for_root(mock.root_url)
    _publish_as_own_worker(mock, "alice", creds["alice"], {})  # claims as alice/worker-1
    task_id, _, queue = own_task(wire, "alice", creds["alice"])
    for group in ("my-laptop", "bob"):
        refused(wire.api("POST", f"/claim-work/{queue}", credentials=creds["alice"],
                         json_body={"workerGroup": group, "workerId": "worker-1", "tasks": 1}),
                "claimWork")
    claimed = wire.api("POST", f"/claim-work/{queue}", credentials=creds["alice"],
                       json_body={"workerGroup": "alice", "workerId": "worker-1", "tasks": 1})
    assert [t["status"]["taskId"] for t in claimed.json()["tasks"]] == [task_id]
