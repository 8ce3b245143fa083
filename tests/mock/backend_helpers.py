"""Helpers for the model's tests: a backend on a paused clock, calls through the real contract
(Call + auth.Caller, which evaluates scope expressions), task definitions, ids, and an oracle
validator built from ../shared/taskcluster-schemas."""

from __future__ import annotations

import json
import pathlib
import uuid
import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tutorial_kit.api import BY_NAME
from tutorial_kit.mock.security.auth import ANONYMOUS_SCOPES, Caller
from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mock.model.call import Call, Reply
from tutorial_kit.mock.model.clock import Clock
from tutorial_kit.dates import to_json
from tutorial_kit.mock.model.errors import QueueError

ROOT = Caller("root", ["*"])
ANONYMOUS = Caller(None, ANONYMOUS_SCOPES)
T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)


def slug(prefix: str = "") -> str:
    """A v4 slugid; ``prefix`` (letters/digits, up to 8) makes ids sort in a chosen order."""
    raw = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return (prefix + raw[len(prefix):]) if prefix else raw


def paused_clock(at: datetime = T0) -> Clock:
    clock = Clock()
    clock.freeze_at(at)
    return clock


def task_def(now: datetime, queue: str = "prov/wt", **overrides: Any) -> dict[str, Any]:
    """A minimal createTask body (no defaults: validation would add them; the model copes)."""
    body: dict[str, Any] = {
        "taskQueueId": queue,
        "created": to_json(now),
        "deadline": to_json(now + timedelta(days=1)),
        "payload": {},
        "metadata": {"name": "t", "description": "d", "owner": "o@example.com",
                     "source": "https://example.com/src"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


class Harness:
    """Drives a QueueBackend through ``handle`` the way the HTTP layer does."""

    def __init__(self, backend: QueueBackend, oracle: "Oracle | None" = None) -> None:
        self.backend = backend
        self.seen = 0
        self.oracle = oracle  # when set, every 200 reply is checked against its output schema
        self.checked = 0

    @property
    def clock(self) -> Clock:
        return self.backend.clock

    def now(self) -> datetime:
        return self.backend.clock.now()

    def call(self, name: str, body: Any = None, *, query: dict[str, str] | None = None,
             caller: Any = ROOT, **params: Any) -> Reply:
        entry = BY_NAME[name]
        if caller is not None and entry.scopes is not None:
            # The HTTP layer checks up front when the expression needs only URL parameters.
            from tutorial_kit.mock.security.scopes import required_params
            if required_params(entry.scopes) <= set(entry.args):
                caller.authorize(entry.scopes, params)
        reply = self.backend.handle(Call(entry, params, query or {}, body, caller,
                                         "http://127.0.0.1:1"))
        if self.oracle is not None and entry.output and reply.body is not None:
            self.oracle.check(entry.output, reply.body)
            self.checked += 1
        return reply

    def body(self, name: str, body: Any = None, **kw: Any) -> Any:
        reply = self.call(name, body, **kw)
        assert reply.status == 200
        return reply.body

    def error(self, name: str, body: Any = None, **kw: Any) -> QueueError:
        with pytest.raises(QueueError) as info:
            self.call(name, body, **kw)
        return info.value

    def create(self, taskId: str | None = None, **overrides: Any) -> tuple[str, dict[str, Any]]:
        taskId = taskId or slug()
        status = self.body("createTask", task_def(self.now(), **overrides), taskId=taskId)
        return taskId, status["status"]

    def claim(self, queue: str = "prov/wt", n: int = 1, wg: str = "wg", wid: str = "w1"):
        return self.body("claimWork", {"tasks": n, "workerGroup": wg, "workerId": wid},
                         taskQueueId=queue)["tasks"]

    def messages(self) -> list:
        """Messages published since the previous call of this method."""
        msgs = self.backend.bus.history(self.seen)
        if msgs:
            self.seen = msgs[-1].seq
        return msgs

    def exchanges(self) -> list[str]:
        return [m.name for m in self.messages()]


class Oracle:
    """Validates instances against the official schemas (Draft 6, referencing Registry)."""

    def __init__(self, folder: pathlib.Path) -> None:
        from jsonschema import Draft6Validator
        from referencing import Registry
        from referencing.jsonschema import DRAFT6

        resources = []
        for path in (folder / "schemas").rglob("*.json"):
            contents = json.loads(path.read_text())
            uri = contents.get("$id", "").rstrip("#")
            if uri:
                resources.append((uri, DRAFT6.create_resource(contents)))
        self.registry = Registry().with_resources(resources)
        self._cls = Draft6Validator
        self._cache: dict[str, Any] = {}

    def validator(self, name: str):
        if name not in self._cache:
            uri = f"/schemas/queue/v1/{name}"
            schema = self.registry.contents(uri)
            self._cache[name] = self._cls(schema, registry=self.registry,
                                          format_checker=self._cls.FORMAT_CHECKER)
        return self._cache[name]

    def check(self, name: str, instance: Any) -> None:
        errors = sorted(self.validator(name).iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, f"{name}: " + "; ".join(
            f"{list(e.path)}: {e.message}" for e in errors[:5])

    def check_message(self, message) -> None:
        from tutorial_kit.api import EXCHANGES_BY_NAME
        self.check(EXCHANGES_BY_NAME[message.name].schema, message.payload)
