"""Exercises, judged as a learner meets them: every cell runs in a real IPython shell against the
real mock over HTTP, and each exercise goes through no attempt, a hard-coded fake, a wrong
attempt, a right attempt after it (the solution, run verbatim), and a second check.

Built-in tasks here have the empty payload the real built-in workers require, so these tests
hold whether or not the mock refuses other payloads.
"""

from __future__ import annotations

import time

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import tutorial_kit as tk
from tutorial_kit.exercises import Outcome, lesson0, lesson1, lesson2, lesson3, lesson4
from tutorial_kit.exercises import lesson5, lesson6
from tutorial_kit.lessons import tutorial_task, wait_resolved
from tutorial_kit.mockctl import MockControl

pytestmark = pytest.mark.slow


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


@pytest.fixture()
def control(mock):
    with MockControl(mock.root_url) as handle:
        yield handle


@pytest.fixture(scope="module")
def shell():
    """A real IPython shell, as in a notebook's kernel (no history file)."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ipython = InteractiveShell.instance(config=config)
    yield ipython
    InteractiveShell.clear_instance()


class Learner:
    """Runs cells as a learner does, in one namespace that has `tk`, `queue` and `time`."""

    def __init__(self, shell: InteractiveShell, queue: tk.Queue):
        self.shell = shell
        shell.user_ns.update(tk=tk, queue=queue, time=time)

    def run(self, code: str, *, may_raise: bool = False):
        result = self.shell.run_cell(code)
        if not may_raise:
            assert result.error_in_exec is None and result.error_before_exec is None, \
                f"cell failed: {result.error_in_exec or result.error_before_exec}"
        return result

    def show(self, factory: str) -> None:
        self.run(f"from tutorial_kit.exercises import lesson0, lesson1, lesson2, lesson3, "
                 f"lesson4, lesson5, lesson6\nexercise = {factory}")

    @property
    def exercise(self):
        return self.shell.user_ns["exercise"]

    def check(self, expected: Outcome, *args):
        """Check twice: the answer is as expected, and the same the second time."""
        first = self.exercise.check(*args)
        second = self.exercise.check(*args)
        assert first.outcome is expected, str(first)
        assert str(second) == str(first), (str(first), str(second))
        return first

    def solve(self) -> None:
        """Run the exercise's solution verbatim."""
        self.run(str(self.exercise.solution()))


@pytest.fixture()
def learner(shell, queue):
    return Learner(shell, queue)


def builtin(task_queue: str, **fields) -> dict:
    return tutorial_task(task_queue=task_queue, payload={}, **fields)


# -- lesson 0 ------------------------------------------------------------------------------
def test_lesson0_requires_the_error_caught(learner, capsys):
    learner.show("lesson0.unknown_task(queue)")
    result = learner.check(Outcome.UNATTEMPTED)
    assert "no task or status call" in result.message
    learner.run('print("ResourceNotFound")')  # the fake: the expected text, no call
    learner.check(Outcome.UNATTEMPTED)
    learner.run('try:\n    queue.status("nonsense")\nexcept tk.TaskclusterError as e:\n'
                '    print(e.code)')
    assert "malformed" in learner.check(Outcome.FAILED).message
    uncaught = learner.run("queue.task(tk.slugid())", may_raise=True)
    assert isinstance(uncaught.error_in_exec, tk.TaskclusterError)
    result = learner.check(Outcome.FAILED)
    assert "uncaught" in result.message and "try" in result.hint
    learner.solve()
    assert "ResourceNotFound" in capsys.readouterr().out
    assert "caught ResourceNotFound" in learner.check(Outcome.PASSED).message


def test_lesson0_a_later_uncaught_error_is_the_latest_attempt(learner):
    learner.show("lesson0.unknown_task(queue)")
    learner.solve()
    learner.check(Outcome.PASSED)
    learner.run("queue.status(tk.slugid())", may_raise=True)
    learner.check(Outcome.FAILED)


