"""The teacher's dashboard of a classroom: one row per learner, from the control plane.

The page (``static/dashboard.html``) is served at ``<rootUrl>/mock/v1/dashboard?token=<T>`` and
polls ``<rootUrl>/mock/v1/dashboard/data`` (token in the ``X-Teacher-Token`` header). Both answer
only to the teacher's token; a learner, signed or not, gets 403.

The token is derived from the teacher's access token (the ``tutorial`` client of ``classroom
serve``, scope ``*``) with an HMAC, so it is not a second secret to store: the same
``--access-token`` gives the same dashboard URL after a restart, and a learner's credentials
can never produce it.

The rows are built by :func:`summarize` from what the control plane already shows: the
model's state (``GET /mock/v1/state``, ``backend.dump()``) and the request log
(``GET /mock/v1/requests``, whose every learner call :class:`Progress` takes as it is logged,
so the history starts with the server, or with the store under ``--db``, not when the teacher
first opens the page). Learners are the clients ``classroom/<name>`` of the roster.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pathlib
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tutorial_kit.dates import to_json
from tutorial_kit.vocabulary import TASK_STATES

log = logging.getLogger("tutorial_kit.mock.dashboard")

#: The prefix of a learner's clientId (``classroom.enroll``).
LEARNER_PREFIX = "classroom/"
RECENT_ERRORS = 5
TASKS_SHOWN = 20

#: The lesson a call is typical of: a learner "seems to be on" the highest lesson whose calls
#: they have made (lessons build on each other, and every lesson polls ``status``).
LESSON_OF_METHOD: dict[str, int] = {
    "ping": 0,
    "createTask": 1, "task": 1,
    "status": 2,
    "listArtifacts": 3, "listLatestArtifacts": 3, "getArtifact": 3, "getLatestArtifact": 3,
    "latestArtifact": 3, "artifact": 3, "artifactInfo": 3, "latestArtifactInfo": 3,
    "rerunTask": 4, "cancelTask": 4, "scheduleTask": 4,
    "listTaskGroup": 5, "getTaskGroup": 5, "sealTaskGroup": 5, "listDependentTasks": 5,
    "cancelTaskGroup": 5,
    "claimWork": 6, "reclaimTask": 6, "reportCompleted": 6, "reportFailed": 6,
    "reportException": 6, "createArtifact": 6, "finishArtifact": 6,
}
LESSON_TITLES = {0: "welcome", 1: "create a task", 2: "monitor status", 3: "artifacts",
                 4: "retries and reruns", 5: "groups and dependencies", 6: "be a worker"}


def teacher_token(access_token: str) -> str:
    """The dashboard token of a teacher whose access token is ``access_token``."""
    digest = hmac.new(access_token.encode("utf-8"), b"tutorial-kit classroom dashboard",
                      hashlib.sha256).hexdigest()
    return digest[:40]


def token_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; no expected token means no dashboard."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def _ago(now: datetime, when: str | None) -> float | None:
    if not when:
        return None
    try:
        then = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (now - then).total_seconds())


class Progress:
    """What each learner did, from the server's start (and, with ``--db``, from the store's).

    The request log is a ring of the last 2000 calls: in a class that polls, a few minutes. So
    the dashboard does not read its history from the ring when the teacher opens it: it takes
    every learner's call as it is logged (:meth:`observe`, a request-log listener), whether or
    not anyone is looking, and with a file (``<db>.dashboard.json``, beside the store, as the
    credentials are) it saves what it knows there, so a restarted classroom shows what learners
    did before. It saves every ``save_every`` seconds of calls, when the dashboard is read, and
    when the server stops (:meth:`save`): a crash loses at most the last few seconds of counts,
    never a task (tasks are the store's own).
    """

    #: Seconds between two saves while learners make calls.
    SAVE_EVERY = 2.0

    def __init__(self, path: pathlib.Path | None = None, *,
                 save_every: float = SAVE_EVERY) -> None:
        """``path``: the file to keep the history in; None keeps it for this process only."""
        self.last_seq = 0
        self.clients: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._path = path
        self._dirty = False
        self._save_every = save_every
        self._saved_at = time.monotonic()
        if path is not None:
            self._load(path)

    def feed(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Take the records (``RequestRecord.to_json()`` form) newer than the last one seen."""
        for record in records:
            seq = record.get("seq") or 0
            if seq <= self.last_seq:
                continue
            self.last_seq = seq
            self.observe(record.get("time"), record.get("method"), record.get("httpMethod"),
                         record.get("status"), record.get("clientId"))

    def observe(self, when: datetime | str | None, method: str | None, http_method: str | None,
                status: int | None, client_id: str | None) -> None:
        """One call, as the request log records it (``when`` on the mock's clock)."""
        if not client_id or not client_id.startswith(LEARNER_PREFIX):
            return  # the teacher's and the workers' calls: nothing the dashboard shows
        stamp = to_json(when) if isinstance(when, datetime) else when
        lesson = LESSON_OF_METHOD.get(method or "")
        status_code = status or 0
        with self._lock:
            facts = self.clients.setdefault(client_id, _new_facts())
            facts["calls"] += 1
            facts["lastCall"] = {"method": method, "httpMethod": http_method,
                                 "status": status, "time": stamp}
            if lesson is not None and (facts["lesson"] is None or lesson > facts["lesson"]):
                facts["lesson"] = lesson
            if 400 <= status_code < 500:
                facts["errors"] = (facts["errors"] + [{
                    "status": status_code, "method": method, "httpMethod": http_method,
                    "time": stamp}])[-RECENT_ERRORS:]
            self._dirty = True
            due = (self._path is not None
                   and time.monotonic() - self._saved_at >= self._save_every)
        if due:
            self.save()

    def save(self) -> None:
        """Write the history if it changed since the last save (with a file only).

        Never raises: the history is a convenience for the teacher, and a request or the
        server's stop must not fail over it (the error is logged). The file is replaced
        whole, so a crash mid-write leaves the previous one."""
        if self._path is None:
            return
        with self._lock:
            self._saved_at = time.monotonic()
            if not self._dirty:
                return
            text = json.dumps(self.clients)
            self._dirty = False
        partial = self._path.with_name(self._path.name + ".partial")
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, self._path)
        except OSError:  # a full disk or a removed folder: keep it to try again
            log.warning("could not save the dashboard's history to %s", self._path,
                        exc_info=True)
            with self._lock:
                self._dirty = True

    def _load(self, path: pathlib.Path) -> None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            log.warning("the dashboard's history in %s could not be read; it starts again",
                        path)
            return
        if isinstance(loaded, dict):
            for client_id, facts in loaded.items():
                if isinstance(facts, dict):
                    self.clients[client_id] = {**_new_facts(), **facts}


