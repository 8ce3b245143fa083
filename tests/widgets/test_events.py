"""EventLog: Pulse messages from the mock's event stream, given messages, and the real-deployment note."""

from __future__ import annotations

import asyncio
import threading

from tutorial_kit.widgets import EventLog


def _wait_for(log: EventLog, predicate, timeout: float = 15.0) -> bool:
    """Block (bounded) until predicate(log) holds, woken by the messages trait."""
    done = threading.Event()

    def check(_change=None):
        if predicate(log):
            done.set()

    log.observe(check, names="messages")
    check()
    try:
        return done.wait(timeout)
    finally:
        log.unobserve(check, names="messages")


def _exchanges_for(log: EventLog, task_id: str) -> list[str]:
    return [m["exchange"] for m in log.messages if m["taskId"] == task_id]


def test_follows_the_mock_event_stream_in_a_thread(queue, drive):
    log = EventLog(queue)
    try:
        assert log.following_mock and log._refresher.mode == "thread"
        task_id = drive.make_task()
        run_id = drive.claim(task_id)
        queue.reportCompleted(task_id, run_id)
        assert _wait_for(log, lambda l: "task-completed" in _exchanges_for(l, task_id))
        assert _exchanges_for(log, task_id) == ["task-defined", "task-pending", "task-running",
                                                "task-completed"]
        completed = next(m for m in log.messages
                         if m["taskId"] == task_id and m["exchange"] == "task-completed")
        assert completed["state"] == "completed" and completed["runId"] == run_id
        assert completed["routingKey"].startswith(f"primary.{task_id}.{run_id}.tests.w1.")

        other = drive.make_task()
        assert _wait_for(log, lambda l: "task-pending" in _exchanges_for(l, other))
        log.taskId = task_id  # the filter (linked to the text box)
        assert log._task_filter.value == task_id
        assert {m["taskId"] for m in log.matching()} == {task_id}
        assert other not in log._table.value and task_id in log._table.value
        frame = log.frame()
        assert list(frame["exchange"]) == ["task-defined", "task-pending", "task-running",
                                           "task-completed"]
        assert str(frame["received"].dtype).startswith("datetime64")
        assert str(frame["runId"].dtype) == "Int64"
        seqs = [m["seq"] for m in log.messages]
        assert seqs == sorted(set(seqs))  # in order, nothing repeated across reconnects
    finally:
        log.stop()


def test_follows_the_mock_event_stream_as_an_asyncio_task(queue, drive):
    async def scenario() -> list[str]:
        log = EventLog(queue)
        assert log._refresher.mode == "asyncio"
        task_id = await asyncio.to_thread(drive.make_task)
        for _ in range(200):  # bounded: 200 x 50 ms
            if "task-pending" in _exchanges_for(log, task_id):
                break
            await asyncio.sleep(0.05)
        log.stop()
        return _exchanges_for(log, task_id)

    assert asyncio.run(scenario()) == ["task-defined", "task-pending"]


def test_messages_given_by_the_caller():
    key = "primary.fN1ZmbYyRzWe0O9Ywd63Yw.0.wg.wi.prov.wt.-.fN1ZmbYyRzWe0O9Ywd63Yw._"
    given = [
        {"exchange": "exchange/taskcluster-queue/v1/task-running", "routingKey": key,
         "payload": {"version": 1, "runId": 0, "status": {"taskId": "fN1ZmbYyRzWe0O9Ywd63Yw",
                                                          "state": "running"}}},
        {"exchange": "exchange/taskcluster-queue/v1/task-group-resolved",
         "routingKey": "primary.fN1ZmbYyRzWe0O9Ywd63Yw.-._",
         "payload": {"version": 1, "taskGroupId": "fN1ZmbYyRzWe0O9Ywd63Yw"}},
    ]
    log = EventLog(messages=given)
    assert [m["exchange"] for m in log.messages] == ["task-running", "task-group-resolved"]
    assert log.messages[0]["runId"] == 0 and log.messages[0]["state"] == "running"
    assert log.messages[1]["taskId"] is None
    assert log.messages[1]["taskGroupId"] == "fN1ZmbYyRzWe0O9Ywd63Yw"
    log.taskGroupId = "fN1ZmbYyRzWe0O9Ywd63Yw"
    assert len(log.matching()) == 2
    assert repr(log) == "EventLog(messages=2, shown=2)"

    def generator():
        yield from given

    streamed = EventLog(messages=generator())
    assert _wait_for(streamed, lambda l: len(l.messages) == 2, timeout=5)


def test_a_real_deployment_gets_a_note(oracle_deployment):
    log = EventLog(root_url=oracle_deployment)
    assert not log.following_mock and not log._refresher.running
    assert "Pulse" in log._banner.value and 'role="note"' in log._banner.value


def test_stops_after_an_idle_stream(queue, monkeypatch):
    from tutorial_kit.widgets import events as module

    monkeypatch.setattr(module, "READ_TIMEOUT", 0.2)
    log = EventLog(queue, idle_timeout=0.3, since=10**9)  # nothing will ever arrive after this
    assert log._refresher.wait(timeout=20)
    assert not log._refresher.running and "start()" in log._banner.value
