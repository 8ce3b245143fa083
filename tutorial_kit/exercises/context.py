"""What a check can see: the queue, and on the mock the request log since the exercise appeared."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tutorial_kit.api import SLUGID_PATTERN
from tutorial_kit.mockctl import MockControl

from .base import unattempted

_TASK_IN_ROUTE = re.compile(r"/task/(" + SLUGID_PATTERN.strip("^$") + r")(?:/|$)")


@dataclass
class Context:
    queue: Any
    control: MockControl | None
    since: int = 0  # request-log sequence number when the exercise was shown
    notes: dict = field(default_factory=dict)

    @classmethod
    def for_queue(cls, queue: Any) -> "Context":
        control = MockControl(queue)
        if not control.is_mock():
            return cls(queue, None)
        return cls(queue, control, control.last_seq())

    def requests(self, method: str | None = None, status: int | None = None) -> list[dict]:
        """Request-log entries since the exercise appeared (mock only)."""
        if self.control is None:
            return []
        log = [r for r in self.control.requests(since=self.since) if r["seq"] > self.since]
        return [r for r in log if (method is None or r["method"] == method)
                and (status is None or r["status"] == status)]

    def task_ids(self, method: str = "createTask", status: int | None = 200) -> list[str]:
        """Task ids named by successful calls of ``method`` since the exercise appeared."""
        ids: list[str] = []
        for record in self.requests(method, status):
            match = _TASK_IN_ROUTE.search(record.get("route", ""))
            if match and match.group(1) not in ids:
                ids.append(match.group(1))
        return ids

    def candidates(self, given: tuple) -> list[str]:
        """The tasks to inspect: the ones the learner names, else those they created."""
        if given:
            return [str(g) for g in given]
        if self.control is None:
            raise unattempted("on a real deployment the check cannot search for your task: "
                              "pass its taskId, e.g. exercise.check(task_id)")
        ids = self.task_ids()
        if not ids:
            raise unattempted("no task created since this exercise appeared")
        return ids