# -- lesson 1 ------------------------------------------------------------------------------
def test_lesson1(learner):
    learner.run("task = tk.lessons.tutorial_task()")
    learner.show("lesson1.high_priority_task(queue)")
    learner.check(Outcome.UNATTEMPTED)
    learner.run('print("Task has priority high, 1 retry and the tag lesson: 1.")')
    learner.check(Outcome.UNATTEMPTED)
    learner.run('queue.createTask(tk.slugid(), dict(task, taskQueueId="built-in/succeed", '
                'priority="low", retries=1, tags={"lesson": "1"}))')
    result = learner.check(Outcome.FAILED)
    assert "priority is 'low', not 'high'" in result.details
    assert any("payload is not empty" in d for d in result.details)
    learner.solve()
    learner.check(Outcome.PASSED)


# -- lesson 2 ------------------------------------------------------------------------------
def settle(exercise, words: str, timeout: float = 30.0):
    """Check until the message has ``words`` (the check's own reads are not the learner's)."""
    give_up = time.monotonic() + timeout
    while words not in (result := exercise.check()).message and time.monotonic() < give_up:
        time.sleep(0.1)
    return result


def keep_running(control: MockControl, task_id: str) -> None:
    """The built-in worker will claim this task and then hang on to it (its claim lapses
    only after the mock's claim timeout): the task stays running."""
    control.add_fault("crash", taskId=task_id, mode="claim-expired", nextRun=True)


def test_lesson2_counts_only_the_learners_reads(learner, queue):
    learner.show("lesson2.watch_a_failure(queue)")
    learner.check(Outcome.UNATTEMPTED)
    learner.run('print("pending")\nprint("failed")')  # the fake
    learner.check(Outcome.UNATTEMPTED)
    task_id = tk.slugid()
    queue.createTask(task_id, builtin("built-in/fail"))
    # the check reads the status itself, again and again: none of that is the learner's
    settle(learner.exercise, "read its status")
    result = learner.check(Outcome.FAILED)
    assert "have not read its status" in result.message
    learner.solve()
    assert "watched it until it resolved" in learner.check(Outcome.PASSED).message


def test_lesson2_wrong_queue_then_right(learner, queue):
    learner.show("lesson2.watch_a_failure(queue)")
    wrong = tk.slugid()
    queue.createTask(wrong, builtin("built-in/succeed"))
    wait_resolved(queue, wrong)
    assert "not built-in/fail" in learner.check(Outcome.FAILED).message
    learner.solve()
    learner.check(Outcome.PASSED)


def test_lesson2_reads_that_stop_before_the_end_do_not_count(learner, queue, control):
    learner.show("lesson2.watch_a_failure(queue)")
    task_id = tk.slugid()
    keep_running(control, task_id)
    queue.createTask(task_id, builtin("built-in/fail"))
    tk.lessons.wait_for_run(queue, task_id, 0, "running")
    queue.status(task_id)  # two reads or more, all while it runs
    assert "still running" in learner.check(Outcome.FAILED).message
    # the run fails after the learner's last read (reported here as the worker would)
    queue.reportFailed(task_id, 0)
    result = learner.check(Outcome.FAILED)
    assert "before it resolved" in result.message
    queue.status(task_id)  # one more read, now that it has failed
    learner.check(Outcome.PASSED)


# -- lesson 3 ------------------------------------------------------------------------------
ERROR_ARTIFACT = '''
broken = tk.slugid()
queue.createTask(broken, tk.lessons.tutorial_task(
    "echo hello > hello.txt",
    artifacts={"public/hello.txt": {"type": "file", "path": "/tmp/hello.txt",
                                    "expires": tk.fromNowJSON("1 day")}}))
tk.lessons.wait_resolved(queue, broken)
'''


