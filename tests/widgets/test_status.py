"""StatusWidget against the mock queue: its state after each transition of a real task."""

from __future__ import annotations

import asyncio
import re

import pytest

from tutorial_kit.widgets import StatusWidget



def _badge_text(widget: StatusWidget) -> str:
    match = re.search(r'class="tk-badge[^"]*" data-state="([^"]+)"', widget._header.value)
    assert match, widget._header.value
    return match.group(1)


def test_state_after_each_transition(queue, drive):
    task_id = drive.make_task(retries=1)
    widget = StatusWidget(queue, task_id, start=False)
    assert widget.state == ""

    widget.refresh()
    assert widget.state == "pending" and _badge_text(widget) == "pending"
    assert "widget test" in widget._header.value
    assert "<strong>widget</strong>" in widget._header.value  # the description is markdown
    assert len(widget.status["runs"]) == 1
    assert "scheduled" in widget._runs.value

    run_id = drive.claim(task_id)
    widget.refresh()
    assert widget.state == "running" and _badge_text(widget) == "running"
    assert "tests/w1" in widget._runs.value
    assert 'class="tk-run-running"' in widget._timeline.value

    queue.reportException(task_id, run_id, {"reason": "worker-shutdown"})
    widget.refresh()
    runs = widget.status["runs"]
    assert widget.state == "pending" and len(runs) == 2  # a retry run appeared
    assert runs[0]["reasonResolved"] == "worker-shutdown" and runs[1]["reasonCreated"] == "retry"
    assert widget._runs.value.count("<tr>") == 3  # header + two runs
    assert "worker-shutdown" in widget._runs.value and "retry" in widget._runs.value

    run_id = drive.claim(task_id)
    assert run_id == 1
    queue.reportCompleted(task_id, run_id)
    widget.refresh()
    assert widget.state == "completed" and _badge_text(widget) == "completed"
    assert widget._next_delay() is None  # resolved: nothing more to follow by default
    frame = widget.frame()
    assert list(frame["state"]) == ["exception", "completed"]
    assert str(frame["ran"].dtype).startswith("timedelta64")
    assert repr(widget) == "StatusWidget(state='completed', runs=2)"


def test_raw_json_toggle_shows_the_answer_as_returned(queue, drive):
    task_id = drive.make_task()
    widget = StatusWidget(queue, task_id, start=False)
    widget.refresh()
    assert widget._raw.layout.display == "none"
    widget._raw_toggle.value = True
    assert widget._raw.layout.display == ""
    assert task_id in widget._raw.value and "&quot;state&quot;: &quot;pending&quot;" in widget._raw.value
    expected = queue.status(task_id)
    assert list(expected["status"]) == list(widget.status)  # key order kept as returned


def test_background_thread_follows_to_completion_and_stops(queue, drive):
    task_id = drive.make_task()
    widget = StatusWidget(queue, task_id, interval=0.05)  # no running loop here: a thread
    assert widget.running and widget._refresher.mode == "thread"
    run_id = drive.claim(task_id)
    queue.reportCompleted(task_id, run_id)
    assert widget.wait(timeout=20)["state"] == "completed"
    assert not widget.running


def test_asyncio_task_follows_to_completion(queue, drive):
    task_id = drive.make_task()

    async def scenario() -> tuple[str, str, bool]:
        widget = StatusWidget(queue, task_id, interval=0.05)
        mode = widget._refresher.mode
        run_id = await asyncio.to_thread(drive.claim, task_id)
        await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
        state = (await widget.until_resolved(timeout=20))["state"]
        return mode, state, widget.running

    mode, state, running = asyncio.run(scenario())
    assert (mode, state, running) == ("asyncio", "completed", False)


def test_wait_inside_a_running_loop_steps_inline(queue, drive):
    """In a kernel, wait() cannot block the loop its own task runs on: it steps in the caller."""
    task_id = drive.make_task()
    run_id = drive.claim(task_id)

    async def scenario() -> str:
        widget = StatusWidget(queue, task_id, interval=0.05)
        await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
        return widget.wait(timeout=20)["state"]

    assert asyncio.run(scenario()) == "completed"


