"""The built-in workers of a real deployment: ``built-in/succeed`` and ``built-in/fail``.

They resolve every task they claim at once: completed, or failed, when its payload is empty
(``{}``), and ``exception`` / ``malformed-payload`` otherwise, as the real built-in-workers
service does (it checks that the payload has no keys). They are what a lesson uses when it needs
tasks that finish without running anything. They still claim and report over HTTP like any
worker, and they honour the task faults (malformed payload, error artifacts, crashes) so those
lessons work on them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import uploads
from .claim import ClaimLoop, WorkerIdentity, log
from .payloads import INJECTED_MALFORMED, MALFORMED_ARTIFACT

if TYPE_CHECKING:
    from . import ClusterContext

#: task queue -> how its worker resolves every run
BUILTIN_QUEUES = {"built-in/succeed": "completed", "built-in/fail": "failed"}
WORKER_GROUP = "built-in"
CAPACITY = 8  # runs claimed per claimWork; they resolve instantly, so more is cheaper


class BuiltinEngine:
    """One claim loop per built-in task queue."""

    def __init__(self, context: "ClusterContext"):
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
        for fault in faults.error_artifacts.values():
            try:
                uploads.error(queue, task_id, run_id, fault.name, reason=fault.reason,
                              message=fault.message, expires=expires)
            except Exception as error:  # the run must still resolve
                log.warning("error artifact %s on %s/%s refused: %s", fault.name, task_id,
                            run_id, error)
        if faults.crash is not None and faults.crash.mode == "claim-expired":
            log.info("built-in worker 'crashed' on %s/%s: the claim will lapse", task_id, run_id)
        elif faults.crash is not None:
            queue.reportException(task_id, run_id, {"reason": "worker-shutdown"})
        elif claim["task"].get("payload") != {}:
            # the real service's rule: a built-in worker takes no instructions
            queue.reportException(task_id, run_id, {"reason": "malformed-payload"})
        elif faults.malformed:
            uploads.error(queue, task_id, run_id, MALFORMED_ARTIFACT,
                          reason="invalid-resource-on-worker",
                          message=f"Malformed payload: {INJECTED_MALFORMED}", expires=expires)
            queue.reportException(task_id, run_id, {"reason": "malformed-payload"})
        elif outcome == "completed":
            queue.reportCompleted(task_id, run_id)
        else:
            queue.reportFailed(task_id, run_id)
        self.resolved += 1

    def describe(self) -> dict[str, Any]:
        return {"engine": "built-in", "taskQueues": self.task_queues, "resolved": self.resolved}

