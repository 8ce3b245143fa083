"""The SQLite store: transactions, durability of a file store, claims under concurrency."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

import pytest

from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mock.model.store import Store

from .backend_helpers import Harness, paused_clock, slug


def test_transaction_commits_and_rolls_back():
    store = Store()
    with store.transaction() as conn:
        conn.execute("INSERT INTO counters (name, value) VALUES ('a', 1)")
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO counters (name, value) VALUES ('b', 1)")
            raise RuntimeError("boom")
    with store.read() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM counters")]
    assert names == ["a"]


def test_nested_transaction_joins_outer():
    store = Store()
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            with store.transaction() as inner:
                inner.execute("INSERT INTO counters (name, value) VALUES ('x', 1)")
            raise RuntimeError
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 0


def test_register_schema_and_reset_empties_every_table():
    store = Store()
    store.register_schema("CREATE TABLE IF NOT EXISTS extra_things (id TEXT PRIMARY KEY);")
    assert "extra_things" in store.table_names()
    with store.transaction() as conn:
        conn.execute("INSERT INTO extra_things VALUES ('a')")
        assert store.next_counter(conn, "c") == 1
        assert store.next_counter(conn, "c") == 2
    store.reset()
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM extra_things").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 0


def test_file_store_uses_wal_and_full_sync(tmp_path):
    store = Store(str(tmp_path / "q.sqlite"))
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_file_store_loses_nothing_on_restart(tmp_path):
    path = str(tmp_path / "queue.sqlite")
    clock = paused_clock()
    first = Harness(QueueBackend(db_path=path, clock=clock))
    a, _ = first.create(slug("a"))
    b, _ = first.create(slug("b"), dependencies=[a], taskGroupId=a)
    (claim,) = first.claim()
    first.body("reportCompleted", taskId=a, runId=0)
    before = first.backend.dump()
    first.backend.close()

    second = Harness(QueueBackend(db_path=path, clock=clock))
    after = second.backend.dump()
    assert after["tasks"] == before["tasks"]
    assert after["taskGroups"] == before["taskGroups"]
    assert after["taskQueues"] == before["taskQueues"]
    assert second.body("status", taskId=b)["status"]["state"] == "pending"
    # the reopened queue keeps working: b is claimable and completes
    (claim,) = second.claim()
    assert claim["status"]["taskId"] == b
    second.body("reportCompleted", taskId=b, runId=0)
    second.backend.close()
    third = QueueBackend(db_path=path, clock=clock)
    assert [t["status"]["state"] for t in third.dump()["tasks"]] == ["completed", "completed"]
    third.close()


def test_concurrent_claims_hand_out_each_run_once():
    backend = QueueBackend(clock=paused_clock())
    h = Harness(backend)
    task_ids = {h.create()[0] for _ in range(60)}
    got: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for _ in range(40):  # bounded: more rounds than needed
                claims = h.claim(n=3, wid=f"w{n}")
                if not claims:
                    return
                with lock:
                    got.extend((c["status"]["taskId"], c["runId"]) for c in claims)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    counts = Counter(got)
    assert set(counts) == {(t, 0) for t in task_ids}
    assert max(counts.values()) == 1
    running = [m for m in backend.bus.history() if m.name == "task-running"]
    assert len(running) == 60


def test_concurrent_reports_and_creates_are_consistent(tmp_path):
    backend = QueueBackend(db_path=str(tmp_path / "c.sqlite"), clock=paused_clock())
    h = Harness(backend)

    def create_and_run(n: int) -> None:
        for _ in range(5):
            taskId, _ = h.create(queue=f"prov/q{n}")
            (claim,) = h.claim(queue=f"prov/q{n}", wid=f"w{n}")
            h.body("reportCompleted", taskId=claim["status"]["taskId"], runId=0)

    threads = [threading.Thread(target=create_and_run, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    states = Counter(t["status"]["state"] for t in backend.dump()["tasks"])
    assert states == {"completed": 30}
    with backend.store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM claimed").fetchone()[0] == 0
    backend.close()


def test_closed_store_refuses_quietly():
    store = Store()
    store.close()
    store.close()  # twice is fine
    with pytest.raises(sqlite3.ProgrammingError):
        with store.read() as conn:
            conn.execute("SELECT 1")
