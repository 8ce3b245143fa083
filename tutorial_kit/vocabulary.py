"""The Queue's fixed vocabularies: states, reasons, priorities and the like, in one place.

Beside the API table (``tutorial_kit.api``), this is the other half of what the client, the mock
queue, the frames, the widgets and the lessons agree on. Each value set is the enum of the
official Queue v1 schema named in its comment, in the schema's order (``tests/test_vocabulary.py``
checks them against ``../shared/taskcluster-schemas``). Sets derived from them (resolved states,
the retry reasons) follow the Queue's state machine. The last section holds the mock's own words
(crash modes), which no Taskcluster schema has.

Every value set is a tuple: ordered as the schema lists it (the order a table or a dropdown
shows), immutable, usable with ``in``.
"""

from __future__ import annotations

__all__ = [
    "TASK_STATES", "RUN_STATES", "RESOLVED_STATES", "UNRESOLVED_STATES", "REASONS_CREATED",
    "REASONS_RESOLVED", "EXCEPTION_REASONS", "RETRY_REASONS", "PRIORITIES", "REQUIRES",
    "STORAGE_TYPES", "ERROR_ARTIFACT_REASONS", "CRASH_MODES",
]

# -- task status (task-status.json) ----------------------------------------------------------

#: ``status.state``: the state of the last run, or ``unscheduled`` while a task has no run.
TASK_STATES: tuple[str, ...] = (
    "unscheduled", "pending", "running", "completed", "failed", "exception")
#: ``status.runs[i].state``.
RUN_STATES: tuple[str, ...] = ("pending", "running", "completed", "failed", "exception")
#: The states a run (and so a task) never leaves.
RESOLVED_STATES: tuple[str, ...] = ("completed", "failed", "exception")
#: The states of a task that is not over yet.
UNRESOLVED_STATES: tuple[str, ...] = ("unscheduled", "pending", "running")
#: ``status.runs[i].reasonCreated``: why a run was added.
REASONS_CREATED: tuple[str, ...] = ("scheduled", "retry", "task-retry", "rerun", "exception")
#: ``status.runs[i].reasonResolved``: why a run ended (``superseded`` is never produced any
#: more; the schema keeps it for old records).
REASONS_RESOLVED: tuple[str, ...] = (
    "completed", "failed", "deadline-exceeded", "canceled", "claim-expired", "worker-shutdown",
    "malformed-payload", "resource-unavailable", "internal-error", "intermittent-task",
    "superseded",
)

# -- what a worker may report (task-exception-request.json) ----------------------------------

#: ``reportException``'s ``reason``.
EXCEPTION_REASONS: tuple[str, ...] = (
    "worker-shutdown", "malformed-payload", "resource-unavailable", "internal-error",
    "intermittent-task",
)
#: The resolution reasons that add a retry run while retries last, and that run's
#: ``reasonCreated``. ``claim-expired`` comes only from the queue's claim resolver (a worker
#: cannot report it).
RETRY_REASONS: dict[str, str] = {"worker-shutdown": "retry", "intermittent-task": "task-retry",
                                 "claim-expired": "retry"}

# -- task definition (task.json) -------------------------------------------------------------

#: ``task.priority``, highest first (claimWork hands out higher priorities first).
PRIORITIES: tuple[str, ...] = (
    "highest", "very-high", "high", "medium", "low", "very-low", "lowest")
#: ``task.requires``: what "dependencies satisfied" means for a task.
REQUIRES: tuple[str, ...] = ("all-completed", "all-resolved")

# -- artifacts (artifact-response.json, post-artifact-request.json) ---------------------------

#: ``storageType`` of an artifact as ``listArtifacts``/``artifactInfo`` show it.
STORAGE_TYPES: tuple[str, ...] = ("s3", "object", "reference", "link", "error")
#: ``reason`` of an error artifact.
ERROR_ARTIFACT_REASONS: tuple[str, ...] = (
    "file-missing-on-worker", "invalid-resource-on-worker", "too-large-file-on-worker",
    "file-not-readable-on-worker",
)

# -- the mock queue's own words (no Taskcluster schema has them) -----------------------------

#: How the mock's simulated cluster crashes a run's worker (``POST /mock/v1/tasks/<taskId>/crash``,
#: the crash button, scenario files): ``claim-expired``, the worker goes silent and the claim
#: lapses; ``worker-shutdown``, the worker reports that exception itself. Both are
#: ``REASONS_RESOLVED`` the run then ends with.
CRASH_MODES: tuple[str, ...] = ("claim-expired", "worker-shutdown")
