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
(``GET /mock/v1/requests``, kept beyond its ring by :class:`Progress`). Learners are the
clients ``classroom/<name>`` of the roster.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tutorial_kit.vocabulary import TASK_STATES

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
    """What the request log said about each client, kept beyond the log's ring.

    The request log holds the last 2000 calls: in a class that polls, a few minutes. The
    dashboard feeds each new record here once (by ``seq``), so a learner's furthest lesson
    and their last errors outlive the ring.
    """

    def __init__(self) -> None:
        self.last_seq = 0
        self.clients: dict[str, dict[str, Any]] = {}

    def feed(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Take the records newer than the last one seen (oldest first)."""
        for record in records:
            seq = record.get("seq") or 0
            if seq <= self.last_seq:
                continue
            self.last_seq = seq
            client = record.get("clientId")
            if not client:
                continue
            facts = self.clients.setdefault(client, {"calls": 0, "lastCall": None,
                                                     "lesson": None, "errors": []})
            facts["calls"] += 1
            facts["lastCall"] = {"method": record.get("method"),
                                 "httpMethod": record.get("httpMethod"),
                                 "status": record.get("status"), "time": record.get("time")}
            lesson = LESSON_OF_METHOD.get(record.get("method") or "")
            if lesson is not None and (facts["lesson"] is None or lesson > facts["lesson"]):
                facts["lesson"] = lesson
            status_code = record.get("status") or 0
            if 400 <= status_code < 500:
                facts["errors"] = (facts["errors"] + [{
                    "status": status_code, "method": record.get("method"),
                    "httpMethod": record.get("httpMethod"),
                    "time": record.get("time")}])[-RECENT_ERRORS:]


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
