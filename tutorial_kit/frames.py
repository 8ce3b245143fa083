"""pandas views of what the Queue returns: runs of a status, artifacts of a run, a task group.

Timestamps become timezone-aware datetimes (UTC), durations become timedeltas, states become
categoricals with the Queue's own order, and fields the Queue omitted become missing values
(``NaT``/``<NA>``), never empty strings. Each function takes what the API returned, or a client
plus ids and then fetches every page itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
else:
    class _PandasOnFirstUse:
        """Stands for ``pandas`` until a function here first uses it, then gives way to it:
        ``list_artifacts``/``list_task_group`` (the artifact browser's listing) need no pandas,
        and importing it costs a kernel half a second or more."""

        def __getattr__(self, name: str) -> Any:
            import pandas

            globals()["pd"] = pandas
            return getattr(pandas, name)

    pd = _PandasOnFirstUse()

from tutorial_kit import drive, render
from tutorial_kit.drive import Call, Plan, pages
from tutorial_kit.vocabulary import (PRIORITIES, REASONS_CREATED, REASONS_RESOLVED, RUN_STATES,
                                     STORAGE_TYPES, TASK_STATES)


RUN_COLUMNS = ["runId", "state", "reasonCreated", "reasonResolved", "workerGroup", "workerId",
               "scheduled", "started", "resolved", "takenUntil", "waited", "ran"]
ARTIFACT_COLUMNS = ["name", "storageType", "contentType", "expires", "contentLength"]
TASK_GROUP_COLUMNS = ["taskId", "name", "state", "runs", "taskQueueId", "priority", "retriesLeft",
                      "created", "deadline", "expires", "scheduled", "started", "resolved", "ran",
                      "reasonResolved"]

#: Safety bound on pages fetched for one listing (1000 items per page at most upstream).
MAX_PAGES = 10_000


def _times(values: list[Any]) -> pd.Series:
    # format="ISO8601" accepts both Date.toJSON() ("...123Z") and Postgres ("+00:00") forms.
    # Taskcluster timestamps carry milliseconds: one fixed unit keeps dtypes stable.
    parsed = pd.to_datetime(pd.Series(values, dtype="object"), utc=True, format="ISO8601",
                            errors="coerce")
    return parsed.dt.as_unit("ms")


def _category(values: list[Any], categories: Sequence[str]) -> pd.Series:
    known = set(categories)
    extra = sorted({v for v in values if isinstance(v, str) and v not in known})
    # Unknown values (the Queue may add reasons) get appended rather than silently dropped.
    return pd.Series(pd.Categorical(values, categories=[*categories, *extra]))


def _strings(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype="string")


def _unwrap_status(status: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(status, Mapping):
        raise TypeError(f"expected a task status (dict), got {type(status).__name__}")
    inner = status.get("status")
    return inner if isinstance(inner, Mapping) else status


def runs_frame(status: Mapping[str, Any]) -> pd.DataFrame:
    """The runs of a task status (``queue.status(taskId)`` or its ``["status"]``), one row each.

    ``waited`` is scheduled → started, ``ran`` is started → resolved (both timedeltas).
    """
    runs = list(_unwrap_status(status).get("runs") or [])
    column = {name: [run.get(name) for run in runs] for name in RUN_COLUMNS[:10]}
    frame = pd.DataFrame({
        "runId": pd.Series(column["runId"], dtype="Int64"),
        "state": _category(column["state"], RUN_STATES),
        "reasonCreated": _category(column["reasonCreated"], REASONS_CREATED),
        "reasonResolved": _category(column["reasonResolved"], REASONS_RESOLVED),
        "workerGroup": _strings(column["workerGroup"]),
        "workerId": _strings(column["workerId"]),
        "scheduled": _times(column["scheduled"]),
        "started": _times(column["started"]),
        "resolved": _times(column["resolved"]),
        "takenUntil": _times(column["takenUntil"]),
    })
    frame["waited"] = frame["started"] - frame["scheduled"]
    frame["ran"] = frame["resolved"] - frame["started"]
    return frame[RUN_COLUMNS]


def artifacts_plan(taskId: str, runId: int | None = None) -> Plan[list[dict[str, Any]]]:
    """A plan (see :mod:`tutorial_kit.drive`) listing every artifact of a run, every page."""
    if runId is None:
        return pages(lambda q: Call.of("listLatestArtifacts", taskId, query=q), "artifacts",
                     MAX_PAGES)
    return pages(lambda q: Call.of("listArtifacts", taskId, runId, query=q), "artifacts",
                 MAX_PAGES)


def list_artifacts(queue: Any, taskId: str, runId: int | None = None) -> list[dict[str, Any]]:
    """All artifacts of a run (the latest run when ``runId`` is None), every page."""
    return drive.run(queue, artifacts_plan(taskId, runId))


async def alist_artifacts(queue: Any, taskId: str,
                          runId: int | None = None) -> list[dict[str, Any]]:
    """:func:`list_artifacts` for a coroutine (either client flavour)."""
    return await drive.arun(queue, artifacts_plan(taskId, runId))


def artifacts_frame(artifacts: Any, taskId: str | None = None,
                    runId: int | None = None) -> pd.DataFrame:
    """Artifacts as a table: pass a list (or a ``listArtifacts`` answer), or a client + taskId.

    ``artifacts_frame(queue, taskId)`` lists the latest run; add ``runId`` for another run.
    """
    if taskId is not None:
        artifacts = list_artifacts(artifacts, taskId, runId)
    elif isinstance(artifacts, Mapping):
        artifacts = artifacts.get("artifacts") or []
    if not isinstance(artifacts, Iterable):
        raise TypeError("artifacts_frame() takes a list of artifacts, a listArtifacts answer, "
                        "or (queue, taskId[, runId])")
    items = list(artifacts)
    frame = pd.DataFrame({
        "name": _strings([a.get("name") for a in items]),
        "storageType": _category([a.get("storageType") for a in items], STORAGE_TYPES),
        "contentType": _strings([a.get("contentType") for a in items]),
        "expires": _times([a.get("expires") for a in items]),
        "contentLength": pd.Series([a.get("contentLength") for a in items], dtype="Int64"),
    })
    return frame[ARTIFACT_COLUMNS]


def task_group_plan(taskGroupId: str, *, limit: int | None = None) -> Plan[list[dict]]:
    """A plan listing every ``{task, status}`` entry of a task group, every page."""
    def call_of(query: dict[str, Any]) -> Call:
        return Call.of("listTaskGroup", taskGroupId,
                       query={**query, "limit": limit} if limit else query)

    return pages(call_of, "tasks", MAX_PAGES)


def list_task_group(queue: Any, taskGroupId: str, *, limit: int | None = None) -> list[dict]:
    """Every ``{task, status}`` entry of a task group, following ``continuationToken``."""
    return drive.run(queue, task_group_plan(taskGroupId, limit=limit))


async def alist_task_group(queue: Any, taskGroupId: str, *,
                           limit: int | None = None) -> list[dict]:
    """:func:`list_task_group` for a coroutine (either client flavour)."""
    return await drive.arun(queue, task_group_plan(taskGroupId, limit=limit))


def tasks_frame(entries: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per ``{task, status}`` entry (as ``listTaskGroup`` returns them), by taskId.

    ``scheduled``/``started``/``resolved``/``reasonResolved`` describe the latest run; ``ran``
    is its started → resolved time.
    """
    cols: dict[str, list[Any]] = {name: [] for name in TASK_GROUP_COLUMNS if name != "ran"}
    for entry in entries:
        status = entry.get("status") or {}
        task = entry.get("task") or {}
        runs = status.get("runs") or []
        last = runs[-1] if runs else {}
        cols["taskId"].append(status.get("taskId"))
        cols["name"].append((task.get("metadata") or {}).get("name"))
        cols["state"].append(status.get("state"))
        cols["runs"].append(len(runs))
        cols["taskQueueId"].append(status.get("taskQueueId") or task.get("taskQueueId"))
        cols["priority"].append(status.get("priority") or task.get("priority"))
        cols["retriesLeft"].append(status.get("retriesLeft"))
        cols["created"].append(task.get("created"))
        cols["deadline"].append(status.get("deadline") or task.get("deadline"))
        cols["expires"].append(status.get("expires") or task.get("expires"))
        cols["scheduled"].append(last.get("scheduled"))
        cols["started"].append(last.get("started"))
        cols["resolved"].append(last.get("resolved"))
        cols["reasonResolved"].append(last.get("reasonResolved"))
    frame = pd.DataFrame({
        "taskId": _strings(cols["taskId"]),
        "name": _strings(cols["name"]),
        "state": _category(cols["state"], TASK_STATES),
        "runs": pd.Series(cols["runs"], dtype="Int64"),
        "taskQueueId": _strings(cols["taskQueueId"]),
        "priority": _category(cols["priority"], PRIORITIES),
        "retriesLeft": pd.Series(cols["retriesLeft"], dtype="Int64"),
        "created": _times(cols["created"]),
        "deadline": _times(cols["deadline"]),
        "expires": _times(cols["expires"]),
        "scheduled": _times(cols["scheduled"]),
        "started": _times(cols["started"]),
        "resolved": _times(cols["resolved"]),
        "reasonResolved": _category(cols["reasonResolved"], REASONS_RESOLVED),
    })
    frame["ran"] = frame["resolved"] - frame["started"]
    return frame[TASK_GROUP_COLUMNS]


def task_group_frame(queue: Any, taskGroupId: str, *, limit: int | None = None) -> pd.DataFrame:
    """The tasks of a task group, all pages, one row per task (see :func:`tasks_frame`)."""
    return tasks_frame(list_task_group(queue, taskGroupId, limit=limit))


class Timeline:
    """Rows of a frame drawn on a time axis (shown as SVG in a notebook)."""

    def __init__(self, svg: str, rows: int):
        self.svg = svg
        self.rows = rows

    def _repr_html_(self) -> str:
        return f'{render.stylesheet()}<div class="tk-widget">{self.svg}</div>'

    def __repr__(self) -> str:  # stable for nbval: no times
        return f"Timeline(rows={self.rows})"


def timeline(frame: pd.DataFrame, label: str | None = None, *, now: Any = None) -> Timeline:
    """Draw a runs frame or a task-group frame: pending time grey, running time coloured.

    ``label`` names the column that labels each row (``runId`` for runs, else ``taskId``).
    Rows still open extend to ``now`` (default: the deployment's time, as ``fromNow()`` counts
    it: the mock's clock, which a lesson may move, or wall time on a real deployment).
    """
    from tutorial_kit.client.fromnow import now as deployment_now

    missing = {"state", "scheduled", "started", "resolved"} - set(frame.columns)
    if missing:
        raise ValueError(f"timeline() needs the columns {sorted(missing)}: pass a frame from "
                         "runs_frame() or task_group_frame()")
    label = label or ("runId" if "runId" in frame.columns else "taskId")
    if label not in frame.columns:
        raise ValueError(f"no column {label!r} to label the rows with")
    rows = [{"state": None if pd.isna(r["state"]) else str(r["state"]),
             "scheduled": r["scheduled"], "started": r["started"], "resolved": r["resolved"],
             "label": "" if pd.isna(r[label]) else str(r[label])}
            for r in frame[[label, "state", "scheduled", "started", "resolved"]
                           ].to_dict("records")]
    rows = [r for r in rows if not pd.isna(r["scheduled"])]  # never scheduled: nothing to draw
    moment = now or deployment_now()
    prefix = "run " if label == "runId" else ""
    svg = render.timeline_svg(rows, moment, label=lambda run, i: f"{prefix}{run['label']}")
    return Timeline(svg, len(rows))


# Short names, as the lessons use them: frames.runs(status), frames.task_group(queue, id), ...
runs = runs_frame
artifacts = artifacts_frame
task_group = task_group_frame

__all__ = ["runs_frame", "artifacts_frame", "task_group_frame", "tasks_frame", "list_artifacts",
           "list_task_group", "timeline", "Timeline", "runs", "artifacts", "task_group",
           "alist_artifacts", "alist_task_group", "artifacts_plan", "task_group_plan"]
