"""The helpers in ``tutorial_kit.lessons`` that let a lesson run anywhere: the task queue from
``TUTORIAL_KIT_TASK_QUEUE``, a worker queue of each run's own, classroom names, and cells that
skip themselves (one line) where there is no mock."""

from __future__ import annotations

import pathlib
import re

import pytest

from tutorial_kit import lessons
from tutorial_kit.api import PARAM_PATTERNS

from lessons_support import NOTEBOOKS, ServedMock, not_a_mock as serve_not_a_mock, run_nbval


@pytest.fixture(autouse=True)
def _fresh_worker_queue(monkeypatch):
    monkeypatch.setattr(lessons, "_worker_queue", None)
    monkeypatch.delenv("TUTORIAL_KIT_SCHEDULER_ID", raising=False)
    monkeypatch.delenv(lessons.TASK_QUEUE_ENV, raising=False)


def test_task_queue_defaults_to_the_tutorial_s_and_follows_the_environment(monkeypatch):
    assert lessons.task_queue() == "tutorial/docker-worker"
    assert lessons.tutorial_task()["taskQueueId"] == "tutorial/docker-worker"
    monkeypatch.setenv(lessons.TASK_QUEUE_ENV, "my-pool/linux")
    assert lessons.task_queue() == "my-pool/linux"
    assert lessons.tutorial_task()["taskQueueId"] == "my-pool/linux"
    assert lessons.tutorial_task(task_queue="built-in/fail")["taskQueueId"] == "built-in/fail"


def test_each_run_gets_a_worker_queue_of_its_own():
    first = lessons.new_worker_queue()
    assert lessons.worker_queue() == first
    second = lessons.new_worker_queue()
    assert second != first and lessons.worker_queue() == second
    pattern = re.compile(PARAM_PATTERNS["taskQueueId"])
    assert pattern.match(first) and first.startswith("learner/my-worker-")
    assert lessons.worker_group() == "my-laptop"


def test_a_classroom_learner_claims_under_their_own_names(monkeypatch):
    monkeypatch.setenv("TUTORIAL_KIT_SCHEDULER_ID", "alice")
    queue_id = lessons.new_worker_queue()
    assert queue_id.startswith("learner-alice/my-worker-")  # queue:claim-work:learner-alice/*
    assert lessons.worker_group() == "alice"  # queue:worker-id:alice/*
    assert lessons.tutorial_task()["schedulerId"] == "alice"


@pytest.fixture
def not_a_mock():
    """A plain HTTP server that answers 404 to everything, as a deployment does to /mock/v1."""
    with serve_not_a_mock() as url:
        yield url


def test_mock_only_cells_skip_with_one_line_on_a_real_deployment(not_a_mock, capsys):
    control = lessons.mock_control(not_a_mock, quiet=True)
    assert control is None
    assert lessons.on_mock(control) is False
    lessons.restore_clock(control)  # nothing to restore, and no error
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out == lessons.SKIP_NOTE + "\n"


def test_mock_only_cells_run_on_the_mock(capsys):
    import tutorial_kit as tk

    queue = tk.connect(quiet=True)
    control = lessons.mock_control(queue)
    assert control is not None and lessons.on_mock(control) is True
    control.advance("21 minutes")
    lessons.restore_clock(control)
    assert capsys.readouterr().out == "The mock's clock is back to real time.\n"
    assert control.clock()["paused"] is False


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_lessons_run_their_tasks_on_tutorial_kit_task_queue(tmp_path: pathlib.Path):
    """As on a real deployment with the learner's own worker: nothing serves the tutorial's
    queue, a worker serves TUTORIAL_KIT_TASK_QUEUE, and the lessons pass under nbval."""
    own = "learners-pool/shell"
    mock = ServedMock(tmp_path / "queue.sqlite3", "--shell-queue", own).start()
    try:
        notebooks = [NOTEBOOKS / f"{name}.ipynb" for name in
                     ("01-create-task", "02-monitor-status", "04-retries-reruns",
                      "05-groups-dependencies", "06-be-a-worker")]
        result = run_nbval(mock.child_env(TUTORIAL_KIT_TASK_QUEUE=own), notebooks)
        assert result.returncode == 0, result.stdout[-6000:]
        from tutorial_kit.mockctl import MockControl

        with MockControl(mock.root_url) as control:
            queues = {t["task"]["taskQueueId"] for t in control.state()["tasks"]}
        assert own in queues
        assert "tutorial/docker-worker" not in queues
        assert all(q == own or q.startswith(("built-in/", "learner/")) for q in queues), queues
    finally:
        mock.stop()


def test_a_decision_task_holds_its_graph_until_the_notebook_completes_it():
    """Lesson 5's graph waits on a task the notebook claimed, not on a task that sleeps; the
    notebook reports it done as its worker, with the claim's temporary credentials."""
    import tutorial_kit as tk

    queue = tk.connect(quiet=True)
    control = lessons.mock_control(queue, quiet=True)
    assert control is not None
    group = tk.slugid()
    decision = lessons.decision_task(queue, group)
    task = queue.task(decision.task_id)
    assert task["taskGroupId"] == group and task["payload"] == {}
    assert task["taskQueueId"].startswith("learner/decision-")
    assert queue.status(decision.task_id)["status"]["runs"][0]["workerGroup"] == "my-laptop"

    dependent = tk.slugid()
    queue.createTask(dependent, lessons.builtin_task(taskGroupId=group,
                                                     dependencies=[decision.task_id]))
    seq = control.last_seq()
    assert queue.status(dependent)["status"]["state"] == "unscheduled"
    assert queue.status(decision.task_id)["status"]["state"] == "running"

    assert decision.complete()["state"] == "completed"
    assert lessons.wait_resolved(queue, dependent)["state"] == "completed"
    reports = [r for r in control.requests(since=seq)
               if decision.task_id in r["route"] and r["route"].endswith("/completed")]
    assert len(reports) == 1, "reportCompleted of the decision task is not in the request log"
    assert reports[0]["clientId"].startswith(
        f"task-client/{decision.task_id}/0/on/my-laptop/notebook/")


def test_a_classroom_learner_s_decision_task_is_under_their_names(monkeypatch):
    import tutorial_kit as tk

    monkeypatch.setenv("TUTORIAL_KIT_SCHEDULER_ID", "alice")
    queue = tk.connect(quiet=True)
    decision = lessons.decision_task(queue, tk.slugid())
    assert queue.task(decision.task_id)["taskQueueId"].startswith("learner-alice/decision-")
    assert queue.status(decision.task_id)["status"]["runs"][0]["workerGroup"] == "alice"
    decision.complete()
