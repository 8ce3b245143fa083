"""The dashboard's rows from a state and a request log, without a server."""

from __future__ import annotations

from datetime import datetime, timezone

from tutorial_kit.mock.web import dashboard


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


def test_progress_is_kept_in_its_file_and_only_for_learners(tmp_path) -> None:
    """What learners did survives a restart (the file beside a ``--db`` store, read again),
    the teacher's and the workers' calls are not kept, and a save that cannot write keeps its
    facts for the next one instead of failing the request."""
    path = tmp_path / "class.sqlite.dashboard.json"
    when = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    progress = dashboard.Progress(path, save_every=3600)
    progress.observe(when, "createTask", "PUT", 403, "classroom/alice")
    progress.observe(when, "status", "GET", 200, "classroom/alice")
    progress.observe(when, "claimWork", "POST", 200, "built-in/succeed")
    progress.observe(when, "status", "GET", 200, "tutorial")
    assert set(progress.clients) == {"classroom/alice"}
    assert not path.exists()  # within save_every: nothing written yet
    progress.save()
    progress.observe(when, "listArtifacts", "GET", 200, "classroom/alice")  # not saved yet

    again = dashboard.Progress(path)
    alice = again.clients["classroom/alice"]
    assert alice["calls"] == 2 and alice["lesson"] == 2
    assert alice["lastCall"] == {"method": "status", "httpMethod": "GET", "status": 200,
                                 "time": "2026-01-01T12:00:00.000Z"}
    assert alice["errors"] == [{"status": 403, "method": "createTask", "httpMethod": "PUT",
                                "time": "2026-01-01T12:00:00.000Z"}]

    gone = dashboard.Progress(tmp_path / "removed-folder" / "x.dashboard.json")
    gone.observe(when, "ping", "GET", 200, "classroom/alice")
    gone.save()  # cannot write: logged, kept for later, no exception
    assert gone._dirty
    (tmp_path / "removed-folder").mkdir()
    gone.save()
    assert dashboard.Progress(tmp_path / "removed-folder" / "x.dashboard.json").clients[
        "classroom/alice"]["calls"] == 1

    damaged = tmp_path / "damaged.dashboard.json"
    damaged.write_text("{not json")
    assert dashboard.Progress(damaged).clients == {}  # starts again, says so in the log

    kept = dashboard.Progress()  # no --db: nothing to keep, nothing written
    kept.observe(when, "status", "GET", 200, "classroom/bob")
    kept.save()
    assert kept.clients["classroom/bob"]["calls"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "class.sqlite.dashboard.json", "damaged.dashboard.json", "removed-folder"]


def test_the_history_starts_with_the_server_not_with_the_dashboard_routes() -> None:
    """The mock builds its side routes (the dashboard's among them) on the first request for
    one of them; a learner's calls before that are in the dashboard's history all the same."""
    from tutorial_kit.mock.model.backend import QueueBackend
    from tutorial_kit.mock.web.app import QueueApp

    app = QueueApp(QueueBackend())
    app.request_log.record(time=datetime(2026, 1, 1, tzinfo=timezone.utc), method="createTask",
                           http_method="PUT", route="/api/queue/v1/task/x", status=403,
                           latency_ms=1.0, client_id="classroom/alice")
    assert app._starlette is None  # no side route built yet
    assert app.services.progress.clients["classroom/alice"]["calls"] == 1
