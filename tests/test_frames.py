"""pandas views: runs, artifacts and task groups from the mock queue, with proper dtypes."""

from __future__ import annotations

import pandas as pd
import pytest

from tutorial_kit import Queue, fromNowJSON, slugid
from tutorial_kit.frames import (ARTIFACT_COLUMNS, RUN_COLUMNS, TASK_GROUP_COLUMNS,
                                 artifacts_frame, runs_frame, task_group_frame, tasks_frame)

TASK_QUEUE = "tk-frames/test-queue"


@pytest.fixture(scope="module")
def queue():
    from tutorial_kit.mock.server import start

    service = start(workers=False)
    client = Queue({"rootUrl": service.root_url, "credentials": service.credentials})
    yield client
    client.close()
    service.stop()


def _create(queue, group: str | None = None, name: str = "frames") -> str:
    task_id = slugid()
    task = {"taskQueueId": TASK_QUEUE, "created": fromNowJSON("0 seconds"),
            "deadline": fromNowJSON("1 hour"), "retries": 1, "payload": {},
            "metadata": {"name": name, "description": "", "owner": "t@example.com",
                         "source": "https://example.com/frames"}}
    if group:
        task["taskGroupId"] = group
    queue.createTask(task_id, task)
    return task_id


def _claim(queue) -> tuple[str, int]:
    reply = queue.claimWork(TASK_QUEUE, {"workerGroup": "g", "workerId": "w", "tasks": 1})
    item = reply["tasks"][0]
    return item["status"]["taskId"], item["runId"]


def _is_utc_datetime(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype.tz) == "UTC"


def test_runs_frame_of_a_retried_task(queue):
    task_id = _create(queue)
    claimed, run_id = _claim(queue)
    assert claimed == task_id
    queue.reportException(task_id, run_id, {"reason": "worker-shutdown"})
    _, run_id = _claim(queue)
    queue.reportCompleted(task_id, run_id)
    status = queue.status(task_id)
    frame = runs_frame(status)
    assert list(frame.columns) == RUN_COLUMNS and len(frame) == 2
    assert frame["runId"].tolist() == [0, 1] and str(frame["runId"].dtype) == "Int64"
    assert frame["state"].tolist() == ["exception", "completed"]
    assert frame["reasonCreated"].tolist() == ["scheduled", "retry"]
    assert isinstance(frame["state"].dtype, pd.CategoricalDtype)
    for column in ("scheduled", "started", "resolved", "takenUntil"):
        assert _is_utc_datetime(frame[column]), column
    assert pd.api.types.is_timedelta64_dtype(frame["ran"])
    assert (frame["ran"] >= pd.Timedelta(0)).all()
    raw = status["status"]["runs"][1]
    assert frame.loc[1, "resolved"] == pd.Timestamp(raw["resolved"])
    assert frame.loc[1, "ran"] == pd.Timestamp(raw["resolved"]) - pd.Timestamp(raw["started"])
    # the inner dict works too, and a task with no runs gives an empty frame with the dtypes
    assert runs_frame(status["status"]).equals(frame)
    empty = runs_frame({"runs": []})
    assert empty.empty and _is_utc_datetime(empty["scheduled"])


def test_runs_frame_keeps_missing_fields_missing(queue):
    task_id = _create(queue)
    frame = runs_frame(queue.status(task_id))
    assert frame.loc[0, "state"] == "pending"
    assert pd.isna(frame.loc[0, "started"]) and pd.isna(frame.loc[0, "workerId"])
    assert pd.isna(frame.loc[0, "waited"])
    queue.cancelTask(task_id)


def test_artifacts_frame_of_a_run(queue):
    import httpx

    task_id = _create(queue)
    _, run_id = _claim(queue)
    for name in ("public/b.txt", "public/a.txt"):
        reply = queue.createArtifact(task_id, run_id, name, {
            "storageType": "s3", "expires": fromNowJSON("1 day"), "contentType": "text/plain",
            "contentLength": 5})
        httpx.put(reply["putUrl"], content=b"hello", headers={"Content-Type": "text/plain"})
    queue.reportCompleted(task_id, run_id)
    frame = artifacts_frame(queue, task_id)
    assert list(frame.columns) == ARTIFACT_COLUMNS
    assert frame["name"].tolist() == ["public/a.txt", "public/b.txt"]
    assert _is_utc_datetime(frame["expires"]) and str(frame["name"].dtype) == "string"
    assert artifacts_frame(queue, task_id, run_id).equals(frame)
    assert artifacts_frame(queue.listArtifacts(task_id, run_id)).equals(frame)


