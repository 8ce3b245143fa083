"""Fault injection for teaching: break the mock queue and its cluster on purpose.

Two kinds of faults live here.

*Request faults* act in the HTTP layer, before the backend sees a call::

    faults = Faults()
    faults.fail_next("status", 3, status=500)   # the next 3 `status` calls answer 500
    faults.fail_next("createTask", 1, status=429)
    faults.add_latency("claimWork", 0.5)       # every claimWork waits 0.5 s first
    error = await faults.apply("status")       # the HTTP layer's hook: a QueueError or None

*Task faults* are read by the cluster's workers when they claim a run::

    faults.make_malformed(task_id)                        # the payload counts as malformed
    faults.make_error_artifact(task_id, "public/passwd.txt",
                               reason="file-missing-on-worker", message="...")
    faults.crash_when_running(task_id, "claim-expired", after=1.0)   # its next run
    faults.crash_task(task_id, "worker-shutdown")   # the run going on now (the crash button)

Both are plain data (:meth:`Faults.describe` returns them as JSON) so the control plane can list
them and a scenario file can script them (see ``tutorial_kit.mock.sim.scenario``).
"""

from __future__ import annotations

import asyncio
import time
import collections
import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tutorial_kit.api import BY_NAME
from tutorial_kit.vocabulary import CRASH_MODES, ERROR_ARTIFACT_REASONS, RESOLVED_STATES

from tutorial_kit.mock.model.errors import STATUS_BY_CODE, QueueError

#: A method name that matches every API method.
ANY_METHOD = "*"
_CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()
                   if code not in ("InvalidRequestArguments", "InputValidationError", "InputError")}


#: How the cluster crashes a run going on now: (taskId, mode, after) -> what it crashed, or None
#: when none of its workers runs that task.
CrashRunning = Callable[[str, str, float], "dict[str, Any] | None"]


class FaultError(ValueError):
    """A fault was described wrongly; the message says how."""


def _check_method(method: str) -> str:
    if not isinstance(method, str) or (method != ANY_METHOD and method not in BY_NAME):
        raise FaultError(f"unknown Queue method {method!r}; use a method name such as 'status' "
                         f"or 'createTask', or {ANY_METHOD!r} for every method")
    return method


def _check_count(count: Any, *, allow_none: bool = False) -> int | None:
    if count is None and allow_none:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultError(f"count must be a positive integer, not {count!r}")
    return count


@dataclass
class RequestFault:
    """Answer `method` with an error `status`, or delay it by `latency` seconds."""

    id: int
    method: str
    status: int | None = None
    latency: float = 0.0
    remaining: int | None = None  # None: until cleared
    hits: int = 0

    def error(self) -> QueueError:
        code = _CODE_BY_STATUS.get(self.status or 500, "InternalServerError")
        if code == "TooManyRequests":
            return QueueError(code, "Too many requests: injected by the mock's fault injection "
                                    "(a client should wait and retry).", status=self.status,
                              headers={"retry-after": "1"})
        return QueueError(code, "Injected fault: the mock queue was told to fail this request "
                                f"(incidentId {uuid.uuid4()}).", status=self.status)


@dataclass
class CrashFault:
    mode: str
    after: float = 0.0  # real seconds after the run starts


@dataclass
class ErrorArtifactFault:
    name: str
    reason: str
    message: str


@dataclass
class TaskFaults:
    """What a worker must do wrong for one run (consumed at claim time)."""

    malformed: bool = False
    error_artifacts: dict[str, ErrorArtifactFault] = field(default_factory=dict)
    crash: CrashFault | None = None

    def __bool__(self) -> bool:
        return self.malformed or bool(self.error_artifacts) or self.crash is not None


@dataclass
class TaskRule:
    """Task faults for runs that match a selector (a taskId, a task queue, or any task)."""

    id: int
    task_id: str | None = None
    task_queue_id: str | None = None
    malformed: bool = False
    error_artifact: ErrorArtifactFault | None = None
    crash: CrashFault | None = None
    remaining: int | None = None  # runs left to apply to; None: every matching run

    def matches(self, task_id: str, task_queue_id: str | None) -> bool:
        if self.task_id is not None and self.task_id != task_id:
            return False
        return self.task_queue_id is None or self.task_queue_id == task_queue_id


