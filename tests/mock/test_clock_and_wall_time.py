"""A mock whose clock a lesson moved forward still takes tasks from the official clients, whose
``fromNowJSON('')`` counts from the real clock; a refusal says what happened and how to reset."""

from __future__ import annotations

import datetime as dt

import pytest

taskcluster = pytest.importorskip("taskcluster")

from tutorial_kit.mockctl import MockControl  # noqa: E402


@pytest.fixture
def mock():
    from tutorial_kit.mock import start

    server = start(workers=False)
    try:
        yield server
    finally:
        server.stop()


def official_queue(mock):
    return taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials)})


def official_task(created: str, deadline: str) -> dict:
    return {"taskQueueId": "learner/terminal", "created": created, "deadline": deadline,
            "payload": {}, "metadata": {"name": "from a terminal", "description": "official client",
                                        "owner": "me@example.com",
                                        "source": "https://example.com/terminal"}}


def test_official_client_after_the_mock_clock_moved_ahead(mock):
    control = MockControl(mock.root_url)
    control.advance("21 minutes")  # what lessons 4 and 6 do
    queue = official_queue(mock)
    task_id = taskcluster.slugId()
    answer = queue.createTask(task_id, official_task(taskcluster.fromNowJSON(""),
                                                     taskcluster.fromNowJSON("2 hours")))
    assert answer["status"]["state"] == "pending"
    # the mock's own time still counts too: a client following the mock's clock is accepted
    mock_now = control.now()
    answer = queue.createTask(taskcluster.slugId(), official_task(
        mock_now.isoformat().replace("+00:00", "Z"),
        (mock_now + dt.timedelta(hours=2)).isoformat().replace("+00:00", "Z")))
    assert answer["status"]["state"] == "pending"


def test_a_created_far_from_both_clocks_is_refused_with_the_way_back(mock):
    control = MockControl(mock.root_url)
    control.advance("3 hours")
    queue = official_queue(mock)
    with pytest.raises(taskcluster.TaskclusterRestFailure) as caught:
        queue.createTask(taskcluster.slugId(), official_task(
            taskcluster.fromNowJSON("-1 hour"), taskcluster.fromNowJSON("5 hours")))
    message = str(caught.value)
    assert "`created` cannot be in the past" in message
    assert "180 min ahead of real time" in message and '"action": "reset"' in message
    # a deadline left behind by the jump says the same
    with pytest.raises(taskcluster.TaskclusterRestFailure) as caught:
        queue.createTask(taskcluster.slugId(), official_task(
            taskcluster.fromNowJSON(""), taskcluster.fromNowJSON("2 hours")))
    assert "`deadline` cannot be in the past" in str(caught.value)
    assert "reset" in str(caught.value)
    # following the advice works
    control.reset_clock()
    assert abs((control.now() - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 60
    answer = queue.createTask(taskcluster.slugId(), official_task(
        taskcluster.fromNowJSON(""), taskcluster.fromNowJSON("2 hours")))
    assert answer["status"]["state"] == "pending"


def test_clock_at_real_time_keeps_the_queue_s_own_message(mock):
    queue = official_queue(mock)
    with pytest.raises(taskcluster.TaskclusterRestFailure) as caught:
        queue.createTask(taskcluster.slugId(), official_task(
            taskcluster.fromNowJSON("-16 minutes"), taskcluster.fromNowJSON("2 hours")))
    assert "`created` cannot be in the past (max 15min drift)." in str(caught.value)
    assert "real time" not in str(caught.value)
