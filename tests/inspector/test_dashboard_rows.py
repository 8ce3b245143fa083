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
