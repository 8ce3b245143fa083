"""`tutorial-kit classroom serve`: a roster in, one scoped client per learner out."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys

import pytest

import tutorial_kit as tk
from tutorial_kit.mock.security.classroom import enroll, learner_scopes, read_roster


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


def test_without_a_sandbox_the_classroom_refuses_learner_commands(tmp_path):
    """No bubblewrap: `classroom serve` says so and how to install it, and runs no learner
    command (the task resolves exception/resource-unavailable, saying why); built-in/* still
    work. Only --unsafe-no-sandbox runs them, as the teacher's user."""
    from hardening.classroom import ClassroomServer, everything_published, wait_resolved

    marker = tmp_path / "ran-on-the-teachers-machine"
    no_bwrap = {"TUTORIAL_KIT_BWRAP": str(tmp_path / "no-such-bwrap")}
    with ClassroomServer(tmp_path / "refusing", env=no_bwrap) as server:
        assert "bubblewrap (bwrap) is not installed" in server.stderr
        assert "apt-get install bubblewrap" in server.stderr
        assert "--unsafe-no-sandbox" in server.stderr
        alice = server.queue("alice")
        task_id = tk.slugid()
        alice.createTask(task_id, tk.lessons.tutorial_task(f"touch {marker}",
                                                           schedulerId="alice"))
        status = wait_resolved(alice, task_id)
        assert (status["state"], status["runs"][0]["reasonResolved"]) == (
            "exception", "resource-unavailable")
        data, errors = everything_published(alice, task_id)
        log = data["public/logs/live_backing.log"].decode()
        assert "runs no learner commands" in log and "bubblewrap" in log
        assert "public/passwd.txt" in errors
        assert not marker.exists()
        builtin = tk.slugid()
        alice.createTask(builtin, tk.lessons.tutorial_task(task_queue="built-in/succeed",
                                                           schedulerId="alice", payload={}))
        assert wait_resolved(alice, builtin)["state"] == "completed"
    with ClassroomServer(tmp_path / "unsafe", "--unsafe-no-sandbox", env=no_bwrap) as server:
        assert "NO SANDBOX" in server.stderr
        alice = server.queue("alice")
        task_id = tk.slugid()
        alice.createTask(task_id, tk.lessons.tutorial_task(f"touch {marker}",
                                                           schedulerId="alice"))
        assert wait_resolved(alice, task_id)["state"] == "completed"
        assert marker.exists()  # as the teacher's user, on the teacher's machine


def test_restarting_on_the_same_db_keeps_every_credential(tmp_path):
    """Credentials handed out keep working after the teacher restarts the classroom on the same
    store: no 401, the learner's task is still there, and they can go on working."""
    from hardening.classroom import ClassroomServer, wait_resolved

    workdir = tmp_path / "room"
    with ClassroomServer(workdir, "--db", "classroom.sqlite3", "--no-workers") as first:
        handed_out = dict(first.learners)
        teacher = dict(first.teacher)
        alice = first.queue("alice")
        task_id = tk.slugid()
        alice.createTask(task_id, tk.lessons.tutorial_task(task_queue="learner-alice/my-worker",
                                                           schedulerId="alice"))
    keeper = workdir / "classroom.sqlite3.credentials.json"
    assert oct(keeper.stat().st_mode & 0o777) == "0o600"
    (workdir / "roster.txt").write_text("alice\nbob\ncarol\n")  # one learner joins
    with ClassroomServer(workdir, "--db", "classroom.sqlite3",
                         roster=("alice", "bob", "carol")) as second:
        assert {k: second.learners[k] for k in handed_out} == handed_out
        assert second.teacher == teacher
        assert "kept across restarts" in second.stderr
        alice = tk.Queue({"rootUrl": second.root_url, "credentials": handed_out["alice"]})
        assert alice.status(task_id)["status"]["state"] == "pending"
        assert alice.cancelTask(task_id)["status"]["state"] == "exception"  # signed, scoped
        bob = tk.Queue({"rootUrl": second.root_url, "credentials": handed_out["bob"]})
        again = tk.slugid()
        bob.createTask(again, tk.lessons.tutorial_task(task_queue="built-in/succeed",
                                                       schedulerId="bob", payload={}))
        assert wait_resolved(bob, again)["state"] == "completed"
        carol = second.queue("carol")
        assert carol.createTask(tk.slugid(), tk.lessons.tutorial_task(
            task_queue="built-in/succeed", schedulerId="carol",
            payload={}))["status"]["state"] == "pending"
    # without --db nothing is kept, and the server says so
    with ClassroomServer(tmp_path / "memory", "--no-workers") as third:
        assert "pass --db to keep them" in third.stderr
        assert third.learners["alice"] != handed_out["alice"]


def test_a_bubblewrap_that_does_not_work_here_is_no_sandbox(monkeypatch):
    """bwrap installed but unusable (e.g. user namespaces off): the probe finds out at start,
    and the classroom refuses learner commands, saying why and how to fix it."""
    from tutorial_kit.mock.security.sandbox import BWRAP_ENV, classroom_sandbox

    monkeypatch.setenv(BWRAP_ENV, "/bin/false")  # starts, does nothing, fails
    refusing = classroom_sandbox()
    assert refusing.kind == "refused"
    assert "/bin/false failed (exit 1" in refusing.why
    assert "unprivileged_userns" in refusing.why
    unsafe = classroom_sandbox(allow_unsandboxed=True)
    assert unsafe.kind == "none" and "NO SANDBOX" in unsafe.description
