"""SQLite storage of the mock queue (in memory, or a durable file).

One connection, one lock: every write happens in :meth:`Store.transaction` (``BEGIN
IMMEDIATE`` ... ``COMMIT``), serialised by the lock, so a claim can never hand one run to two
workers, and everything is committed before the reply. A file store uses WAL with
``synchronous=FULL``: a task the mock accepted is there after a restart.

Tables (one concern each):

* ``tasks``: one row per task: the definition and its runs as JSON (written together, so a
  task's record is always consistent), plus the columns the queries need (group, queue,
  scheduler, deadline, expires, state, insertion order, whether it was ever resolved).
* ``dependencies``: dependent -> required edges with ``requires`` and a satisfied flag.
* ``task_groups``: schedulerId, expires, sealed.
* ``pending``: the pending runs of each task queue, ordered by priority then FIFO.
* ``claimed``: the running runs with their ``takenUntil`` (claim expiry, listClaimedTasks).
* ``claim_checks``: extra claim-expiry checks a refused reclaim queues (see ``reclaimTask``).
* ``task_queues``/``workers``: worker metadata, created as a side effect of worker activity.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    task_group_id TEXT NOT NULL,
    scheduler_id TEXT NOT NULL,
    task_queue_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    priority TEXT NOT NULL,
    deadline TEXT NOT NULL,
    expires TEXT NOT NULL,
    retries_left INTEGER NOT NULL,
    state TEXT NOT NULL,
    ever_resolved INTEGER NOT NULL DEFAULT 0,
    definition TEXT NOT NULL,
    runs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_group ON tasks (task_group_id, task_id);
CREATE INDEX IF NOT EXISTS tasks_deadline ON tasks (state, deadline);
CREATE INDEX IF NOT EXISTS tasks_expires ON tasks (expires);
CREATE TABLE IF NOT EXISTS dependencies (
    required_task_id TEXT NOT NULL,
    dependent_task_id TEXT NOT NULL,
    requires TEXT NOT NULL,
    satisfied INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (required_task_id, dependent_task_id)
);
CREATE INDEX IF NOT EXISTS dependencies_dependent ON dependencies (dependent_task_id);
CREATE TABLE IF NOT EXISTS task_groups (
    task_group_id TEXT PRIMARY KEY,
    scheduler_id TEXT NOT NULL,
    expires TEXT NOT NULL,
    sealed TEXT
);
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    task_queue_id TEXT NOT NULL,
    priority_rank INTEGER NOT NULL,
    inserted TEXT NOT NULL,
    UNIQUE (task_id, run_id)
);
CREATE INDEX IF NOT EXISTS pending_order ON pending (task_queue_id, priority_rank, seq);
CREATE TABLE IF NOT EXISTS claimed (
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    task_queue_id TEXT NOT NULL,
    worker_group TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    claimed TEXT NOT NULL,
    taken_until TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (task_id, run_id)
);
CREATE INDEX IF NOT EXISTS claimed_expiry ON claimed (taken_until);
CREATE TABLE IF NOT EXISTS task_queues (
    task_queue_id TEXT PRIMARY KEY,
    expires TEXT NOT NULL,
    last_date_active TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    stability TEXT NOT NULL DEFAULT 'experimental'
);
CREATE TABLE IF NOT EXISTS workers (
    task_queue_id TEXT NOT NULL,
    worker_group TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    first_claim TEXT NOT NULL,
    last_date_active TEXT,
    expires TEXT NOT NULL,
    quarantine_until TEXT,
    quarantine_details TEXT NOT NULL DEFAULT '[]',
    recent_tasks TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (task_queue_id, worker_group, worker_id)
);
CREATE TABLE IF NOT EXISTS claim_checks (
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    check_at TEXT NOT NULL,
    PRIMARY KEY (task_id, run_id, check_at)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class Store:
    """The SQLite database behind a :class:`~tutorial_kit.mock.model.backend.QueueBackend`."""

    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path
        self._lock = threading.RLock()
        self._local = threading.local()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so nothing commits behind
        # our back and a transaction spans exactly one `with store.transaction()`.
        self.conn = sqlite3.connect(db_path or ":memory:", check_same_thread=False,
                                    isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if db_path:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)

    # -- schema --------------------------------------------------------------------------------
    def register_schema(self, sql: str) -> None:
        """Add ``CREATE TABLE IF NOT EXISTS`` DDL of another module (e.g. artifacts)."""
        with self._lock:
            self.conn.executescript(sql)

    def table_names(self) -> list[str]:
        with self.read() as conn:
            rows = conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%'").fetchall()
        return [r[0] for r in rows]

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Serialised write transaction: commit on success, roll back on exception.

        Re-entrant on the same thread: an inner ``transaction()`` joins the outer one.
        """
        with self._lock:
            depth = getattr(self._local, "depth", 0)
            if depth:
                self._local.depth = depth + 1
                try:
                    yield self.conn
                finally:
                    self._local.depth = depth
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._local.depth = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (the lock keeps the shared connection single-threaded)."""
        with self._lock:
            yield self.conn

    def changes(self) -> int:
        """How many rows all writes so far inserted, updated or deleted: a number that moves
        with every committed change (a rolled-back one moves it too, which is harmless)."""
        with self._lock:
            return self.conn.total_changes

    # -- maintenance ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Empty every table, ours and registered ones."""
        with self.transaction() as conn:
            for name in self.table_names_unlocked(conn):
                conn.execute(f'DELETE FROM "{name}"')

    @staticmethod
    def table_names_unlocked(conn: sqlite3.Connection) -> list[str]:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                            "AND name NOT LIKE 'sqlite_%'").fetchall()
        return [r[0] for r in rows]

    def next_counter(self, conn: sqlite3.Connection, name: str) -> int:
        """A persistent increasing counter (inside the caller's transaction)."""
        conn.execute("INSERT INTO counters (name, value) VALUES (?, 1) "
                     "ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))
        return conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            except sqlite3.Error:
                pass
