"""``taskQueueCountsBatch`` (newer than the v106 references): counts of several task queues in
one call, through the official client and ours, with its all-or-nothing scopes."""

from __future__ import annotations

import pytest
import taskcluster
from taskcluster.exceptions import TaskclusterRestFailure

import tutorial_kit as tk
from tutorial_kit.mock import start


@pytest.fixture(scope="module")
def mock():
    with start(workers=False, claim_wait=0.2, check_output=True) as m:
        yield m


def make_task(queue, task_queue_id: str) -> None:
    queue.createTask(tk.slugid(), {
        "taskQueueId": task_queue_id, "created": tk.fromNowJSON("0 seconds"),
        "deadline": tk.fromNowJSON("1 day"), "payload": {},
        "metadata": {"name": "n", "description": "d", "owner": "t@example.com",
                     "source": "https://example.com/x"}})


def test_counts_of_several_queues(mock):
    ours = tk.Queue(rootUrl=mock.root_url, credentials=dict(mock.credentials), maxRetries=0)
    for _ in range(2):
        make_task(ours, "proj-batch/a")
    make_task(ours, "proj-batch/b")
    ours.claimWork("proj-batch/b", {"workerGroup": "wg", "workerId": "w", "tasks": 1})
    ids = ["proj-batch/a", "proj-batch/b", "proj-batch/empty"]
    got = ours.taskQueueCountsBatch({"taskQueueIds": ids})["taskQueueCounts"]
    assert [(c["taskQueueId"], c["pendingTasks"], c["claimedTasks"]) for c in got] == [
        ("proj-batch/a", 2, 0), ("proj-batch/b", 0, 1), ("proj-batch/empty", 0, 0)]
    assert got[0] == ours.taskQueueCounts("proj-batch/a")
    official = taskcluster.Queue({"rootUrl": mock.root_url, "maxRetries": 0,
                                  "credentials": dict(mock.credentials)})
    assert official.taskQueueCountsBatch({"taskQueueIds": ids})["taskQueueCounts"] == got


def test_scopes_for_every_queue_and_the_schema(mock):
    mock_client = dict(mock.credentials)
    creds = taskcluster.createTemporaryCredentials(
        mock_client["clientId"], mock_client["accessToken"], taskcluster.fromNow("-1 minute"),
        taskcluster.fromNow("1 hour"),
        ["queue:pending-count:proj-batch/a", "queue:claimed-count:proj-batch/a"])
    limited = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": creds,
                                 "maxRetries": 0})
    assert limited.taskQueueCountsBatch({"taskQueueIds": ["proj-batch/a"]})
    with pytest.raises(TaskclusterRestFailure) as info:
        limited.taskQueueCountsBatch({"taskQueueIds": ["proj-batch/a", "proj-batch/b"]})
    assert info.value.status_code == 403
    assert "queue:pending-count:proj-batch/b" in info.value.body["message"]
    with pytest.raises(TaskclusterRestFailure) as info:
        limited.taskQueueCountsBatch({"taskQueueIds": ["proj-batch/a", "proj-batch/a"]})
    assert info.value.body["code"] == "InputValidationError"
