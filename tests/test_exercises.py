"""Exercises: each check reads the queue (and the mock's request log), with four outcomes."""

from __future__ import annotations

import pytest

import tutorial_kit as tk
from tutorial_kit.exercises import Outcome, lesson0, lesson1, lesson2, lesson4, lesson5, lesson6
from tutorial_kit.lessons import tutorial_task, wait_resolved, worker_queue


@pytest.fixture(scope="module")
def mock():
    from tutorial_kit.mock import start

    with start(claim_wait=0.5) as handle:
        yield handle


@pytest.fixture()
def queue(mock):
    client = tk.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    yield client
    client.close()


def builtin(task_queue: str, **fields) -> dict:
    task = tutorial_task(task_queue=task_queue, **fields)
    task["payload"] = {}
    return task


def test_unknown_task_goes_from_unattempted_to_failed_to_passed(queue):
    exercise = lesson0.unknown_task(queue)
    assert exercise.check().outcome is Outcome.UNATTEMPTED
    with pytest.raises(tk.TaskclusterError):
        queue.status("nonsense")
    result = exercise.check()
    assert result.outcome is Outcome.FAILED and "malformed" in result.message
    with pytest.raises(tk.TaskclusterError):
        queue.task(tk.slugid())
    assert exercise.check().passed


def test_high_priority_task_names_what_is_wrong(queue):
    exercise = lesson1.high_priority_task(queue)
    task_id = tk.slugid()
    queue.createTask(task_id, builtin("built-in/succeed", priority="low", retries=1))
    result = exercise.check()
    assert result.outcome is Outcome.FAILED
    assert any("priority is 'low'" in d for d in result.details)
    queue.createTask(tk.slugid(), builtin("built-in/succeed", priority="high", retries=1,
                                          tags={"lesson": "1"}))
    assert exercise.check().passed


def test_watch_a_failure_wants_polling(queue):
    exercise = lesson2.watch_a_failure(queue)
    task_id = tk.slugid()
    queue.createTask(task_id, builtin("built-in/fail"))
    wait_resolved(queue, task_id)  # reads the status until failed: at least once
    queue.status(task_id)
    assert exercise.check().passed


def test_rerun_after_failure(queue):
    exercise = lesson4.rerun_after_failure(queue)
    task_id = tk.slugid()
    queue.createTask(task_id, builtin("built-in/fail"))
    wait_resolved(queue, task_id)
    assert exercise.check().outcome is Outcome.FAILED
    queue.rerunTask(task_id)
    assert exercise.check().passed


def test_diamond(queue):
    exercise = lesson5.diamond(queue)
    group = tk.slugid()
    top, left, right, bottom = (tk.slugid() for _ in range(4))
    for task_id, deps in ((top, []), (left, [top]), (right, [top]), (bottom, [left, right])):
        queue.createTask(task_id, builtin("built-in/succeed", taskGroupId=group,
                                          dependencies=deps))
    wait_resolved(queue, bottom)
    assert exercise.check().passed, exercise.check()


def test_fail_honestly(queue, mock):
    exercise = lesson6.fail_honestly(queue)
    task_id = tk.slugid()
    queue.createTask(task_id, tutorial_task(task_queue=worker_queue()))
    claim = queue.claimWork(worker_queue(), {"workerGroup": "g", "workerId": "w", "tasks": 1})
    item = claim["tasks"][0]
    worker = tk.Queue({"rootUrl": mock.root_url, "credentials": item["credentials"]})
    assert exercise.check().outcome is Outcome.FAILED
    worker.reportFailed(item["status"]["taskId"], item["runId"])
    assert exercise.check().passed


def test_a_check_that_cannot_run_is_errored_not_failed(mock):
    exercise = lesson4.rerun_after_failure(tk.Queue({"rootUrl": mock.root_url}))
    exercise.context.queue = tk.Queue({"rootUrl": "http://127.0.0.1:9", "maxRetries": 0})
    exercise.context.control = None
    assert exercise.check(tk.slugid()).outcome is Outcome.ERRORED


def test_hints_are_layered_and_solutions_hidden(queue):
    exercise = lesson1.high_priority_task(queue)
    hidden = exercise.solution()
    assert hidden not in repr(exercise) and hidden not in exercise._repr_markdown_()
    first = exercise.hint()
    second = exercise.hint()
    assert first.count("Hint ") == 1 and second.count("Hint ") == 2
    assert "createTask" in hidden
