"""Exercises as a classroom learner meets them: a strict mock queue (the control plane and its
request log closed to learners), the learner's own scopes, ``TUTORIAL_KIT_SCHEDULER_ID`` set.
The solutions must run verbatim with the learner's rights, and the checks, which cannot read
the request log here, judge the taskId the learner passes.
"""

from __future__ import annotations

import time

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import tutorial_kit as tk
from tutorial_kit.exercises import Outcome
from tutorial_kit.mock.security.classroom import enroll

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def classroom():
    from tutorial_kit.mock import start

    learners, clients = enroll(["alice", "bob"])
    with start(strict=True, clients=clients, claim_wait=0.5) as handle:
        yield handle, learners


@pytest.fixture()
def alice(classroom, monkeypatch):
    handle, learners = classroom
    monkeypatch.setenv("TUTORIAL_KIT_SCHEDULER_ID", "alice")
    me = learners[0]
    client = tk.Queue({"rootUrl": handle.root_url,
                       "credentials": {"clientId": me.client_id, "accessToken": me.access_token}})
    yield client
    client.close()


@pytest.fixture()
def shell(alice):
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ipython = InteractiveShell.instance(config=config)
    ipython.user_ns.update(tk=tk, queue=alice, time=time)
    yield ipython
    InteractiveShell.clear_instance()


def run(shell: InteractiveShell, code: str) -> None:
    result = shell.run_cell(code)
    assert result.error_in_exec is None and result.error_before_exec is None, \
        f"cell failed: {result.error_in_exec or result.error_before_exec}"


@pytest.mark.parametrize("lesson, factory, task_var", [
    ("lesson0", "unknown_task", None),
    ("lesson1", "high_priority_task", None),
    ("lesson2", "watch_a_failure", "failing"),
    ("lesson3", "hello_artifact", "hello"),
    ("lesson4", "rerun_after_failure", "again"),
    ("lesson5", "diamond", "b"),
    ("lesson6", "fail_honestly", "tid"),
])
def test_a_learner_runs_the_solution_verbatim(shell, lesson, factory, task_var):
    run(shell, "task = tk.lessons.tutorial_task()")  # lesson 1's starting point
    run(shell, f"from tutorial_kit.exercises import {lesson}\nexercise = {lesson}.{factory}(queue)")
    exercise = shell.user_ns["exercise"]
    result = exercise.check()
    assert result.outcome is Outcome.UNATTEMPTED, str(result)
    run(shell, str(exercise.solution()))
    # the request log is closed to learners: the check observed the learner's own client
    result = exercise.check()
    assert result.passed, str(result)
    assert str(exercise.check()) == str(result)
    if task_var:  # naming the task works too
        assert exercise.check(shell.user_ns[task_var]).passed


def test_without_the_log_a_check_still_judges_the_latest_attempt(shell):
    run(shell, "from tutorial_kit.exercises import lesson0\nexercise = lesson0.unknown_task(queue)")
    exercise = shell.user_ns["exercise"]
    run(shell, 'print("ResourceNotFound")')  # the fake
    assert exercise.check().outcome is Outcome.UNATTEMPTED
    shell.run_cell("queue.task(tk.slugid())")  # uncaught
    result = exercise.check()
    assert result.outcome is Outcome.FAILED and "uncaught" in result.message
    run(shell, str(exercise.solution()))
    assert exercise.check().passed


def test_a_client_the_exercise_did_not_get_asks_for_the_task_id(shell, alice):
    run(shell, "from tutorial_kit.exercises import lesson4\nexercise = lesson4.rerun_after_failure(queue)")
    other = tk.Queue({"rootUrl": alice.options["rootUrl"],
                      "credentials": alice.options["credentials"]})
    task_id = tk.slugid()
    other.createTask(task_id, tk.lessons.tutorial_task(task_queue="built-in/fail", payload={}))
    result = shell.user_ns["exercise"].check()
    assert result.outcome is Outcome.UNATTEMPTED and "exercise.check(task_id)" in result.message
    assert "request log" in result.message


def test_lesson6_claims_from_the_learners_own_queue_as_the_learners_group(shell):
    run(shell, "from tutorial_kit.exercises import lesson6\nexercise = lesson6.fail_honestly(queue)")
    exercise = shell.user_ns["exercise"]
    assert exercise.task_queue.startswith("learner-alice/")
    assert exercise.worker_group == "alice"
    assert "my-laptop" not in exercise.solution()


def test_without_the_log_lesson2_sees_what_the_learners_reads_saw(shell, alice, classroom):
    handle, _ = classroom
    run(shell, "from tutorial_kit.exercises import lesson2\nexercise = lesson2.watch_a_failure(queue)")
    exercise = shell.user_ns["exercise"]
    task_id = tk.slugid()
    # the teacher's control plane keeps the built-in worker on this task: it stays running
    handle.faults.arm({"kind": "crash", "taskId": task_id, "mode": "claim-expired",
                       "nextRun": True})
    alice.createTask(task_id, tk.lessons.tutorial_task(task_queue="built-in/fail", payload={}))
    tk.lessons.wait_for_run(alice, task_id, 0, "running")
    assert "still running" in exercise.check().message
    teacher = tk.Queue({"rootUrl": handle.root_url, "credentials": handle.credentials})
    teacher.reportFailed(task_id, 0)  # it fails after the learner's last read
    result = exercise.check()
    assert result.outcome is Outcome.FAILED and "last status read saw running" in result.message
    alice.status(task_id)
    assert exercise.check().passed
    teacher.close()
