"""The lessons' wait helpers poll quickly first, then back off to their interval (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from tutorial_kit import lessons


class _Queue:
    """A queue whose task resolves at the ``resolve_at``-th status read."""

    def __init__(self, resolve_at: int) -> None:
        self.reads = 0
        self.resolve_at = resolve_at

    def status(self, task_id: str) -> dict[str, Any]:
        self.reads += 1
        done = self.reads >= self.resolve_at
        return {"status": {"taskId": task_id, "state": "completed" if done else "running",
                           "runs": [{"runId": 0, "state": "completed" if done else "running"}]}}


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(lessons.time, "sleep", slept.append)
    return slept


def test_wait_resolved_starts_fast_and_backs_off_to_its_interval(pauses: list[float]) -> None:
    queue = _Queue(resolve_at=16)
    assert lessons.wait_resolved(queue, "t", interval=0.25)["state"] == "completed"
    assert queue.reads == 16 and len(pauses) == 15
    assert pauses[0] == lessons.FIRST_PAUSE
    assert pauses == sorted(pauses)  # never faster again once it slowed down
    assert max(pauses) == 0.25  # reaches the interval and never exceeds it


def test_a_task_resolved_at_once_is_read_once(pauses: list[float]) -> None:
    queue = _Queue(resolve_at=1)
    lessons.wait_resolved(queue, "t")
    assert queue.reads == 1 and pauses == []


def test_wait_for_run_backs_off_too(pauses: list[float]) -> None:
    queue = _Queue(resolve_at=4)
    status = lessons.wait_for_run(queue, "t", 0, "completed", interval=0.1)
    assert status["runs"][0]["state"] == "completed"
    assert pauses == pytest.approx([0.02, 0.025, 0.03125])


def test_an_interval_below_the_first_pause_is_kept(pauses: list[float]) -> None:
    lessons.wait_resolved(_Queue(resolve_at=3), "t", interval=0.01)
    assert pauses == [0.01, 0.01]