def test_connection_problem_shows_a_banner_and_keeps_retrying():
    import socket

    from tutorial_kit import Queue

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    queue = Queue({"rootUrl": f"http://127.0.0.1:{port}", "maxRetries": 0})
    widget = StatusWidget(queue, "fN1ZmbYyRzWe0O9Ywd63Yw", interval=0.05)
    try:
        assert widget.error and "127.0.0.1" in widget.error
        assert 'role="alert"' in widget._banner.value and "retrying" in widget._banner.value
        assert widget.running  # it did not die
        assert widget.wait(timeout=0.3) == {}  # still retrying after several attempts
        assert widget.running
        assert widget._failures >= 2
    finally:
        widget.stop()
        queue.close()
    assert widget._refresher._done.wait(5)


def test_unknown_task_is_an_error_not_a_crash(queue):
    widget = StatusWidget(queue, "fN1ZmbYyRzWe0O9Ywd63Yw", start=False)
    assert widget.refresh() is None
    assert "ResourceNotFound" in widget.error


def test_bad_task_id_is_refused_clearly(queue):
    with pytest.raises(ValueError, match="taskId"):
        StatusWidget(queue, "")


def test_works_with_the_async_client(mock, drive, queue):
    from tutorial_kit import AsyncQueue

    task_id = drive.make_task()

    async def scenario() -> tuple[str, str]:
        aqueue = AsyncQueue({"rootUrl": mock.root_url, "credentials": mock.credentials})
        widget = StatusWidget(aqueue, task_id, interval=0.05)  # first fetch in the background
        for _ in range(200):  # bounded: until the first answer is shown
            if widget.state:
                break
            await asyncio.sleep(0.05)
        first = widget.state
        run_id = await asyncio.to_thread(drive.claim, task_id)
        await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
        final = (await widget.until_resolved(timeout=20))["state"]
        with pytest.raises(RuntimeError, match="until_resolved"):
            widget.refresh()  # the blocking form cannot drive an AsyncQueue inside a loop
        close = getattr(aqueue, "aclose", None) or getattr(aqueue, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        return first, final

    assert asyncio.run(scenario()) == ("pending", "completed")


def test_keeps_a_slow_poll_until_the_deadline_when_asked(queue, drive):
    from datetime import timedelta

    task_id = drive.make_task()
    run_id = drive.claim(task_id)
    queue.reportCompleted(task_id, run_id)
    widget = StatusWidget(queue, task_id, start=False, stop_when_resolved=False,
                          resolved_interval=30)
    widget.refresh()
    assert widget._next_delay() == 30  # a rerun is still possible before the deadline
    deadline = widget.status["deadline"]
    from tutorial_kit.render.html import parse_time
    widget._now = lambda: parse_time(deadline) + timedelta(seconds=1)
    assert widget._next_delay() is None  # past the deadline nothing can change


def test_follows_the_event_stream_on_the_mock(queue, drive):
    task_id = drive.make_task()

    async def scenario() -> tuple[str, str, int]:
        # interval=60: a poller would not see the change within the 30 s below; the stream does
        widget = StatusWidget(queue, task_id, interval=60)
        assert widget._refresher.mode == "asyncio"
        run_id = await asyncio.to_thread(drive.claim, task_id)
        await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
        final = await widget.until_resolved(timeout=30)
        return widget.following, final["state"], widget._event_seq

    following, state, seq = asyncio.run(scenario())
    assert (following, state) == ("events", "completed") and seq > 0


def test_polls_where_there_is_no_event_stream(oracle_deployment):
    from tutorial_kit import Queue

    queue = Queue({"rootUrl": oracle_deployment, "maxRetries": 0})
    widget = StatusWidget(queue, "fN1ZmbYyRzWe0O9Ywd63Yw", start=False)
    assert widget.following == "poll"
    queue.close()


def test_timeline_label_advances_while_the_task_runs(queue, drive):
    """Lesson 2's timeline: its "+…s" label grows while the run runs, though a running task
    sends no message (and no poll is due) until it resolves."""
    import asyncio
    import re

    task_id = drive.make_task()
    run_id = drive.claim(task_id)

    async def scenario() -> list[float]:
        widget = StatusWidget(queue, task_id, follow="events", interval=2.0, tick=0.1)
        assert widget.following == "events"
        labels: list[float] = []
        widget._timeline.observe(lambda change: labels.extend(
            float(x) for x in re.findall(r'text-anchor="end">\+([0-9.]+)s<', change["new"])),
            names="value")
        await asyncio.sleep(1.0)  # ten ticks; the event stream stays quiet meanwhile
        assert widget.state == "running" and widget.running
        while_running = list(labels)
        await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
        assert (await widget.until_resolved(timeout=10))["state"] == "completed"
        await asyncio.sleep(0.3)
        assert widget._ticker.done()  # the ticker ends with the following
        return while_running

    labels = asyncio.run(scenario())
    assert len(labels) >= 5, labels
    assert labels == sorted(labels) and labels[-1] - labels[0] >= 0.5, labels


def test_timeline_follows_the_mocks_clock_when_a_lesson_moves_it(mock_queue_url):
    """A lesson moves the mock's clock forward (MockControl.advance) while a run is open: the
    timeline's "now", its "+…" label and the bars' durations are on the deployment's time (the
    same clock fromNow() follows after connect()), not on the wall clock."""
    import re
    from datetime import timedelta

    from tutorial_kit import Queue, fromNowJSON, slugid
    from tutorial_kit.frames import timeline
    from tutorial_kit.mockctl import MockControl

    root_url = str(mock_queue_url)  # the plain string: the fixture's value also carries the mock
    queue = Queue({"rootUrl": root_url, "credentials": mock_queue_url.credentials})
    control = MockControl(root_url)
    queue_id = "tk-widgets/clock"  # no built-in worker serves it: the run stays open
    task_id = slugid()
    queue.createTask(task_id, {
        "taskQueueId": queue_id, "created": fromNowJSON("0 seconds"),
        "deadline": fromNowJSON("1 day"), "payload": {},
        "metadata": {"name": "clock", "description": "d", "owner": "tests@example.com",
                     "source": "https://example.com/tutorial-kit"}})

    def seconds(text: str) -> float:
        match = re.fullmatch(r"(?:(\d+)h )?(?:(\d+)m )?([0-9.]+)s", text)
        assert match, text
        h, m, s = match.groups()
        return int(h or 0) * 3600 + int(m or 0) * 60 + float(s)

    def label(svg: str) -> float:
        return seconds(re.search(r'text-anchor="end">\+([^<]+)<', svg).group(1))

    def bar(svg: str, state: str) -> float:
        return seconds(re.search(rf"<title>{state} ([^<]+)</title>", svg).group(1))

    async def until(widget: StatusWidget, test) -> str:
        for _ in range(100):  # the ticker redraws every 0.1 s: 10 s at most
            if test(widget._timeline.value):
                break
            await asyncio.sleep(0.1)
        return widget._timeline.value

    async def scenario() -> tuple[str, str, str]:
        widget = StatusWidget(queue, task_id, interval=2.0, tick=0.1)
        await until(widget, lambda svg: "pending" in svg)
        await asyncio.to_thread(control.advance, "1 hour")
        pending = await until(widget, lambda svg: label(svg) >= 3600)
        frame_svg = timeline(widget.frame()).svg
        reply = await asyncio.to_thread(queue.claimWork, queue_id,
                                        {"workerGroup": "tests", "workerId": "w1", "tasks": 1})
        assert [t["status"]["taskId"] for t in reply["tasks"]] == [task_id]
        await until(widget, lambda svg: "<title>running" in svg)
        await asyncio.to_thread(control.advance, "10 minutes")
        running = await until(widget, lambda svg: "<title>running" in svg
                              and bar(svg, "running") >= 600)
        widget.stop()
        return pending, frame_svg, running

    pending, frame_svg, running = asyncio.run(scenario())
    hour = timedelta(hours=1).total_seconds()
    # a minute of slack for the test's own wall time, far below the hour the clock moved
    assert hour <= label(pending) < hour + 60, pending
    assert hour <= bar(pending, "pending") < hour + 60, pending
    assert hour <= bar(frame_svg, "pending") < hour + 60, frame_svg  # frames.timeline() too
    assert 600 <= bar(running, "running") < 660, running
    assert hour + 600 <= label(running) < hour + 660, running
    queue.close()
