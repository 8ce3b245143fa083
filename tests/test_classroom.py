"""`tutorial-kit classroom serve`: a roster in, one scoped client per learner out."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys

import pytest

import tutorial_kit as tk
from tutorial_kit.mock.classroom import enroll, learner_scopes, read_roster


def test_roster_is_read_and_checked(tmp_path):
    roster = tmp_path / "roster.txt"
    roster.write_text("# class of 2026\nalice\n\nbob, bob@example.com\n")
    assert read_roster(roster) == ["alice", "bob"]
    roster.write_text("alice\nalice\n")
    with pytest.raises(ValueError, match="appears twice"):
        read_roster(roster)
    roster.write_text("al ice\n")
    with pytest.raises(ValueError, match="roster.txt:1"):
        read_roster(roster)


def test_each_learner_gets_own_client_and_scopes():
    learners, clients = enroll(["alice", "bob"])
    assert [l.client_id for l in learners] == ["classroom/alice", "classroom/bob"]
    assert learners[0].access_token != learners[1].access_token
    assert clients["classroom/bob"]["scopes"] == learner_scopes("bob")
    assert "queue:scheduler-id:bob" in learner_scopes("bob")
    assert not any("alice" in s for s in learner_scopes("bob"))


def test_classroom_serve_writes_credentials_and_serves_with_strict_auth(tmp_path):
    roster = tmp_path / "roster.txt"
    roster.write_text("alice\nbob\n")
    out = tmp_path / "creds.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutorial_kit.cli", "classroom", "serve", "--roster", str(roster),
         "--credentials", str(out), "--no-workers", "--claim-wait", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        exports = dict(proc.stdout.readline().strip().removeprefix("export ").split("=", 1)
                       for _ in range(3))
        root_url = exports["TASKCLUSTER_ROOT_URL"]
        rows = list(csv.DictReader(out.open()))
        assert [r["learner"] for r in rows] == ["alice", "bob"]
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        alice = tk.Queue({"rootUrl": root_url, "credentials": {
            "clientId": rows[0]["clientId"], "accessToken": rows[0]["accessToken"]}})
        bob = tk.Queue({"rootUrl": root_url, "credentials": {
            "clientId": rows[1]["clientId"], "accessToken": rows[1]["accessToken"]}})
        task = tk.lessons.tutorial_task(task_queue="learner-alice/my-worker", schedulerId="alice")
        task_id = tk.slugid()
        assert alice.createTask(task_id, task)["status"]["state"] == "pending"
        assert bob.status(task_id)["status"]["state"] == "pending"  # reading is open
        with pytest.raises(tk.TaskclusterError) as refused:
            bob.cancelTask(task_id)
        assert refused.value.code == "InsufficientScopes"
        with pytest.raises(tk.TaskclusterError) as refused:
            bob.claimWork("learner-alice/my-worker", {"workerGroup": "bob", "workerId": "w",
                                                      "tasks": 1})
        assert refused.value.code == "InsufficientScopes"
        with pytest.raises(tk.TaskclusterError) as refused:
            bob.createTask(tk.slugid(), task)  # alice's schedulerId
        assert refused.value.code == "InsufficientScopes"
        assert alice.cancelTask(task_id)["status"]["state"] == "exception"
        # the control plane answers only the teacher in classroom mode
        import httpx

        assert httpx.post(f"{root_url}/mock/v1/reset").status_code in (401, 403)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_classroom_keeps_learner_commands_off_the_teachers_machine_by_default():
    """The built-in workers run; the shell engine is off unless asked for."""
    from tutorial_kit.mock import start

    with start(workers=True, claim_wait=0.2, shell_queues=[]) as mock:
        assert mock.cluster.task_queues == ["built-in/succeed", "built-in/fail"]
        queue = tk.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
        shell_task = tk.slugid()  # created first: had a shell engine been running, it would run
        queue.createTask(shell_task, tk.lessons.tutorial_task("true"))
        task_id = tk.slugid()
        queue.createTask(task_id, tk.lessons.tutorial_task(task_queue="built-in/succeed"))
        assert tk.lessons.wait_resolved(queue, task_id, timeout=30)["state"] == "completed"
        assert queue.status(shell_task)["status"]["state"] == "pending"
