"""The crash control ends the run that is running now, in the mode chosen, and never a later
run: through ``POST /mock/v1/faults`` (what ``ClusterControls``' crash button sends), through
``POST /mock/v1/tasks/<taskId>/crash`` (``MockControl.crash``), and through the widget itself."""

from __future__ import annotations

import time

import httpx
import pytest

import tutorial_kit as tk
from tutorial_kit import lessons
from tutorial_kit.mock.sim.faults import Faults
from tutorial_kit.mockctl import MockControl

SLOW_FIRST_RUN = 'if [ "$RUN_ID" = 0 ]; then sleep 300; else echo "run $RUN_ID: done"; fi'


@pytest.fixture
def mock():
    from tutorial_kit.mock import start

    server = start(claim_wait=0.3)
    assert server.cluster is not None, server.cluster_error
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def queue(mock):
    return tk.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials)})


def running_on_its_worker(mock, queue, task_id: str) -> None:
    """Run 0 is running and the cluster's worker holds it (bounded wait, no timing assert)."""
    lessons.wait_for_run(queue, task_id, 0, "running", timeout=30)
    give_up = time.monotonic() + 30
    while not any(r["taskId"] == task_id for r in mock.cluster.running()):
        assert time.monotonic() < give_up, "the shell engine never took the run in hand"
        time.sleep(0.02)


def slow_task(queue, retries: int = 2) -> str:
    task_id = tk.slugid()
    queue.createTask(task_id, lessons.tutorial_task(SLOW_FIRST_RUN, retries=retries,
                                                    task_queue="tutorial/docker-worker"))
    return task_id


def post_fault(mock, body: dict) -> httpx.Response:
    return httpx.post(f"{mock.root_url}/mock/v1/faults", json=body, timeout=30)


def test_crash_button_worker_shutdown_ends_the_running_run(mock, queue):
    task_id = slow_task(queue)
    running_on_its_worker(mock, queue, task_id)
    answer = post_fault(mock, {"kind": "crash", "taskId": task_id, "mode": "worker-shutdown",
                               "after": 0.0})
    assert answer.status_code == 200, answer.text
    assert answer.json()["tasks"] == [], "the crash was armed for a later run instead"
    status = lessons.wait_resolved(queue, task_id, timeout=60)
    assert lessons.runs_summary(status) == [
        (0, "exception", "scheduled", "worker-shutdown"),
        (1, "completed", "retry", "completed"),  # the retry is not crashed
    ]
    fired = mock.faults.fired()
    assert any("crashed the worker of run 0" in line and task_id in line for line in fired)


def test_crash_button_claim_expired_silences_the_running_run(mock, queue):
    task_id = slow_task(queue)
    running_on_its_worker(mock, queue, task_id)
    version = mock.faults.version
    answer = post_fault(mock, {"kind": "crash", "taskId": task_id, "mode": "claim-expired"})
    assert answer.status_code == 200 and answer.json()["tasks"] == []
    assert mock.faults.version > version  # a fault list redraws when a fault fires
    # the worker is gone but the queue cannot know yet: the run is still running
    give_up = time.monotonic() + 30
    while any(r["taskId"] == task_id for r in mock.cluster.running()):
        assert time.monotonic() < give_up, "the crashed run stayed on its worker"
        time.sleep(0.02)
    assert queue.status(task_id)["status"]["runs"][0]["state"] == "running"
    MockControl(mock.root_url).advance("21 minutes")
    status = lessons.wait_resolved(queue, task_id, timeout=60)
    assert lessons.runs_summary(status) == [
        (0, "exception", "scheduled", "claim-expired"),
        (1, "completed", "retry", "completed"),
    ]


def test_mock_control_crash_ends_the_running_run(mock, queue):
    task_id = slow_task(queue, retries=0)
    running_on_its_worker(mock, queue, task_id)
    MockControl(mock.root_url).crash(task_id, mode="worker-shutdown")
    status = lessons.wait_resolved(queue, task_id, timeout=60)
    assert lessons.runs_summary(status) == [(0, "exception", "scheduled", "worker-shutdown")]
    queue.rerunTask(task_id)
    status = lessons.wait_resolved(queue, task_id, timeout=60)
    assert status["runs"][-1]["state"] == "completed", "the crash leaked into the rerun"


def test_the_cluster_controls_widget_crashes_the_running_run(mock, queue):
    pytest.importorskip("ipywidgets")
    from tutorial_kit.widgets import ClusterControls

    task_id = slow_task(queue, retries=0)
    running_on_its_worker(mock, queue, task_id)
    ClusterControls(queue).crash(task_id, mode="worker-shutdown")
    status = lessons.wait_resolved(queue, task_id, timeout=60)
    assert lessons.runs_summary(status) == [(0, "exception", "scheduled", "worker-shutdown")]


def test_a_crash_for_a_pending_task_waits_for_its_first_run_only(mock, queue):
    task_id = tk.slugid()
    task = lessons.tutorial_task(SLOW_FIRST_RUN, retries=1, task_queue="nobody/serves-this")
    queue.createTask(task_id, task)
    answer = post_fault(mock, {"kind": "crash", "taskId": task_id, "mode": "worker-shutdown"})
    assert answer.status_code == 200
    lines = [t["description"] for t in answer.json()["tasks"]]
    assert lines == [f"#{answer.json()['tasks'][0]['id']}: crash the worker (worker-shutdown) "
                     f"on the next run of task {task_id}"]


def test_fault_lines_are_readable():
    """Every armed fault comes with its sentence (``description``), which the widget shows."""
    faults = Faults()
    faults.fail_next("status", 2, status=500)
    faults.add_latency("claimWork", 0.5)
    faults.crash_when_running(None, "claim-expired", after=1.5,
                              task_queue_id="tutorial/docker-worker", count=1)
    described = faults.describe()
    lines = [f["description"] for f in [*described["requests"], *described["tasks"]]]
    assert lines == [
        "#1: status answers 500 (2 more call(s))",
        "#2: claimWork waits 0.5 s (until cleared)",
        "#3: crash the worker (claim-expired, 1.5 s in) on the next run of task queue "
        "tutorial/docker-worker",
    ]


def test_a_crash_is_never_armed_for_a_later_run_of_a_task_that_is_over(mock, queue):
    task_id = tk.slugid()
    queue.createTask(task_id, lessons.builtin_task("succeed"))
    assert lessons.wait_resolved(queue, task_id, timeout=30)["state"] == "completed"
    answer = post_fault(mock, {"kind": "crash", "taskId": task_id, "mode": "worker-shutdown"})
    assert answer.status_code == 400
    assert "is completed: no run of it is going on" in answer.json()["message"]
    assert mock.faults.describe()["tasks"] == []
    unknown = post_fault(mock, {"kind": "crash", "taskId": tk.slugid()})
    assert unknown.status_code == 400 and "there is no task" in unknown.json()["message"]
    # a rerun then runs undisturbed
    queue.rerunTask(task_id)
    status = lessons.wait_resolved(queue, task_id, timeout=30)
    assert lessons.runs_summary(status)[-1] == (1, "completed", "rerun", "completed")
