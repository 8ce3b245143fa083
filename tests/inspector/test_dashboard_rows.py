"""The dashboard's rows from a state and a request log, without a server."""

from __future__ import annotations

from datetime import datetime, timezone

from tutorial_kit.inspector import dashboard


def test_summary_counts_tasks_errors_and_lessons() -> None:
    """The rows from a state and a request log (no server): what the page shows."""
    now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=timezone.utc)
    state = {"tasks": [
        {"taskId": "A", "task": {"schedulerId": "alice", "metadata": {"name": "a1"},
                                  "created": "2026-01-01T12:00:00.000Z"},
         "status": {"state": "completed"}},
        {"taskId": "B", "task": {"schedulerId": "alice", "metadata": {"name": "a2"},
                                  "created": "2026-01-01T12:00:10.000Z"},
         "status": {"state": "pending"}},
        {"taskId": "C", "task": {"schedulerId": "-", "metadata": {"name": "teacher's"}},
         "status": {"state": "pending"}},
    ]}
    log = [
        {"seq": 1, "clientId": "classroom/alice", "method": "createTask", "httpMethod": "PUT",
         "status": 200, "time": "2026-01-01T12:00:00.000Z"},
        {"seq": 2, "clientId": "classroom/alice", "method": "claimWork", "httpMethod": "POST",
         "status": 403, "time": "2026-01-01T12:00:20.000Z"},
    ]
    later = [  # the next read of the log: the first records have left its ring
        {"seq": 3, "clientId": "classroom/alice", "method": "status", "httpMethod": "GET",
         "status": 200, "time": "2026-01-01T12:00:25.000Z"},
        {"seq": 4, "clientId": None, "method": "status", "httpMethod": "GET", "status": 404,
         "time": "2026-01-01T12:00:26.000Z"},
    ]
    progress = dashboard.Progress()
    progress.feed(log)
    progress.feed(log + later)  # records already seen count once
    alice, bob = dashboard.summarize(["alice", "bob"], state, progress, now)
    assert alice["calls"] == 3
    assert alice["tasks"]["completed"] == 1 and alice["tasks"]["pending"] == 1
    assert alice["taskCount"] == 2
    assert [t["taskId"] for t in alice["recentTasks"]] == ["B", "A"]  # newest first
    assert alice["lesson"] == 6 and alice["lessonTitle"] == "be a worker"
    assert alice["lastCall"]["method"] == "status" and alice["lastCallAgo"] == 5.0
    assert alice["errors"] == [{"status": 403, "method": "claimWork", "httpMethod": "POST",
                                "time": "2026-01-01T12:00:20.000Z"}]
    assert bob["taskCount"] == 0 and bob["lastCall"] is None and bob["lesson"] is None


def test_progress_is_kept_in_a_file_store_and_only_for_learners(tmp_path) -> None:
    """What learners did survives a restart on a file store (the same SQLite file, opened
    again), the teacher's and the workers' calls are not kept, and a save that cannot write
    keeps its facts for the next one instead of failing the request."""
    from tutorial_kit.mock import start

    db = str(tmp_path / "class.sqlite")
    when = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    mock = start(in_process=True, workers=False, db=db)
    try:
        progress = dashboard.Progress(mock.backend.store, save_every=3600)
        progress.observe(when, "createTask", "PUT", 403, "classroom/alice")
        progress.observe(when, "status", "GET", 200, "classroom/alice")
        progress.observe(when, "claimWork", "POST", 200, "built-in/succeed")
        progress.observe(when, "status", "GET", 200, "tutorial")
        assert set(progress.clients) == {"classroom/alice"}
        progress.save()
        progress.observe(when, "listArtifacts", "GET", 200, "classroom/alice")  # not saved yet
    finally:
        mock.stop()
    progress.observe(when, "ping", "GET", 200, "classroom/alice")
    progress.save()  # the store is closed: logged, kept for later, no exception

    mock = start(in_process=True, workers=False, db=db)
    try:
        again = dashboard.Progress(mock.backend.store)
        alice = again.clients["classroom/alice"]
        assert alice["calls"] == 2 and alice["lesson"] == 2
        assert alice["lastCall"] == {"method": "status", "httpMethod": "GET", "status": 200,
                                     "time": "2026-01-01T12:00:00.000Z"}
        assert alice["errors"] == [{"status": 403, "method": "createTask", "httpMethod": "PUT",
                                    "time": "2026-01-01T12:00:00.000Z"}]
        assert "classroom/alice" in progress._dirty  # the failed save's facts wait to be saved
    finally:
        mock.stop()

    memory = start(in_process=True, workers=False)  # no --db: nothing to keep, nothing written
    try:
        kept = dashboard.Progress(memory.backend.store)
        kept.observe(when, "status", "GET", 200, "classroom/bob")
        kept.save()
        assert "dashboard_progress" not in memory.backend.store.table_names()
    finally:
        memory.stop()