def test_lesson3_an_error_artifact_does_not_poison_a_later_attempt(learner):
    learner.show("lesson3.hello_artifact(queue)")
    learner.check(Outcome.UNATTEMPTED)
    learner.run('print("hello")')
    learner.check(Outcome.UNATTEMPTED)
    learner.run(ERROR_ARTIFACT)
    result = learner.check(Outcome.FAILED)
    assert "error artifact" in result.message and "path" in result.hint
    learner.solve()
    assert "downloaded" in learner.check(Outcome.PASSED).message


def test_lesson3_wants_the_download(learner):
    learner.show("lesson3.hello_artifact(queue)")
    learner.run('t = tk.slugid()\nqueue.createTask(t, tk.lessons.tutorial_task(\n'
                '    "echo hello > hello.txt", artifacts={"public/hello.txt": {"type": "file", '
                '"path": "hello.txt", "expires": tk.fromNowJSON("1 day")}}))\n'
                'tk.lessons.wait_resolved(queue, t)')
    result = learner.check(Outcome.FAILED)
    assert "not downloaded" in result.message
    learner.run('queue.downloadLatestArtifact(t, "public/hello.txt")')
    learner.check(Outcome.PASSED)


# -- lesson 4 ------------------------------------------------------------------------------
def test_lesson4(learner, queue):
    learner.show("lesson4.rerun_after_failure(queue)")
    learner.check(Outcome.UNATTEMPTED)
    learner.run('print("run 0 failed, run 1 is your rerun")')
    learner.check(Outcome.UNATTEMPTED)
    # not a built-in task: a worker of the learner's own that reports failure
    other = tk.slugid()
    queue.createTask(other, tutorial_task(task_queue="learner/ex4-test"))
    claim = queue.claimWork("learner/ex4-test", {"workerGroup": "g", "workerId": "w",
                                                 "tasks": 1})["tasks"][0]
    queue.reportFailed(other, claim["runId"])
    queue.rerunTask(other)
    assert "not built-in/fail" in learner.check(Outcome.FAILED).message
    learner.solve()
    assert "your rerun" in learner.check(Outcome.PASSED).message


def test_lesson4_explains_a_rerun_of_an_unresolved_task(learner, queue, control):
    learner.show("lesson4.rerun_after_failure(queue)")
    task_id = tk.slugid()
    keep_running(control, task_id)
    queue.createTask(task_id, builtin("built-in/fail"))
    tk.lessons.wait_for_run(queue, task_id, 0, "running")
    queue.rerunTask(task_id)  # too early: the Queue answers with the status, adds no run
    assert len(queue.status(task_id)["status"]["runs"]) == 1
    result = learner.check(Outcome.FAILED)
    assert "before it had resolved" in result.message
    assert any("does nothing" in d for d in result.details)
    learner.solve()
    learner.check(Outcome.PASSED)


def test_lesson4_names_the_empty_payload_when_a_builtin_refuses_it(learner, queue, control):
    learner.show("lesson4.rerun_after_failure(queue)")
    task_id = tk.slugid()
    control._call("POST", "/faults", {"kind": "malformed", "taskId": task_id})
    queue.createTask(task_id, builtin("built-in/fail"))
    wait_resolved(queue, task_id)
    result = learner.check(Outcome.FAILED)
    assert "malformed-payload" in result.message and "payload={}" in result.hint


# -- lesson 5 ------------------------------------------------------------------------------
def test_lesson5(learner, queue):
    learner.show("lesson5.diamond(queue)")
    learner.check(Outcome.UNATTEMPTED)
    learner.run('print("Group is a diamond, and every task completed.")')
    learner.check(Outcome.UNATTEMPTED)
    # the diamond, without a taskGroupId: one clear message, not one line per task
    learner.run('t, l, r, b = (tk.slugid() for _ in range(4))\n'
                'for tid, deps in ((t, []), (l, [t]), (r, [t]), (b, [l, r])):\n'
                '    queue.createTask(tid, tk.lessons.tutorial_task(task_queue="built-in/succeed",'
                ' dependencies=deps, payload={}))\n'
                'tk.lessons.wait_resolved(queue, b)')
    result = learner.check(Outcome.FAILED)
    assert "without a taskGroupId" in result.message and "taskGroupId" in result.hint
    assert result.details == []
    learner.solve()
    learner.check(Outcome.PASSED)