def _new_facts() -> dict[str, Any]:
    return {"calls": 0, "lastCall": None, "lesson": None, "errors": []}


def summarize(learners: Iterable[str], state: Mapping[str, Any], progress: Progress,
              now: datetime) -> list[dict[str, Any]]:
    """One row per learner (in roster order).

    ``state`` is ``backend.dump()`` (tasks with their definition and status); ``progress`` what
    the request log said (:class:`Progress`); ``now`` the mock's time, which the log's times
    are on.
    """
    names = list(learners)
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        facts = progress.clients.get(LEARNER_PREFIX + name) or {}
        last = facts.get("lastCall")
        lesson = facts.get("lesson")
        rows[name] = {"learner": name, "clientId": LEARNER_PREFIX + name,
                      "tasks": {s: 0 for s in TASK_STATES}, "taskCount": 0, "recentTasks": [],
                      "lesson": lesson, "lessonTitle": LESSON_TITLES.get(lesson)
                      if lesson is not None else None,
                      "lastCall": last, "lastCallAgo": _ago(now, last["time"]) if last else None,
                      "calls": facts.get("calls", 0),
                      "errors": list(reversed(facts.get("errors", [])))}  # newest first
    # Tasks: a learner's tasks carry their schedulerId (classroom.py confines them to it).
    for entry in state.get("tasks", []):
        task = entry.get("task") or {}
        row = rows.get(task.get("schedulerId"))
        if row is None:
            continue
        status = entry.get("status") or {}
        task_state = status.get("state", "unscheduled")
        row["tasks"][task_state] = row["tasks"].get(task_state, 0) + 1
        row["taskCount"] += 1
        row["recentTasks"].append({"taskId": entry.get("taskId"), "state": task_state,
                                   "name": (task.get("metadata") or {}).get("name", ""),
                                   "created": task.get("created")})
    for row in rows.values():
        row["recentTasks"] = sorted(row["recentTasks"], key=lambda t: t.get("created") or "",
                                    reverse=True)[:TASKS_SHOWN]
    return [rows[name] for name in names]


def learner_names(client_ids: Iterable[str]) -> list[str]:
    """The roster, from the clients the mock knows (``classroom/<name>``), in enrolment order."""
    return [c[len(LEARNER_PREFIX):] for c in client_ids if c.startswith(LEARNER_PREFIX)]
