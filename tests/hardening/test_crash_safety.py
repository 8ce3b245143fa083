"""Crash safety: kill -9 the server in the middle of a createTask storm, restart it, and
everything the server acknowledged with a 200 is still there.

The server runs from the CLI with a file store. Before the storm, tasks are claimed and given
artifacts (an uploaded ``s3`` blob and a ``reference``); during the storm, eight threads create
tasks and one worker claims and completes them. After SIGKILL the SQLite file must pass
``PRAGMA integrity_check`` and a fresh server on the same file must show every acknowledged
task, run state and artifact (bytes included).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from urllib.parse import quote

import pytest

from .support import (ServedQueue, Wire, assert_still_serves, new_task_id, target_of,
                      task_definition, unique_queue, when)

STORM_THREADS = 8
STORM_SECONDS = 1.5
BEFORE = 20  # tasks claimed and given artifacts before the storm


def _claim(wire: Wire, creds: dict, queue: str, n: int) -> list[tuple[str, int]]:
    got = wire.api("POST", "/claim-work/" + quote(queue, safe=""), credentials=creds,
                   json_body={"workerGroup": "wg", "workerId": "crash", "tasks": n})
    assert got.status == 200, got.text
    return [(t["status"]["taskId"], t["runId"]) for t in got.json()["tasks"]]


def _blob(task_id: str) -> bytes:
    return hashlib.sha256(task_id.encode()).hexdigest().encode() * 64


def _prepare(wire: Wire, creds: dict, queue: str) -> dict[str, str]:
    """BEFORE tasks, claimed, each with an uploaded s3 artifact and a reference artifact."""
    ids = {}
    for _ in range(BEFORE):
        task_id = new_task_id()
        assert wire.api("PUT", f"/task/{task_id}", credentials=creds,
                        json_body=task_definition(queue)).status == 200
    for task_id, run_id in _claim(wire, creds, queue, BEFORE):
        data = _blob(task_id)
        made = wire.api("POST", f"/task/{task_id}/runs/{run_id}/artifacts/public%2Fdata.bin",
                        credentials=creds,
                        json_body={"storageType": "s3", "expires": when(3600),
                                   "contentType": "application/octet-stream"})
        assert made.status == 200, made.text
        put_url = made.json()["putUrl"]
        put = Wire.for_root(put_url).send("PUT", target_of(put_url), body=data,
                                          content_type="application/octet-stream")
        assert put.status == 200, put.text
        ref = wire.api("POST", f"/task/{task_id}/runs/{run_id}/artifacts/public%2Fref",
                       credentials=creds,
                       json_body={"storageType": "reference", "expires": when(3600),
                                  "contentType": "text/plain", "url": "https://example.com/r"})
        assert ref.status == 200, ref.text
        ids[task_id] = hashlib.sha256(data).hexdigest()
    assert len(ids) == BEFORE
    return ids


@pytest.mark.slow
def test_kill_9_during_a_create_storm_loses_nothing_acknowledged(tmp_path) -> None:
    db = tmp_path / "queue.sqlite"
    token = "crash-safety-token-" + "x" * 25
    first = ServedQueue("--no-workers", "--db", str(db), "--claim-wait", "0.1",
                        "--access-token", token)
    creds = first.credentials
    wire = Wire.for_root(first.root_url, timeout=10)
    queue = unique_queue("crash")
    with_artifacts = _prepare(wire, creds, queue)

    created: set[str] = set()
    completed: set[str] = set()
    claimed: set[str] = set()
    stop = threading.Event()
    lock = threading.Lock()

    def creator() -> None:
        while not stop.is_set():
            task_id = new_task_id()
            try:
                answer = wire.api("PUT", f"/task/{task_id}", credentials=creds,
                                  json_body=task_definition(queue))
            except OSError:
                return  # the server is gone
            if answer.status == 200:
                with lock:
                    created.add(task_id)

    def worker() -> None:
        while not stop.is_set():
            try:
                for task_id, run_id in _claim(wire, creds, queue, 4):
                    with lock:
                        claimed.add(task_id)
                    done = wire.api("POST", f"/task/{task_id}/runs/{run_id}/completed",
                                    credentials=creds)
                    if done.status == 200:
                        with lock:
                            completed.add(task_id)
            except (OSError, AssertionError):
                return

    threads = [threading.Thread(target=creator) for _ in range(STORM_THREADS)]
    threads.append(threading.Thread(target=worker))
    for t in threads:
        t.start()
    try:
        time.sleep(STORM_SECONDS)
        first.kill()  # SIGKILL with requests in flight
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert not any(t.is_alive() for t in threads)
    assert len(created) >= 20, "the storm was too small to mean anything"

    # the database opens cleanly
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with ServedQueue("--no-workers", "--db", str(db), "--claim-wait", "0.1",
                     "--access-token", token) as second:
        wire = Wire.for_root(second.root_url, timeout=10)
        for task_id in created | set(with_artifacts):
            answer = wire.api("GET", f"/task/{task_id}/status")
            assert answer.status == 200, f"acknowledged task {task_id} is gone: {answer.text}"
            runs = answer.json()["status"]["runs"]
            assert runs, task_id
            if task_id in completed:
                assert runs[0]["state"] == "completed", runs
            elif task_id in claimed or task_id in with_artifacts:
                assert runs[0]["state"] in ("running", "completed"), runs
        for task_id, digest in with_artifacts.items():
            listed = wire.api("GET", f"/task/{task_id}/runs/0/artifacts").json()["artifacts"]
            assert {a["name"] for a in listed} == {"public/data.bin", "public/ref"}, listed
            redirect = wire.api("GET", f"/task/{task_id}/runs/0/artifacts/public%2Fdata.bin")
            assert redirect.status == 303, redirect.text
            location = redirect.headers["location"]
            blob = Wire.for_root(location).send("GET", target_of(location))
            assert blob.status == 200 and hashlib.sha256(blob.body).hexdigest() == digest
        # and the restarted server keeps working on the same file
        task_id = new_task_id()
        assert wire.api("PUT", f"/task/{task_id}", credentials=second.credentials,
                        json_body=task_definition(queue)).status == 200
        assert_still_serves(wire)
    print(f"\n{len(created)} tasks acknowledged before kill -9, {len(completed)} completed; "
          "all present after restart")
