"""The built-in workers take no instructions, as on a real deployment: a task on
``built-in/succeed`` or ``built-in/fail`` whose payload is not ``{}`` resolves
``exception`` / ``malformed-payload``; with ``{}`` it completes or fails."""

from __future__ import annotations

import pytest

import tutorial_kit as tk
from tutorial_kit import lessons


@pytest.fixture(scope="module", params=["served", "in-process"])
def queue(request):
    """The threaded built-in workers of a served mock, and the asyncio ones of an in-process
    mock: both follow the same rule."""
    from tutorial_kit.mock import start

    mock = start(claim_wait=0.3, in_process=request.param == "in-process")
    try:
        yield tk.Queue({"rootUrl": mock.root_url, "credentials": dict(mock.credentials)})
    finally:
        mock.stop()


def last_run(queue, task_id: str) -> tuple[str, str]:
    status = lessons.wait_resolved(queue, task_id, timeout=30)
    run = status["runs"][-1]
    return run["state"], run["reasonResolved"]


@pytest.mark.parametrize("outcome, expected", [("succeed", ("completed", "completed")),
                                               ("fail", ("failed", "failed"))])
def test_an_empty_payload_gets_the_queue_s_outcome(queue, outcome, expected):
    task_id = tk.slugid()
    queue.createTask(task_id, lessons.builtin_task(outcome))
    assert last_run(queue, task_id) == expected


@pytest.mark.parametrize("outcome", ["succeed", "fail"])
def test_any_other_payload_is_malformed(queue, outcome):
    task = lessons.builtin_task(outcome)
    task["payload"] = {"command": ["true"]}
    task_id = tk.slugid()
    queue.createTask(task_id, task)
    assert last_run(queue, task_id) == ("exception", "malformed-payload")


def test_the_lessons_definitions_put_no_payload_on_a_built_in_queue():
    assert lessons.tutorial_task(task_queue="built-in/fail")["payload"] == {}
    assert lessons.tutorial_task(task_queue="built-in/succeed", retries=1)["payload"] == {}
    assert lessons.tutorial_task()["payload"]["command"][-1] == lessons.TUTORIAL_COMMAND
    with pytest.raises(ValueError, match="succeed' or 'fail"):
        lessons.builtin_task("explode")
