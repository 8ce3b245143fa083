"""The built-in workers of a real deployment: ``built-in/succeed`` and ``built-in/fail``.

They resolve every task they claim at once: completed, or failed, when its payload is empty
(``{}``), and ``exception`` / ``malformed-payload`` otherwise, as the real built-in-workers
service does (it checks that the payload has no keys). They are what a lesson uses when it needs
tasks that finish without running anything. They still claim and report over HTTP like any
worker, and they honour the task faults (malformed payload, error artifacts, crashes) so those
lessons work on them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tutorial_kit.worker import uploads
from tutorial_kit.worker.claim import ClaimLoop, WorkerIdentity, log
from .context import ClusterContext
from tutorial_kit.worker.payloads import INJECTED_MALFORMED, MALFORMED_ARTIFACT

#: task queue -> how its worker resolves every run
BUILTIN_QUEUES = {"built-in/succeed": "completed", "built-in/fail": "failed"}
WORKER_GROUP = "built-in"
CAPACITY = 8  # runs claimed per claimWork; they resolve instantly, so more is cheaper


@dataclass
class RunPlan:
    """What a built-in worker does with a run it claimed, decided without I/O, so the threaded
    workers here and the in-process mock's asyncio workers behave alike."""

    #: error artifacts injected by faults, as (name, reason, message): written first; a refusal
    #: is logged and the run still resolves
    fault_artifacts: list[tuple[str, str, str]] = field(default_factory=list)
    #: an error artifact that explains the report, written right before it
    artifact: tuple[str, str, str] | None = None
    #: the report as (method, body), or None: the worker "crashed" and the claim lapses
    report: tuple[str, dict[str, Any] | None] | None = None


def plan_run(claim: dict[str, Any], faults: Any, outcome: str) -> RunPlan:
    """The run's plan from the claim, the task faults armed for it and the queue's outcome."""
    plan = RunPlan([(f.name, f.reason, f.message) for f in faults.error_artifacts.values()])
    if faults.crash is not None and faults.crash.mode == "claim-expired":
        return plan
    if faults.crash is not None:
        plan.report = ("reportException", {"reason": "worker-shutdown"})
    elif claim["task"].get("payload") != {}:
        # the real service's rule: a built-in worker takes no instructions
        plan.report = ("reportException", {"reason": "malformed-payload"})
    elif faults.malformed:
        plan.artifact = (MALFORMED_ARTIFACT, "invalid-resource-on-worker",
                         f"Malformed payload: {INJECTED_MALFORMED}")
        plan.report = ("reportException", {"reason": "malformed-payload"})
    else:
        plan.report = ("reportCompleted" if outcome == "completed" else "reportFailed", None)
    return plan


class BuiltinEngine:
    """One claim loop per built-in task queue."""

    def __init__(self, context: ClusterContext):
        self.context = context
        self.loops: list[ClaimLoop] = []
        self.resolved = 0

    @property
    def task_queues(self) -> list[str]:
        return list(BUILTIN_QUEUES)

    def start(self) -> None:
        for task_queue_id, outcome in BUILTIN_QUEUES.items():
            identity = WorkerIdentity(task_queue_id, WORKER_GROUP, task_queue_id.split("/")[1])
            loop = ClaimLoop(self.context.queue, identity,
                             lambda claim, outcome=outcome: self._resolve(claim, outcome),
                             capacity=CAPACITY, stopping=self.context.stopping)
            self.loops.append(loop)
            loop.start()

    def _resolve(self, claim: dict[str, Any], outcome: str) -> None:
        # The cluster's own client (scope *) reports for the built-in workers: one client for
        # every run keeps them as quick as the real service's built-in workers.
        queue = self.context.queue
        task_id, run_id = claim["status"]["taskId"], claim["runId"]
        faults = self.context.faults.for_run(task_id, claim["task"].get("taskQueueId"))
        expires = claim["task"]["expires"]
        plan = plan_run(claim, faults, outcome)
        for name, reason, message in plan.fault_artifacts:
            try:
                uploads.error(queue, task_id, run_id, name, reason=reason, message=message,
                              expires=expires)
            except Exception as error:  # the run must still resolve
                log.warning("error artifact %s on %s/%s refused: %s", name, task_id, run_id,
                            error)
        if plan.artifact is not None:
            name, reason, message = plan.artifact
            uploads.error(queue, task_id, run_id, name, reason=reason, message=message,
                          expires=expires)
        if plan.report is None:
            log.info("built-in worker 'crashed' on %s/%s: the claim will lapse", task_id, run_id)
        else:
            method, body = plan.report
            getattr(queue, method)(task_id, run_id, *([body] if body is not None else []))
        self.resolved += 1

    def describe(self) -> dict[str, Any]:
        return {"engine": "built-in", "taskQueues": self.task_queues, "resolved": self.resolved}

