"""ClusterControls: the mock's clock and faults, and a note on a real deployment."""

from __future__ import annotations

import pytest

from tutorial_kit import Queue, TaskclusterError
from tutorial_kit.widgets import ClusterControls
from tutorial_kit.render.html import parse_time
from tutorial_kit.mockctl import MockOnlyError


def test_clock_controls(queue):
    controls = ClusterControls(queue)
    assert controls.available
    try:
        _clock_round_trip(controls)
    finally:
        controls.reset_clock()
    clock = controls.clock
    assert clock["paused"] is False and clock["speed"] == 1


def _clock_round_trip(controls: ClusterControls) -> None:
    paused = controls.pause()
    assert paused["paused"] is True and "paused" in controls._clock_view.value
    before = parse_time(paused["now"])
    after = parse_time(controls.advance(3600)["now"])
    assert (after - before).total_seconds() == pytest.approx(3600, abs=1)
    later = parse_time(controls.advance("2 minutes")["now"])
    assert (later - after).total_seconds() == pytest.approx(120, abs=1)
    assert controls.speed(10)["speed"] == 10
    assert controls.speed(1)["speed"] == 1
    assert controls.resume()["paused"] is False
    assert repr(controls) == "ClusterControls(paused=False)"


def test_fault_buttons(queue, drive, mock):
    controls = ClusterControls(queue)
    controls.fail_next("status", count=1, status=500)
    assert "status" in controls._faults_view.value
    task_id = drive.make_task()
    impatient = Queue({"rootUrl": mock.root_url, "maxRetries": 0})
    with pytest.raises(TaskclusterError) as failure:
        impatient.status(task_id)
    assert failure.value.status_code == 500
    assert impatient.status(task_id)["status"]["state"] == "pending"  # only the next one failed
    impatient.close()

    controls.crash(task_id, "worker-shutdown")
    assert task_id in controls._faults_view.value
    controls.clear_faults()
    assert "no faults armed" in controls._faults_view.value
    with pytest.raises(ValueError):
        controls.crash(task_id, "meteor")
    # the mock refusing a control shows as a banner; nothing is raised into the cell
    assert controls.fail_next("noSuchMethod") == {}
    assert 'role="alert"' in controls._banner.value and "noSuchMethod" in controls._banner.value


def test_a_real_deployment_gets_a_note(oracle_deployment):
    controls = ClusterControls(root_url=oracle_deployment)
    assert not controls.available
    assert "mock queue" in controls._banner.value
    with pytest.raises(MockOnlyError):
        controls.pause()


def _until(predicate, timeout: float = 15.0) -> bool:
    import time

    give_up = time.monotonic() + timeout
    while not predicate() and time.monotonic() < give_up:
        time.sleep(0.05)
    return predicate()


def test_the_fault_list_reads_as_sentences_and_follows_a_fault_firing(queue, drive, mock):
    """Armed faults show as readable lines; when one fires, the list says so without a click
    (the widget watches the list while a fault is armed, and stops once none is)."""
    controls = ClusterControls(queue)
    controls.clear_faults()
    try:
        controls.fail_next("status", count=1, status=503)
        view = controls._faults_view.value
        assert "status answers 503 (1 more call(s))" in view and "{" not in view
        task_id = drive.make_task()
        impatient = Queue({"rootUrl": mock.root_url, "maxRetries": 0})
        with pytest.raises(TaskclusterError):
            impatient.status(task_id)
        impatient.close()
        assert _until(lambda: "no faults armed" in controls._faults_view.value)
        assert any("status answered 503" in line for line in controls.fired)
        assert "fired lately" in controls._faults_view.value
        assert _until(lambda: not controls._watch.running)  # nothing armed: it stops watching
    finally:
        controls.stop()
        controls.clear_faults()


def test_the_fault_list_follows_a_fault_firing_inside_a_running_loop(queue, drive, mock):
    import asyncio

    async def scenario() -> None:
        controls = ClusterControls(queue)
        controls.clear_faults()
        controls.fail_next("status", count=1, status=500)
        assert controls._watch.mode == "asyncio"
        task_id = drive.make_task()
        impatient = Queue({"rootUrl": mock.root_url, "maxRetries": 0})
        with pytest.raises(TaskclusterError):
            await asyncio.to_thread(impatient.status, task_id)
        impatient.close()
        assert await controls._watch.until_done(timeout=15)
        assert "no faults armed" in controls._faults_view.value
        assert any("status answered 500" in line for line in controls.fired)

    asyncio.run(scenario())
