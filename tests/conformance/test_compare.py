"""The step comparison: exact where the README says exact, loose only where it allows."""

from __future__ import annotations

import copy

from .compare import compare_step, compare_trace

STEP = {
    "step": 3, "call": "queue.reportCompleted", "status": 200,
    "headers": {"content-type": "application/json; charset=utf-8"},
    "body": {"status": {"state": "completed", "runs": [
        {"runId": 0, "state": "completed", "takenUntil": "<step2+20m>", "resolved": "<step3>"}]}},
    "messages": [
        {"exchange": "exchange/taskcluster-queue/v1/task-completed", "routingKey": "primary.T1.0.wg.w.golden.x.-.T1._",
         "payload": {"runId": 0, "takenUntil": "<step2+20m|+00:00>"}},
        {"exchange": "exchange/taskcluster-queue/v1/task-group-resolved", "routingKey": "primary.T1.-._",
         "payload": {"taskGroupId": "T1"}},
    ],
}
ERROR = {
    "step": 4, "call": "queue.reportFailed", "status": 409, "headers": {"content-type": "application/json"},
    "body": {"code": "RequestConflict", "message": "Run 0 of task `T1` is not running.\n---\n* time: <step4>",
             "requestInfo": {"method": "reportFailed", "params": {"taskId": "T1", "runId": "0"}, "payload": {},
                             "time": "<step4>"}},
    "messages": [],
}


def paths(golden, got):
    return [m.path for m in compare_step(golden, got)]


def test_identical_steps_match():
    assert compare_step(STEP, copy.deepcopy(STEP)) == []
    assert compare_trace({"steps": [STEP, ERROR], "trailingMessages": []},
                         [copy.deepcopy(STEP), copy.deepcopy(ERROR)], []) == []


def test_run_fields_are_exact():
    got = copy.deepcopy(STEP)
    got["body"]["status"]["runs"][0]["state"] = "running"
    got["body"]["status"]["runs"][0]["resolved"] = "<step4>"
    del got["body"]["status"]["runs"][0]["takenUntil"]
    mismatches = compare_step(STEP, got)
    assert [m.path for m in mismatches] == ["body.status.runs[0].resolved", "body.status.runs[0].state",
                                           "body.status.runs[0].takenUntil"]
    assert "step 3 (queue.reportCompleted) body.status.runs[0].state: expected 'completed', got 'running'" \
        in [str(m) for m in mismatches]


def test_message_order_and_attribution_are_exact():
    got = copy.deepcopy(STEP)
    got["messages"].reverse()
    assert "messages[0].exchange" in paths(STEP, got)
    got = copy.deepcopy(STEP)
    got["messages"].pop()
    assert paths(STEP, got) == ["messages.length"]
    unordered = dict(copy.deepcopy(STEP), messagesUnordered=True)
    unordered["messages"].sort(key=lambda m: (m["exchange"], m["routingKey"]))
    reversed_got = copy.deepcopy(unordered)
    reversed_got["messages"].reverse()
    assert compare_step(unordered, reversed_got) == []


def test_loose_parts():
    got = copy.deepcopy(STEP)
    got["headers"]["content-type"] = "application/json"
    got["messages"][0]["payload"]["takenUntil"] = "<step2+20m>"  # the +00:00 tag may go
    got["messages"][0]["cc"] = []  # an empty cc is the same as none
    assert compare_step(STEP, got) == []
    got["headers"]["content-type"] = "text/plain"
    assert paths(STEP, got) == ["headers.content-type"]


def test_error_messages_are_loose_but_name_the_same_ids():
    got = copy.deepcopy(ERROR)
    got["body"]["message"] = "Run 0 of task `T1` cannot be failed now"
    assert compare_step(ERROR, got) == []
    got["body"]["message"] = "Run 0 cannot be failed now"
    assert paths(ERROR, got) == ["body.message"]
    got = copy.deepcopy(ERROR)
    got["body"]["code"] = "InputError"
    assert paths(ERROR, got) == ["body.code"]


def test_storage_urls_are_loose_but_keep_signing():
    golden = {"step": 7, "call": "queue.getLatestArtifact", "status": 303,
              "headers": {"location": "<storage>/public-bucket/T1/0/a.txt"},
              "body": {"storageType": "s3", "url": "<storage>/public-bucket/T1/0/a.txt"}, "messages": []}
    got = copy.deepcopy(golden)
    got["headers"]["location"] = got["body"]["url"] = "<rootUrl>/mock/v1/blobs/public/T1/0/a.txt"
    assert compare_step(golden, got) == []
    got["body"]["url"] = "<rootUrl>/mock/v1/blobs/public/T1/0/a.txt?sig=1"
    assert set(paths(golden, got)) == {"body.url", "headers.location == body.url"}


def test_compact_steps_compare_the_summary():
    golden = {"step": 9, "call": "queue.claimWork", "status": 200, "headers": {},
              "body": {"tasks": [{"runId": 1, "status": {"state": "running", "retriesLeft": 4, "runCount": 2,
                                                         "lastRun": {"runId": 1, "state": "running",
                                                                     "reasonCreated": "retry"}}}]},
              "messages": [{"exchange": "e", "routingKey": "primary.T1.1"}]}
    full = {"tasks": [{"runId": 1, "credentials": {}, "status": {"state": "running", "retriesLeft": 4, "runs": [
        {"runId": 0, "state": "exception", "reasonCreated": "scheduled"},
        {"runId": 1, "state": "running", "reasonCreated": "retry", "started": "<step9>"}]}}]}
    got = {"step": 9, "call": "queue.claimWork", "status": 200, "headers": {}, "body": full,
           "messages": [{"exchange": "e", "routingKey": "primary.T1.1", "payload": {"x": 1}}]}
    assert compare_step(golden, got) == []
    full["tasks"][0]["status"]["retriesLeft"] = 5
    assert paths(golden, got) == ["body.tasks[0].status.retriesLeft"]