def test_lesson5_shape(learner):
    learner.show("lesson5.diamond(queue)")
    learner.run('g = tk.slugid()\nids = [tk.slugid() for _ in range(4)]\n'
                'for tid in ids:\n'
                '    queue.createTask(tid, tk.lessons.tutorial_task(task_queue="built-in/succeed",'
                ' taskGroupId=g, payload={}))\n'
                'tk.lessons.wait_resolved(queue, ids[-1])')
    assert "not shaped like a diamond" in learner.check(Outcome.FAILED).message


# -- lesson 6 ------------------------------------------------------------------------------
def test_lesson6(learner, queue, mock):
    learner.show("lesson6.fail_honestly(queue)")
    exercise = learner.exercise
    assert exercise.worker_group == "my-laptop"
    assert exercise.task_queue.startswith("learner/")
    learner.check(Outcome.UNATTEMPTED)
    learner.run('print("you claimed it and reported it failed")')
    learner.check(Outcome.UNATTEMPTED)
    # claimed, then reported with the learner's own credentials, not the claim's
    learner.run('t = tk.slugid()\n'
                'queue.createTask(t, tk.lessons.tutorial_task("true", '
                'task_queue=exercise.task_queue))\n'
                'c = queue.claimWork(exercise.task_queue, {"workerGroup": "my-laptop", '
                '"workerId": "w1", "tasks": 1})["tasks"][0]')
    assert "nobody has claimed" not in learner.check(Outcome.FAILED).message
    learner.run('queue.reportFailed(t, c["runId"])')
    result = learner.check(Outcome.FAILED)
    assert "temporary credentials" in result.message and "reported by: tutorial" in result.message
    learner.solve()
    assert "temporary credentials" in learner.check(Outcome.PASSED).message


def test_lesson6_solution_works_again_on_the_same_queue(learner, queue):
    """A second run of the lesson, after the first left a stray pending task behind."""
    for _ in range(2):
        learner.show("lesson6.fail_honestly(queue)")
        stray = tk.slugid()  # a task nobody will claim, in the learner's default worker queue
        queue.createTask(stray, tutorial_task("true", task_queue=tk.lessons.worker_queue()))
        learner.solve()
        learner.check(Outcome.PASSED)


def test_lesson6_takes_its_queue_and_group_from_arguments(learner):
    learner.show('lesson6.fail_honestly(queue, task_queue="learner-alice/mine", '
                 'worker_group="alice")')
    assert learner.exercise.task_queue == "learner-alice/mine"
    assert "alice" in learner.exercise.solution() or "worker_group" in learner.exercise.solution()
    learner.solve()
    learner.check(Outcome.PASSED)


# -- the machinery -----------------------------------------------------------------------
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


def test_outcomes_show_as_learntools_does(queue):
    exercise = lesson1.high_priority_task(queue)
    result = exercise.check()
    assert str(result).startswith("○ Unattempted:")
    html = result._repr_html_()
    assert "Unattempted" in html and "color:" in html
    queue.createTask(tk.slugid(), builtin("built-in/succeed", priority="high", retries=1,
                                          tags={"lesson": "1"}))
    result = exercise.check()
    assert str(result).startswith("✔ Correct:") and "Correct" in result._repr_html_()
    queue.createTask(tk.slugid(), builtin("built-in/succeed"))
    result = exercise.check()
    assert str(result).startswith("✘ Incorrect:") and "Hint:" in str(result)
    assert "Incorrect" in result._repr_html_() and "Hint:" in result._repr_html_()


