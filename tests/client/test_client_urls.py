"""URLs: rootUrl handling, one encoded segment per route parameter, query strings."""

from __future__ import annotations

import pytest

from tutorial_kit.client import Queue, TaskclusterError

TASK = "fN1SbArXTPSVFNUvaOlinQ"


def test_trailing_slashes_stripped_and_path_prefix_kept():
    q = Queue({"rootUrl": "https://tc.example.com/prefix///"})
    assert q.rootUrl == "https://tc.example.com/prefix"
    assert q.buildUrl("status", TASK) == f"https://tc.example.com/prefix/api/queue/v1/task/{TASK}/status"
    q.close()


def test_slashes_in_names_and_task_queues_are_one_segment():
    q = Queue(rootUrl="https://tc.example.com")
    assert q.buildUrl("getLatestArtifact", TASK, "public/logs/live.log") == (
        f"https://tc.example.com/api/queue/v1/task/{TASK}/artifacts/public%2Flogs%2Flive.log")
    assert q.buildUrl("claimWork", "proj-tutorial/worker") == (
        "https://tc.example.com/api/queue/v1/claim-work/proj-tutorial%2Fworker")
    # Python's quote(safe="") escapes what JS leaves alone, too
    assert q.buildUrl("getArtifact", TASK, 0, "a b!(x)*'.txt").endswith(
        "/runs/0/artifacts/a%20b%21%28x%29%2A%27.txt")
    q.close()


def test_query_options_as_keywords_or_dict():
    q = Queue(rootUrl="https://tc.example.com")
    assert q.buildUrl("listTaskGroup", TASK, limit=2) == (
        f"https://tc.example.com/api/queue/v1/task-group/{TASK}/list?limit=2")
    assert q.buildUrl("listTaskGroup", TASK, query={"continuationToken": "a/b c", "limit": 5}) == (
        f"https://tc.example.com/api/queue/v1/task-group/{TASK}/list?continuationToken=a%2Fb+c&limit=5")
    with pytest.raises(TaskclusterError, match="does not take query option"):
        q.buildUrl("listTaskGroup", TASK, bogus=1)
    with pytest.raises(TaskclusterError, match="no method 'nope'"):
        q.buildUrl("nope")
    with pytest.raises(TaskclusterError, match="takes 1 route argument"):
        q.buildUrl("status")
    q.close()


def test_requests_carry_the_encoded_target(server, queue):
    queue.claimWork("proj-tutorial/worker", {"tasks": 1, "workerGroup": "g", "workerId": "w"})
    queue.latestArtifactInfo(TASK, "public/hello world.txt")
    queue.listTaskGroup(TASK, query={"limit": 2})
    queue.getArtifact(TASK, 3, "public/x")
    targets = [r.target for r in server.requests]
    assert targets == [
        "/api/queue/v1/claim-work/proj-tutorial%2Fworker",
        f"/api/queue/v1/task/{TASK}/artifact-info/public%2Fhello%20world.txt",
        f"/api/queue/v1/task-group/{TASK}/list?limit=2",
        f"/api/queue/v1/task/{TASK}/runs/3/artifacts/public%2Fx",
    ]
    assert [r.method for r in server.requests] == ["POST", "GET", "GET", "GET"]


def test_bad_arguments_are_clear_errors_before_any_request(server, queue):
    with pytest.raises(TaskclusterError, match="needs a payload"):
        queue.createTask(TASK)
    with pytest.raises(TaskclusterError, match="takes no payload"):
        queue.status(TASK, payload={"x": 1})
    with pytest.raises(TaskclusterError, match="must be a string or an integer"):
        queue.status(None)
    with pytest.raises(TaskclusterError, match="unexpected keyword"):
        queue.status(TASK, limit=3)
    with pytest.raises(TaskclusterError, match="cannot be sent as JSON"):
        queue.createTask(TASK, {"when": object()})
    assert server.requests == []


def test_keyword_conventions_of_the_official_client(server, queue):
    queue.createTask(payload={"a": 1}, params={"taskId": TASK})
    rec = server.requests[-1]
    assert rec.method == "PUT" and rec.path == f"/api/queue/v1/task/{TASK}"
    assert rec.body == b'{"a":1}'


def test_close_then_call_again_reopens(server, queue):
    queue.ping()
    queue.close()
    queue.ping()
    assert len(server.requests) == 2