def test_task_group_frame_follows_every_page(queue):
    group = slugid()
    ids = sorted(_create(queue, group=group, name=f"member {i}") for i in range(5))
    _, run_id = _claim(queue)  # oldest first: one of ours, or a leftover from another test
    frame = task_group_frame(queue, group, limit=2)  # three pages
    assert list(frame.columns) == TASK_GROUP_COLUMNS
    assert sorted(frame["taskId"].tolist()) == ids
    assert frame["name"].str.startswith("member").all()
    assert set(frame["state"].astype(str)) <= {"pending", "running"}
    for column in ("created", "deadline", "expires", "scheduled"):
        assert _is_utc_datetime(frame[column]), column
    assert pd.api.types.is_timedelta64_dtype(frame["ran"])
    assert str(frame["runs"].dtype) == "Int64" and (frame["runs"] == 1).all()
    assert frame.equals(task_group_frame(queue, group))  # page size does not change the result


def test_tasks_frame_of_nothing_has_the_columns():
    frame = tasks_frame([])
    assert list(frame.columns) == TASK_GROUP_COLUMNS and frame.empty


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="task status"):
        runs_frame(["not", "a", "status"])
    with pytest.raises(TypeError, match="artifacts_frame"):
        artifacts_frame(42)


def test_timeline_of_runs_and_of_a_task_group(queue):
    from tutorial_kit import frames

    _create(queue)  # at least one pending task to claim (the oldest pending one is handed out)
    claimed, run_id = _claim(queue)
    queue.reportCompleted(claimed, run_id)
    runs = frames.runs(queue.status(claimed))
    drawn = frames.timeline(runs)
    assert repr(drawn) == "Timeline(rows=1)"
    html = drawn._repr_html_()
    assert "<svg" in html and "run 0 ✔ completed" in html and 'class="tk-run-completed"' in html

    group = slugid()
    ids = [_create(queue, group=group, name=f"g{i}") for i in range(3)]
    frame = frames.task_group(queue, group)
    frame["name"] = frame["taskId"].map({v: f"step {i}" for i, v in enumerate(ids)})
    html = frames.timeline(frame, label="name")._repr_html_()
    assert all(f"step {i} ◷ pending" in html for i in range(3))
    with pytest.raises(ValueError, match="columns"):
        frames.timeline(frames.artifacts_frame([]))


def test_listings_with_the_async_client_in_a_running_loop(queue):
    """The same plans run with an AsyncQueue on the caller's loop (every page, same rows)."""
    import asyncio

    from tutorial_kit import AsyncQueue
    from tutorial_kit.frames import alist_artifacts, alist_task_group, list_task_group

    group = slugid()
    ids = sorted(_create(queue, group=group, name=f"async {i}") for i in range(3))
    root_url = queue.options["rootUrl"]

    async def scenario():
        async with AsyncQueue({"rootUrl": root_url}) as aqueue:
            entries = await alist_task_group(aqueue, group, limit=2)  # two pages
            artifacts = await alist_artifacts(aqueue, ids[0], 0)
            return entries, artifacts

    entries, artifacts = asyncio.run(scenario())
    assert sorted(e["status"]["taskId"] for e in entries) == ids
    assert tasks_frame(entries).equals(tasks_frame(list_task_group(queue, group)))
    assert artifacts == []


def test_rendering_and_frames_do_not_reach_into_the_widgets():
    """frames and render are below the widgets: no import of tutorial_kit.widgets from them,
    at module level or inside a function, and no cycle among the modules that talk to a
    deployment for the widgets (drive, mockctl)."""
    import ast
    import pathlib

    import tutorial_kit

    package = pathlib.Path(tutorial_kit.__file__).parent
    files = [package / "frames.py", package / "drive.py", package / "mockctl.py",
             *sorted((package / "render").glob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                assert not name.startswith("tutorial_kit.widgets"), (path.name, name)
                if path.parent.name == "render" or path.name == "drive.py":
                    # pure layers: nothing of the package but themselves and the Queue's
                    # vocabulary (a leaf of facts, see test_vocabulary)
                    assert not name.startswith("tutorial_kit.") or name.startswith(
                        ("tutorial_kit.render", "tutorial_kit.drive",
                         "tutorial_kit.vocabulary")), (path.name, name)
