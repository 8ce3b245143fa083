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
from tutorial_kit.mock.classroom import enroll

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
    ("lesson2", "watch_a_failure", "failing"),
    ("lesson4", "rerun_after_failure", "again"),
    ("lesson6", "fail_honestly", "tid"),
])
def test_a_learner_runs_the_solution_verbatim(shell, lesson, factory, task_var):
    run(shell, f"from tutorial_kit.exercises import {lesson}\nexercise = {lesson}.{factory}(queue)")
    exercise = shell.user_ns["exercise"]
    result = exercise.check()
    assert result.outcome is Outcome.UNATTEMPTED and "exercise.check(task_id)" in result.message
    assert "request log" in result.message
    run(shell, str(exercise.solution()))
    result = exercise.check(shell.user_ns[task_var])
    assert result.passed, str(result)


def test_lesson6_claims_from_the_learners_own_queue_as_the_learners_group(shell):
    run(shell, "from tutorial_kit.exercises import lesson6\nexercise = lesson6.fail_honestly(queue)")
    exercise = shell.user_ns["exercise"]
    assert exercise.task_queue.startswith("learner-alice/")
    assert exercise.worker_group == "alice"
    assert "my-laptop" not in exercise.solution()
