"""The built-in workers of an in-process mock, as asyncio tasks on the mock's loop (no threads).

They behave as ``workers.builtin`` does for the socket mock: one worker per task queue of
``BUILTIN_QUEUES`` long-polls ``claimWork`` through the mock's own application (so the calls are
in the request log), and resolves every run at once by the same plan
(``workers.builtin.plan_run``: crashes, the empty-payload rule, injected malformed payloads and
error artifacts). ``describe()``/``task_queues`` answer ``GET /mock/v1/cluster``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .builtin import BUILTIN_QUEUES, CAPACITY, WORKER_GROUP, plan_run
from .context import CrashError

if TYPE_CHECKING:
    from tutorial_kit.mock.sim.faults import Faults

log = logging.getLogger("tutorial_kit.mock.sim.workers")
#: Real seconds to wait after a failed claimWork (injected 500s) before asking again.
CLAIM_ERROR_PAUSE = 0.5


class BuiltinWorkers:
    """``built-in/succeed`` and ``built-in/fail`` for an :class:`InProcessMock`."""

    def __init__(self, *, faults: Faults, client: Callable[[], Any],
                 closed: Callable[[], bool]) -> None:
        """`client` makes the workers' ``AsyncQueue`` (on the mock's loop, where it is used; it
        reaches the mock through the Queue API only); `closed` says when the mock is stopping;
        `faults` feeds the task faults. The wiring (``mock/inprocess.py``) hands them over."""
        self.faults = faults
        self._make_client = client
        self._closed = closed
        self.resolved = 0
        self._queue: Any = None
        self.shell: Any = None  # the shell engine's workers.Cluster, where it runs

    @property
    def task_queues(self) -> list[str]:
        return list(BUILTIN_QUEUES) + (self.shell.task_queues if self.shell else [])

    def loops(self) -> list[tuple[Awaitable[None], str]]:
        """The claim loops to run on the mock's loop, with their task names."""
        return [(self._claim_loop(tq, outcome), f"built-in worker {tq}")
                for tq, outcome in BUILTIN_QUEUES.items()]

    def _client(self) -> Any:
        if self._queue is None:  # made on the mock's loop, where it is used
            self._queue = self._make_client()
        return self._queue

    async def _claim_loop(self, task_queue_id: str, outcome: str) -> None:
        queue = self._client()
        body = {"tasks": CAPACITY, "workerGroup": WORKER_GROUP,
                "workerId": task_queue_id.split("/")[1]}
        while not self._closed():
            try:
                claims = (await queue.claimWork(task_queue_id, body) or {}).get("tasks", [])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._closed():
                    return
                log.warning("claimWork on %s failed: %s", task_queue_id, error)
                await asyncio.sleep(CLAIM_ERROR_PAUSE)
                continue
            for claim in claims:
                try:
                    await self._resolve(queue, claim, outcome)
                except asyncio.CancelledError:
                    raise
                except Exception:  # one bad run must not stop the worker
                    log.exception("built-in worker failed on task %s",
                                  claim.get("status", {}).get("taskId"))

    async def _resolve(self, queue: Any, claim: dict[str, Any], outcome: str) -> None:
        task_id, run_id = claim["status"]["taskId"], claim["runId"]
        faults = self.faults.for_run(task_id, claim["task"].get("taskQueueId"))
        expires = claim["task"]["expires"]

        async def error_artifact(name: str, reason: str, message: str) -> None:
            await queue.createArtifact(task_id, run_id, name, {
                "storageType": "error", "expires": expires, "reason": reason,
                "message": message[:4096]})

        plan = plan_run(claim, faults, outcome)
        for name, reason, message in plan.fault_artifacts:
            try:
                await error_artifact(name, reason, message)
            except Exception as error:  # the run must still resolve
                log.warning("error artifact %s on %s/%s refused: %s", name, task_id, run_id,
                            error)
        if plan.artifact is not None:
            await error_artifact(*plan.artifact)
        if plan.report is None:
            log.info("built-in worker 'crashed' on %s/%s: the claim will lapse", task_id, run_id)
        else:
            method, body = plan.report
            await getattr(queue, method)(task_id, run_id, *([body] if body is not None else []))
        self.resolved += 1

    # -- what the control plane asks of a cluster ---------------------------------------------
    def describe(self) -> dict[str, Any]:
        engines = [{"engine": "built-in", "taskQueues": list(BUILTIN_QUEUES),
                    "resolved": self.resolved, "inProcess": True}]
        if self.shell is not None:
            engines += self.shell.describe()["engines"]
        return {"taskQueues": self.task_queues, "engines": engines}

    def running(self) -> list[dict[str, Any]]:
        # built-in runs resolve as soon as they are claimed
        return self.shell.running() if self.shell is not None else []

    def crash(self, task_id: str, mode: str = "claim-expired", **kwargs: Any) -> dict[str, Any]:
        if self.shell is not None:
            return self.shell.crash(task_id, mode, **kwargs)
        raise CrashError(f"no worker of the in-process mock is running task {task_id}: it has "
                         "only the built-in workers, whose runs resolve at once (the shell engine "
                         "runs only with a socket mock, tutorial_kit.mock.start())")

    async def aclose(self) -> None:
        if self._queue is not None:
            await self._queue.aclose()
            self._queue = None
