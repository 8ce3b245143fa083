"""The createTask rules on a task definition (QUEUE-FACTS §b): pure, no store, no clock read.

:func:`normalize_definition` turns a validated request body into the stored definition (every
default filled, dates in ``Date.toJSON()`` form, both queue identities, keys in the order the
real ``task`` method prints them) or raises ``InputError`` with the reason.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from .clock import add_years

from tutorial_kit.dates import parse_date, to_json
from .errors import input_error

#: Order of the keys of a stored/returned definition.
DEFINITION_KEYS = ("provisionerId", "workerType", "taskQueueId", "schedulerId", "projectId",
                   "taskGroupId", "dependencies", "requires", "routes", "priority", "retries",
                   "created", "deadline", "expires", "scopes", "payload", "metadata", "tags",
                   "extra")

#: Defaults the input schema fills; repeated here so a body that skipped validation still works.
DEFAULTS: dict[str, Any] = {
    "schedulerId": "-",
    "projectId": "none",
    "dependencies": [],
    "requires": "all-completed",
    "routes": [],
    "priority": "lowest",
    "retries": 5,
    "scopes": [],
    "tags": {},
    "extra": {},
}

CREATED_DRIFT = timedelta(minutes=15)
MAX_DEADLINE = timedelta(days=5)


def _date(body: dict[str, Any], key: str) -> datetime:
    try:
        return parse_date(body[key])
    except KeyError:
        raise input_error(f"`{key}` is required.") from None
    except ValueError:
        raise input_error(f"`{key}` is not a valid date-time: {body[key]!r}.") from None


def queue_identity(body: dict[str, Any]) -> tuple[str, str, str]:
    """(taskQueueId, provisionerId, workerType) from whichever the body gives, checked."""
    tq = body.get("taskQueueId")
    prov = body.get("provisionerId")
    wt = body.get("workerType")
    if tq is not None:
        if not isinstance(tq, str) or tq.count("/") != 1:
            raise input_error(f"taskQueueId {tq!r} is not of the form provisionerId/workerType.")
        tq_prov, tq_wt = tq.split("/")
        if (prov is not None or wt is not None) and (prov, wt) != (tq_prov, tq_wt):
            raise input_error('taskQueueId must match "provisionerId/workerType" when both '
                              "forms are given.")
        return tq, tq_prov, tq_wt
    if prov is None or wt is None:
        raise input_error("Give a taskQueueId, or at least both a provisionerId and a "
                          "workerType.")
    return f"{prov}/{wt}", prov, wt


def _created_error(created: datetime, now: datetime, wall: datetime | None) -> str | None:
    """Why ``created`` is refused, or None. The Queue allows ±15 min around its own time. The
    mock also allows ±15 min around real time (`wall`): its clock may have been moved ahead by a
    lesson, while a learner's terminal clients count ``fromNowJSON('')`` from the real clock."""
    instants = [now] if wall is None else [now, wall]
    if any(abs(created - instant) <= CREATED_DRIFT for instant in instants):
        return None
    side = "past" if created < now else "future"
    return f"`created` cannot be in the {side} (max 15min drift)." + _clock_note(now, wall)


def _clock_note(now: datetime, wall: datetime | None) -> str:
    """What a learner needs to know when the mock's clock was moved away from real time."""
    if wall is None or abs(now - wall) <= CREATED_DRIFT:
        return ""
    ahead = (now - wall).total_seconds() / 60
    return (f" This mock queue's clock is {abs(ahead):.0f} min "
            f"{'ahead of' if ahead > 0 else 'behind'} real time (a lesson or the controls moved "
            "it); `created` may be within 15 min of either. To put the clock back: "
            'POST <rootUrl>/mock/v1/clock {"action": "reset"}, or '
            "tutorial_kit.mockctl.MockControl(rootUrl).reset_clock().")


def normalize_definition(taskId: str, body: Any, now: datetime, *,
                         max_deadline: timedelta = MAX_DEADLINE,
                         wall: datetime | None = None) -> dict[str, Any]:
    """The stored definition for ``body``, or ``InputError`` for a rule of §b it breaks.

    `now` is the queue's (the mock's) time; `wall`, when given, real time (see
    :func:`_created_error`)."""
    if not isinstance(body, dict):
        raise input_error("The task definition must be a JSON object.")
    body = copy.deepcopy(body)
    for key, value in DEFAULTS.items():
        body.setdefault(key, copy.deepcopy(value))
    body.setdefault("taskGroupId", taskId)
    tq, prov, wt = queue_identity(body)

    created = _date(body, "created")
    deadline = _date(body, "deadline")
    problem = _created_error(created, now, wall)
    if problem:
        raise input_error(problem)
    if deadline < created:
        raise input_error("`deadline` cannot be earlier than `created`.")
    if deadline < now:
        raise input_error("`deadline` cannot be in the past." + _clock_note(now, wall))
    if deadline > now + max_deadline + CREATED_DRIFT:
        days = max_deadline.total_seconds() / 86400
        raise input_error(f"`deadline` cannot be more than {days:g} days into the future.")
    expires = _date(body, "expires") if "expires" in body else add_years(deadline, 1)
    if expires < deadline:
        raise input_error("`expires` cannot be earlier than `deadline`.")

    check_shapes(body)
    scopes = body.get("scopes") or []
    bad = [s for s in scopes if isinstance(s, str) and s.endswith("**")]
    if bad:
        raise input_error("Scopes in `task.scopes` must not end with `**`: " + ", ".join(bad))
    for key in ("payload", "metadata"):
        if key not in body:
            raise input_error(f"`{key}` is required.")

    values = {**body, "taskQueueId": tq, "provisionerId": prov, "workerType": wt,
              "created": to_json(created), "deadline": to_json(deadline),
              "expires": to_json(expires)}
    return {key: values[key] for key in DEFINITION_KEYS}


def check_shapes(body: dict[str, Any]) -> None:
    """What the input schema guarantees, checked again so a body that skipped validation gets
    a clear 400 rather than a crash further down."""
    from tutorial_kit.vocabulary import PRIORITIES, REQUIRES

    if body.get("priority") not in PRIORITIES:
        raise input_error(f"`priority` must be one of {', '.join(PRIORITIES)}.")
    if body.get("requires") not in REQUIRES:
        raise input_error("`requires` must be all-completed or all-resolved.")
    retries = body.get("retries")
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 49:
        raise input_error("`retries` must be an integer from 0 to 49.")
    for key in ("dependencies", "routes", "scopes"):
        value = body.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise input_error(f"`{key}` must be a list of strings.")
    for key in ("tags", "extra", "payload", "metadata"):
        if key in body and not isinstance(body[key], dict):
            raise input_error(f"`{key}` must be an object.")
    for key in ("schedulerId", "projectId", "taskGroupId"):
        if key in body and not isinstance(body[key], str):
            raise input_error(f"`{key}` must be a string.")


def same_definition(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Do two normalized definitions describe the same task (for an idempotent createTask)?"""
    return {k: a.get(k) for k in DEFINITION_KEYS} == {k: b.get(k) for k in DEFINITION_KEYS}
