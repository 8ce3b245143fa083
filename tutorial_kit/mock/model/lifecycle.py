"""A task's runs and states: pure logic, no I/O, no clock reads.

Every function takes a :class:`TaskRecord` (definition + runs + ``retriesLeft``), the event's
arguments and ``now``, and returns a :class:`Transition`: the new record plus the Pulse
messages the event implies, as :class:`Intent` s (exchange + routing-word fields + extra
payload). The backend stores the record and turns intents into messages after the commit.
A refusal raises :class:`~tutorial_kit.mock.model.errors.QueueError` with the real service's code.

State machine (QUEUE-FACTS §c): a task's state is the state of its last run, or
``unscheduled`` when it has none; resolved runs never change; automatic retries append a run
while ``retriesLeft`` lasts; reruns and cancels are explicit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tutorial_kit.dates import parse_date, to_json
from tutorial_kit.vocabulary import PRIORITIES, RESOLVED_STATES, RETRY_REASONS

from .clock import to_pg
from .errors import QueueError, conflict, not_found

MAX_RUNS = 50

RUN_KEYS = ("runId", "state", "reasonCreated", "reasonResolved", "workerGroup", "workerId",
            "takenUntil", "scheduled", "started", "resolved")
STATUS_KEYS = ("taskId", "provisionerId", "workerType", "taskQueueId", "schedulerId",
               "projectId", "taskGroupId", "priority", "deadline", "expires", "retriesLeft",
               "state", "runs")


@dataclass
class TaskRecord:
    """What the queue knows about one task."""

    taskId: str
    task: dict[str, Any]  # the definition as the `task` method returns it
    runs: list[dict[str, Any]] = field(default_factory=list)  # runs[i]["runId"] == i
    retriesLeft: int = 0

    def copy(self) -> TaskRecord:
        return TaskRecord(self.taskId, copy.deepcopy(self.task), copy.deepcopy(self.runs),
                          self.retriesLeft)

    @property
    def state(self) -> str:
        return self.runs[-1]["state"] if self.runs else "unscheduled"

    @property
    def last_run(self) -> dict[str, Any] | None:
        return self.runs[-1] if self.runs else None

    @property
    def deadline(self) -> datetime:
        return parse_date(self.task["deadline"])

    def past_deadline(self, now: datetime) -> bool:
        return now >= self.deadline


@dataclass(frozen=True)
class Intent:
    """A Pulse message to publish: exchange short name, routing words, extra payload."""

    exchange: str
    runId: int | None = None
    workerGroup: str | None = None
    workerId: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transition:
    record: TaskRecord
    intents: list[Intent] = field(default_factory=list)
    changed: bool = False  # must the record be written back?
    resolved: bool = False  # is the task (now or again) resolved? -> dependents, group check


def new_record(taskId: str, task: dict[str, Any]) -> TaskRecord:
    """A freshly defined task: no runs, retriesLeft = task.retries."""
    return TaskRecord(taskId, copy.deepcopy(task), [], int(task.get("retries", 5)))


# -- rendering ---------------------------------------------------------------------------------

def make_run(**fields: Any) -> dict[str, Any]:
    """A run dict with keys in the order the real queue prints them; ``None`` means absent."""
    return {k: fields[k] for k in RUN_KEYS if fields.get(k) is not None}


def _update_run(run: dict[str, Any], **fields: Any) -> dict[str, Any]:
    merged = {**run, **fields}
    return make_run(**merged)


def render_status(record: TaskRecord) -> dict[str, Any]:
    """The task status structure (``task-status.json``), keys in the real order."""
    t = record.task
    return {
        "taskId": record.taskId,
        "provisionerId": t["provisionerId"],
        "workerType": t["workerType"],
        "taskQueueId": t["taskQueueId"],
        "schedulerId": t["schedulerId"],
        "projectId": t.get("projectId", "none"),
        "taskGroupId": t["taskGroupId"],
        "priority": t["priority"],
        "deadline": t["deadline"],
        "expires": t["expires"],
        "retriesLeft": record.retriesLeft,
        "state": record.state,
        "runs": [dict(r) for r in record.runs],
    }


def defined_status(record: TaskRecord) -> dict[str, Any]:
    """The status ``task-defined`` carries: computed before the store, so no runs yet."""
    status = render_status(record)
    status["state"] = "unscheduled"
    status["runs"] = []
    status["retriesLeft"] = int(record.task.get("retries", record.retriesLeft))
    return status


def priority_rank(priority: str) -> int:
    """0 for ``highest`` ... 6 for ``lowest``; claiming takes the lowest rank first."""
    return PRIORITIES.index(priority)


def priorities_at_least(priority: str) -> list[str]:
    """``priority`` and every higher one (for the createTask scope check)."""
    return list(PRIORITIES[: priority_rank(priority) + 1])


# -- helpers -------------------------------------------------------------------------------

def _deadline_conflict(record: TaskRecord, verb: str) -> QueueError:
    return conflict(f"Task `{record.taskId}` can't be {verb} past its deadline of "
                    f"{record.task['deadline']}.")


def _run_or_404(record: TaskRecord, runId: int) -> dict[str, Any]:
    if not isinstance(runId, int) or runId < 0 or runId >= len(record.runs):
        raise not_found(f"Task `{record.taskId}` has no run {runId}.")
    return record.runs[runId]


def _pending_run(record: TaskRecord, reason: str, now: datetime) -> dict[str, Any]:
    run = make_run(runId=len(record.runs), state="pending", reasonCreated=reason,
                   scheduled=to_json(now))
    record.runs.append(run)
    return run


def _worker_words(run: dict[str, Any]) -> dict[str, Any]:
    return {"workerGroup": run.get("workerGroup"), "workerId": run.get("workerId")}


# -- events --------------------------------------------------------------------------------

def schedule(record: TaskRecord, now: datetime, *, force: bool = False) -> Transition:
    """Make run 0 pending (createTask without unmet deps, a satisfied dependency, scheduleTask).

    A task that already has runs is left alone. ``force`` is scheduleTask: it refuses past the
    deadline (409) instead of silently doing nothing.
    """
    if record.runs:
        return Transition(record)
    if record.past_deadline(now):
        if force:
            raise _deadline_conflict(record, "scheduled")
        return Transition(record)
    rec = record.copy()
    _pending_run(rec, "scheduled", now)
    return Transition(rec, [Intent("task-pending", runId=0)], changed=True)


def claim(record: TaskRecord, runId: int, workerGroup: str, workerId: str, now: datetime,
          claim_timeout: float) -> Transition:
    """A worker takes a pending run (claimWork / claimTask)."""
    run = _run_or_404(record, runId)
    if record.past_deadline(now):
        raise _deadline_conflict(record, "claimed")
    if runId != len(record.runs) - 1 or run["state"] != "pending":
        if (run["state"] == "running" and run.get("workerGroup") == workerGroup
                and run.get("workerId") == workerId):
            raise conflict(f"Run {runId} of task `{record.taskId}` is already claimed by "
                           f"this worker.")
        raise conflict(f"Run {runId} of task `{record.taskId}` is not pending, so it cannot "
                       f"be claimed (it may be claimed by another worker or resolved).")
    rec = record.copy()
    taken_until = now + timedelta(seconds=claim_timeout)
    rec.runs[runId] = _update_run(run, state="running", workerGroup=workerGroup,
                                  workerId=workerId, takenUntil=to_json(taken_until),
                                  started=to_json(now))
    intent = Intent("task-running", runId=runId, workerGroup=workerGroup, workerId=workerId,
                    extra={"takenUntil": to_pg(taken_until)})
    return Transition(rec, [intent], changed=True)


def reclaim(record: TaskRecord, runId: int, now: datetime, claim_timeout: float) -> Transition:
    """Extend a running claim to now + claim timeout. Publishes nothing."""
    run = _run_or_404(record, runId)
    if record.past_deadline(now):
        raise _deadline_conflict(record, "reclaimed")
    if runId != len(record.runs) - 1 or run["state"] != "running":
        raise conflict(f"Run {runId} on task `{record.taskId}` is resolved or not running, "
                       f"so it cannot be reclaimed.")
    rec = record.copy()
    rec.runs[runId] = _update_run(run, takenUntil=to_json(now + timedelta(seconds=claim_timeout)))
    return Transition(rec, [], changed=True)


def _resolve(record: TaskRecord, runId: int, state: str, reason: str, now: datetime,
             exchange: str) -> Transition:
    run = _run_or_404(record, runId)
    latest = runId == len(record.runs) - 1
    if latest and run["state"] == state and run.get("reasonResolved") == reason:
        # At-least-once: an identical repeat answers 200 and re-sends the message.
        intent = Intent(exchange, runId=runId, **_worker_words(run))
        return Transition(record, [intent], resolved=True)
    if not latest or run["state"] != "running":
        what = reason if state == "exception" else state
        raise conflict(f"Run {runId} of task `{record.taskId}` is not running (and was not "
                       f"already resolved as {what}).")
    rec = record.copy()
    rec.runs[runId] = _update_run(run, state=state, reasonResolved=reason, resolved=to_json(now))
    intents = [Intent(exchange, runId=runId, **_worker_words(run))]
    retry_reason = RETRY_REASONS.get(reason) if state == "exception" else None
    if retry_reason and rec.retriesLeft > 0:
        rec.retriesLeft -= 1
        new = _pending_run(rec, retry_reason, now)
        intents.append(Intent("task-pending", runId=new["runId"]))
        return Transition(rec, intents, changed=True, resolved=False)
    return Transition(rec, intents, changed=True, resolved=True)


def complete(record: TaskRecord, runId: int, now: datetime) -> Transition:
    """reportCompleted."""
    return _resolve(record, runId, "completed", "completed", now, "task-completed")


def fail(record: TaskRecord, runId: int, now: datetime) -> Transition:
    """reportFailed."""
    return _resolve(record, runId, "failed", "failed", now, "task-failed")


def exception(record: TaskRecord, runId: int, reason: str, now: datetime) -> Transition:
    """reportException (``worker-shutdown``/``intermittent-task`` retry while retries last)."""
    return _resolve(record, runId, "exception", reason, now, "task-exception")


def claim_expired(record: TaskRecord, runId: int, now: datetime) -> Transition:
    """The claim resolver: ``takenUntil`` passed without a reclaim.

    Steps aside (no change) when the run is no longer running, was reclaimed, or the deadline
    has passed (the deadline resolver then resolves it as ``deadline-exceeded``).
    """
    if runId >= len(record.runs) or runId != len(record.runs) - 1:
        return Transition(record)
    run = record.runs[runId]
    if run["state"] != "running" or record.past_deadline(now):
        return Transition(record)
    if parse_date(run["takenUntil"]) > now:
        return Transition(record)
    return _resolve(record, runId, "exception", "claim-expired", now, "task-exception")


def deadline(record: TaskRecord, now: datetime) -> Transition:
    """The deadline resolver: an unresolved task past its deadline becomes ``exception``.

    The message carries no worker words even when the run had been claimed (the run itself
    keeps its workerGroup/workerId).
    """
    if record.state in RESOLVED_STATES or not record.past_deadline(now):
        return Transition(record)
    rec = record.copy()
    if not rec.runs:
        rec.runs.append(make_run(runId=0, state="exception", reasonCreated="exception",
                                 reasonResolved="deadline-exceeded", scheduled=to_json(now),
                                 resolved=to_json(now)))
    else:
        last = rec.runs[-1]
        rec.runs[-1] = _update_run(last, state="exception", reasonResolved="deadline-exceeded",
                                   resolved=to_json(now))
    intent = Intent("task-exception", runId=len(rec.runs) - 1)
    return Transition(rec, [intent], changed=True, resolved=True)


def cancel(record: TaskRecord, now: datetime) -> Transition:
    """cancelTask: the current run (or a new run 0) becomes ``exception``/``canceled``."""
    if record.past_deadline(now):
        raise _deadline_conflict(record, "canceled")
    last = record.last_run
    if last is not None and last["state"] in RESOLVED_STATES:
        if last["state"] == "exception" and last.get("reasonResolved") == "canceled":
            # A second cancel re-sends the message (at-least-once delivery).
            intent = Intent("task-exception", runId=last["runId"], **_worker_words(last))
            return Transition(record, [intent], resolved=True)
        return Transition(record)
    rec = record.copy()
    if last is None:
        rec.runs.append(make_run(runId=0, state="exception", reasonCreated="exception",
                                 reasonResolved="canceled", scheduled=to_json(now),
                                 resolved=to_json(now)))
        intent = Intent("task-exception", runId=0)
    else:
        rec.runs[-1] = _update_run(last, state="exception", reasonResolved="canceled",
                                   resolved=to_json(now))
        intent = Intent("task-exception", runId=last["runId"], **_worker_words(last))
    return Transition(rec, [intent], changed=True, resolved=True)


def rerun(record: TaskRecord, now: datetime) -> Transition:
    """rerunTask: append a ``rerun`` run to a resolved (or unscheduled) task."""
    if record.past_deadline(now):
        raise _deadline_conflict(record, "rescheduled")
    last = record.last_run
    if last is not None and last["state"] in ("pending", "running"):
        # Nothing to do, but a pending run is announced again (as the real queue does).
        intents = [Intent("task-pending", runId=last["runId"])] if last["state"] == "pending" \
            else []
        return Transition(record, intents)
    if len(record.runs) >= MAX_RUNS:
        raise conflict(f"Maximum number of runs reached ({MAX_RUNS}).")
    rec = record.copy()
    last_run_id = len(rec.runs) - 1
    rec.retriesLeft = max(0, min(int(rec.task.get("retries", 5)), MAX_RUNS - 2 - last_run_id))
    new = _pending_run(rec, "rerun", now)
    return Transition(rec, [Intent("task-pending", runId=new["runId"])], changed=True)


def change_priority(record: TaskRecord, new_priority: str, now: datetime) -> Transition:
    """changeTaskPriority: only for unresolved tasks before their deadline."""
    if new_priority not in PRIORITIES:
        raise QueueError("InputError", f"Unknown priority {new_priority!r}.")
    if record.past_deadline(now):
        raise _deadline_conflict(record, "reprioritized")
    old = record.task["priority"]
    # The real queue answers a no-op change with the same "already resolved" conflict.
    if record.state in RESOLVED_STATES or old == new_priority:
        raise conflict(f"Task `{record.taskId}` is already resolved (or already has priority "
                       f"{new_priority}) and cannot be reprioritized.")
    rec = record.copy()
    rec.task["priority"] = new_priority
    intent = Intent("task-priority-changed",
                    extra={"oldPriority": old, "newPriority": new_priority})
    return Transition(rec, [intent], changed=True)


#: Event names accepted by :func:`apply`.
EVENTS = {
    "schedule": schedule,
    "dependency-satisfied": schedule,
    "claim": claim,
    "reclaim": reclaim,
    "complete": complete,
    "fail": fail,
    "exception": exception,
    "claim-expired": claim_expired,
    "deadline": deadline,
    "cancel": cancel,
    "rerun": rerun,
    "change-priority": change_priority,
}


def apply(record: TaskRecord, event: str, now: datetime, **args: Any) -> Transition:
    """Dispatch an event by name: ``apply(rec, "complete", now, runId=0)``."""
    try:
        handler = EVENTS[event]
    except KeyError:
        raise ValueError(f"unknown lifecycle event {event!r}") from None
    return handler(record, now=now, **args)