def test_solutions_are_syntax_highlighted(queue):
    solution = lesson1.high_priority_task(queue).solution()
    assert repr(solution) == str(solution)  # plain text: the code itself, no quotes
    html = solution._repr_html_()
    # pygments colours the keyword-argument names and the strings, inline
    assert '<span style="color:' in html and "createTask" in html and "Solution:" in html


def malformed(control: MockControl, task_id: str) -> None:
    """The built-in worker refuses this task's payload, as the real service refuses any payload
    but ``{}``: exception/malformed-payload."""
    control._call("POST", "/faults", {"kind": "malformed", "taskId": task_id})


def test_lesson2_names_the_empty_payload_when_a_builtin_refuses_it(learner, queue, control):
    learner.show("lesson2.watch_a_failure(queue)")
    task_id = tk.slugid()
    malformed(control, task_id)
    queue.createTask(task_id, builtin("built-in/fail"))
    wait_resolved(queue, task_id)
    result = learner.check(Outcome.FAILED)
    assert "exception (malformed-payload)" in result.message and "payload={}" in result.hint


def test_lesson5_names_the_empty_payload_when_a_builtin_refuses_it(learner, queue, control):
    learner.show("lesson5.diamond(queue)")
    group, top, left, right, bottom = (tk.slugid() for _ in range(5))
    malformed(control, top)
    for task_id, deps in ((top, []), (left, [top]), (right, [top]), (bottom, [left, right])):
        queue.createTask(task_id, builtin("built-in/succeed", taskGroupId=group,
                                          dependencies=deps))
    wait_resolved(queue, top)
    result = learner.check(Outcome.FAILED)
    assert "not completed" in result.message and "malformed-payload" in result.message
    assert "payload={}" in result.hint


# -- a long session: the mock's request log is a ring ------------------------------------------
@pytest.fixture()
def small_ring():
    """A mock whose request log keeps only the last 40 calls (the real default is 2000)."""
    from collections import deque

    from tutorial_kit.mock import start

    with start(workers=False) as handle:
        handle.request_log._records = deque(maxlen=40)
        client = tk.Queue({"rootUrl": handle.root_url, "credentials": handle.credentials})
        yield client
        client.close()


def test_a_checked_attempt_survives_the_log_moving_on(small_ring):
    exercise = lesson1.high_priority_task(small_ring)
    small_ring.createTask(tk.slugid(), builtin("built-in/succeed", priority="high", retries=1,
                                               tags={"lesson": "1"}))
    assert exercise.check().passed
    for _ in range(60):  # the ring forgets the createTask
        small_ring.ping()
    assert exercise.check().passed


def test_an_attempt_the_log_dropped_unread_asks_for_the_task_id(small_ring):
    exercise = lesson1.high_priority_task(small_ring)
    task_id = tk.slugid()
    small_ring.createTask(task_id, builtin("built-in/succeed", priority="high", retries=1,
                                           tags={"lesson": "1"}))
    for _ in range(60):
        small_ring.ping()
    result = exercise.check()
    assert result.outcome is Outcome.UNATTEMPTED and "exercise.check(task_id)" in result.message
    assert exercise.check(task_id).passed


def test_lesson6_without_the_log_knows_the_learners_own_client_reported(queue, mock):
    """As on a real deployment whose learner holds broad scopes: the log is not read."""
    exercise = lesson6.fail_honestly(queue)
    exercise.context.control = None  # the check must not read the request log here
    from tutorial_kit.exercises.context import recorder_for

    recorder = recorder_for(queue)
    exercise.context.recorder = recorder
    exercise.context.created_since = len(recorder.created)
    queue.createTask(task_id := tk.slugid(), tutorial_task("true", task_queue=exercise.task_queue))
    claim = queue.claimWork(exercise.task_queue, {"workerGroup": exercise.worker_group,
                                                  "workerId": "w", "tasks": 1})["tasks"][0]
    queue.reportFailed(task_id, claim["runId"])
    result = exercise.check()
    assert result.outcome is Outcome.FAILED and "your own credentials" in result.message