class Faults:
    """The faults currently armed on one mock queue. Thread-safe: workers run in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._requests: list[RequestFault] = []
        self._tasks: list[TaskRule] = []
        #: Set by the simulated cluster while it runs (see :meth:`crash_task`).
        self.crash_running: CrashRunning | None = None
        #: Reads a task's state (None: no such task), so a crash is never armed for a later
        #: run of a task that is over; set beside the queue's backend.
        self.task_state: Callable[[str], str | None] | None = None
        self._fired: collections.deque[str] = collections.deque(maxlen=50)
        #: Moves whenever a fault is armed, fires or is removed: a view redraws when it moves.
        self.version = 0

    def _changed(self, fired: str | None = None) -> None:
        """Call with the lock held."""
        self.version += 1
        if fired is not None:
            self._fired.append(fired)

    def fired(self) -> list[str]:
        """Readable lines for the faults that fired lately, oldest first."""
        with self._lock:
            return list(self._fired)

    # -- request faults ------------------------------------------------------------------
    def fail_next(self, method: str, count: int = 1, *, status: int = 500) -> RequestFault:
        """Make the next `count` calls to `method` answer `status` (5xx or 429 teach retries)."""
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError(f"status must be an HTTP error status (400-599), not {status!r}")
        fault = RequestFault(next(self._ids), _check_method(method), status=status,
                             remaining=_check_count(count))
        with self._lock:
            self._requests.append(fault)
            self._changed()
        return fault

    def add_latency(self, method: str, seconds: float, count: int | None = None) -> RequestFault:
        """Delay calls to `method` by `seconds` (the next `count` calls, or all until cleared)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 60:
            raise FaultError(f"latency must be a number of seconds between 0 and 60, not {seconds!r}")
        fault = RequestFault(next(self._ids), _check_method(method), latency=float(seconds),
                             remaining=_check_count(count, allow_none=True))
        with self._lock:
            self._requests.append(fault)
            self._changed()
        return fault

    @property
    def armed(self) -> bool:
        """Is any request fault waiting? (When not, :meth:`apply` has nothing to do.)"""
        return bool(self._requests)

    def _take(self, method: str) -> tuple[float, RequestFault | None]:
        """Consume the faults matching `method`: total latency and the failing fault, if any."""
        latency, failing = 0.0, None
        if not self._requests:
            return latency, failing  # the usual case: nothing injected
        with self._lock:
            for fault in list(self._requests):
                if fault.method not in (method, ANY_METHOD):
                    continue
                if fault.status is not None and failing is not None:
                    continue  # one failure per request; later ones wait for later requests
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._requests.remove(fault)
                if fault.status is not None:
                    failing = fault
                    self._changed(f"{method} answered {fault.status} (fault #{fault.id})")
                else:
                    latency += fault.latency
        return latency, failing

    async def apply(self, method: str) -> QueueError | None:
        """The HTTP layer's hook: sleep for injected latency, then the error to answer, if any."""
        latency, failing = self._take(method)
        if latency:
            # at least `latency` of monotonic time: a loop's timer may fire a hair early, and
            # the request log, which measures the call, must show the whole delay
            deadline = time.monotonic() + latency
            while (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(left)
        return failing.error() if failing else None

    # -- task faults ---------------------------------------------------------------------
    def _add_rule(self, rule: TaskRule) -> TaskRule:
        if rule.task_id is None and rule.task_queue_id is None and rule.remaining is None:
            raise FaultError("a task fault needs a taskId, a taskQueueId or a count")
        with self._lock:
            self._tasks.append(rule)
            self._changed()
        return rule

    def make_malformed(self, task_id: str | None = None, *, task_queue_id: str | None = None,
                       count: int | None = None) -> TaskRule:
        """Make the cluster's worker treat the payload as malformed (exception/malformed-payload)."""
        return self._add_rule(TaskRule(next(self._ids), task_id, task_queue_id, malformed=True,
                                       remaining=_check_count(count, allow_none=True)))

    def make_error_artifact(self, task_id: str | None, name: str, *,
                            reason: str = "file-missing-on-worker",
                            message: str = "This artifact was made an error artifact on purpose "
                                           "by the mock's fault injection.",
                            task_queue_id: str | None = None,
                            count: int | None = None) -> TaskRule:
        """Upload artifact `name` as an `error` artifact instead of its content."""
        if not isinstance(name, str) or not name or len(name) > 1024:
            raise FaultError("an error artifact needs a name (1-1024 characters)")
        if reason not in ERROR_ARTIFACT_REASONS:
            raise FaultError(f"reason must be one of {', '.join(ERROR_ARTIFACT_REASONS)}, "
                             f"not {reason!r}")
        if not isinstance(message, str) or len(message) > 4096:
            raise FaultError("message must be a string of at most 4096 characters")
        return self._add_rule(TaskRule(next(self._ids), task_id, task_queue_id,
                                       error_artifact=ErrorArtifactFault(name, reason, message),
                                       remaining=_check_count(count, allow_none=True)))

    def crash_when_running(self, task_id: str | None, mode: str = "claim-expired", *,
                           after: float = 0.0, task_queue_id: str | None = None,
                           count: int | None = None) -> TaskRule:
        """Crash the worker `after` seconds into the next matching run (see ``Cluster.crash``)."""
        if mode not in CRASH_MODES:
            raise FaultError(f"mode must be one of {', '.join(CRASH_MODES)}, not {mode!r}")
        if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after <= 3600:
            raise FaultError(f"after must be a number of seconds between 0 and 3600, not {after!r}")
        if count is None and task_id is not None:
            count = 1  # a crash on a given task hits its current run, not every retry after it
        return self._add_rule(TaskRule(next(self._ids), task_id, task_queue_id,
                                       crash=CrashFault(mode, float(after)),
                                       remaining=_check_count(count, allow_none=True)))

    def crash_task(self, task_id: str, mode: str = "claim-expired", *,
                   after: float = 0.0) -> dict[str, Any]:
        """Crash the worker of `task_id`'s run going on now (the crash button).

        When a worker of the simulated cluster runs the task, that run ends (``after`` seconds
        from now): ``claim-expired``, the worker goes silent and the claim lapses;
        ``worker-shutdown``, it reports that exception. When none does (the task is pending, or
        is about to reach its worker), the crash is armed for the task's next run, which is the
        one about to start; a task that is over (or unknown) is refused with a FaultError, never
        armed for a later rerun. Returns ``{"crashed": {...}}`` or ``{"armed": <rule id>}``.
        """
        if mode not in CRASH_MODES:
            raise FaultError(f"mode must be one of {', '.join(CRASH_MODES)}, not {mode!r}")
        if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after <= 3600:
            raise FaultError(f"after must be a number of seconds between 0 and 3600, not {after!r}")
        crash_running = self.crash_running
        crashed = crash_running(task_id, mode, float(after)) if crash_running else None
        if crashed is not None:
            with self._lock:
                self._changed(f"crashed the worker of run {crashed.get('runId')} of {task_id} "
                              f"({mode}{f', in {after:g} s' if after else ''})")
            return {"crashed": crashed}
        state = self.task_state(task_id) if self.task_state else "pending"
        if state is None:
            raise FaultError(f"there is no task {task_id}")
        if state in RESOLVED_STATES:
            raise FaultError(f"task {task_id} is {state}: no run of it is going on, so there is "
                             "no worker to crash (rerun it first)")
        rule = self.crash_when_running(task_id, mode, after=after)
        return {"armed": rule.id}

    def for_run(self, task_id: str, task_queue_id: str | None = None) -> TaskFaults:
        """The task faults for a run a worker just claimed; consumes counted rules."""
        found = TaskFaults()
        with self._lock:
            for rule in list(self._tasks):
                if not rule.matches(task_id, task_queue_id):
                    continue
                found.malformed |= rule.malformed
                if rule.error_artifact is not None:
                    found.error_artifacts[rule.error_artifact.name] = rule.error_artifact
                if rule.crash is not None and found.crash is None:
                    found.crash = rule.crash
                self._changed(f"{describe_rule(rule)}: fired on a run of {task_id}")
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._tasks.remove(rule)
        return found

    # -- from JSON -----------------------------------------------------------------------
    def arm(self, data: dict[str, Any]) -> RequestFault | TaskRule | dict[str, Any]:
        """Arm one fault described as JSON (the body of ``POST /mock/v1/faults``).

        ``{"method": "status", "count": 3, "status": 500}`` fails calls;
        ``{"method": "claimWork", "latency": 0.5, "count"?: n}`` delays them. With ``kind``:
        ``fail``, ``latency`` (``seconds`` or ``latency``), ``malformed``, ``errorArtifact``
        (``name``, ``reason``, ``message``), ``crash`` (``mode``, ``after``); task kinds take
        ``taskId`` and/or ``taskQueueId`` and ``count``. A ``crash`` that names only a
        ``taskId`` ends the run going on now (:meth:`crash_task`); with ``count``,
        ``taskQueueId`` or ``"nextRun": true`` it is armed for later runs.
        """
        if not isinstance(data, dict):
            raise FaultError("a fault is a JSON object")
        kind = data.get("kind")
        if kind is None:
            if "status" in data and "latency" not in data:
                kind = "fail"
            elif "latency" in data and "status" not in data:
                kind = "latency"
            else:
                raise FaultError("give a method and exactly one of status (fail the next count "
                                 "calls) or latency (seconds to wait), or a kind")
        where = {"task_queue_id": data.get("taskQueueId"), "count": data.get("count")}
        if kind == "fail":
            return self.fail_next(data.get("method", ANY_METHOD), data.get("count", 1),
                                  status=data.get("status", 500))
        if kind == "latency":
            return self.add_latency(data.get("method", ANY_METHOD),
                                    data.get("latency", data.get("seconds", 0.5)),
                                    data.get("count"))
        if kind == "malformed":
            return self.make_malformed(data.get("taskId"), **where)
        if kind == "errorArtifact":
            extra = {k: data[k] for k in ("reason", "message") if k in data}
            return self.make_error_artifact(data.get("taskId"), data.get("name"), **extra, **where)
        if kind == "crash" and data.get("taskId") is not None and data.get("count") is None \
                and data.get("taskQueueId") is None and not data.get("nextRun"):
            # the crash button names a task: end its run going on now
            return self.crash_task(data["taskId"], data.get("mode", "claim-expired"),
                                   after=data.get("after", 0.0))
        if kind == "crash":
            return self.crash_when_running(data.get("taskId"), data.get("mode", "claim-expired"),
                                           after=data.get("after", 0.0), **where)
        raise FaultError(f"unknown fault kind {kind!r}; use fail, latency, malformed, "
                         "errorArtifact or crash")

    # -- listing -------------------------------------------------------------------------
    def describe(self) -> dict[str, list[dict[str, Any]]]:
        """All armed faults as JSON-ready data (for `GET /mock/v1/faults` and the widgets)."""
        with self._lock:
            requests = [{k: v for k, v in asdict(f).items()
                         if v is not None and not (k == "latency" and f.status is not None)}
                        for f in self._requests]
            for item in requests:
                item["description"] = _describe_request(item)
            tasks = []
            for rule in self._tasks:
                item: dict[str, Any] = {"id": rule.id}
                if rule.task_id is not None:
                    item["taskId"] = rule.task_id
                if rule.task_queue_id is not None:
                    item["taskQueueId"] = rule.task_queue_id
                if rule.malformed:
                    item["malformed"] = True
                if rule.error_artifact is not None:
                    item["errorArtifact"] = asdict(rule.error_artifact)
                if rule.crash is not None:
                    item["crash"] = asdict(rule.crash)
                if rule.remaining is not None:
                    item["remaining"] = rule.remaining
                item["description"] = describe_rule(rule)
                tasks.append(item)
        return {"requests": requests, "tasks": tasks}

    def remove(self, fault_id: int) -> bool:
        """Disarm one fault by id; False if there was none."""
        with self._lock:
            for pool in (self._requests, self._tasks):
                for fault in pool:
                    if fault.id == fault_id:
                        pool.remove(fault)  # type: ignore[arg-type]
                        self._changed()
                        return True
        return False

    def clear(self) -> None:
        """Disarm every fault (also part of the control plane's reset)."""
        with self._lock:
            self._requests.clear()
            self._tasks.clear()
            self._changed()


def describe_rule(rule: TaskRule) -> str:
    """One readable line for a task fault rule (what a fault list shows)."""
    what = []
    if rule.crash is not None:
        what.append(f"crash the worker ({rule.crash.mode}"
                    + (f", {rule.crash.after:g} s in)" if rule.crash.after else ")"))
    if rule.malformed:
        what.append("treat the payload as malformed")
    if rule.error_artifact is not None:
        what.append(f"make {rule.error_artifact.name} an error artifact "
                    f"({rule.error_artifact.reason})")
    where = " and ".join(filter(None, [
        f"task {rule.task_id}" if rule.task_id else "",
        f"task queue {rule.task_queue_id}" if rule.task_queue_id else ""])) or "any task"
    runs = ("every run" if rule.remaining is None
            else "the next run" if rule.remaining == 1 else f"the next {rule.remaining} runs")
    return f"#{rule.id}: {', '.join(what)} on {runs} of {where}"


def _describe_request(fault: dict[str, Any]) -> str:
    """One armed request fault as a sentence (its ``description`` in ``GET /mock/v1/faults``)."""
    left = ("until cleared" if fault.get("remaining") is None
            else f"{fault['remaining']} more call(s)")
    if fault.get("status") is not None:
        return f"#{fault['id']}: {fault['method']} answers {fault['status']} ({left})"
    return f"#{fault['id']}: {fault['method']} waits {fault.get('latency', 0):g} s ({left})"
