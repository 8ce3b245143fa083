"""Pulse exchanges, routing keys and the in-process bus.

The mock does not run RabbitMQ; it keeps the messages the real queue would publish on an
in-process :class:`Bus` that the control API streams (SSE/long-poll) and tests subscribe to.
Routing keys are built exactly as the real queue builds them, so a learner's bindings
(``primary.<taskId>.#``, ``route.<route>``) mean the same thing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tutorial_kit.api import EXCHANGE_PREFIX, EXCHANGES_BY_NAME

#: Task exchanges whose payload carries ``task: {tags}``.
EXCHANGES_WITH_TASK = frozenset({
    "task-defined", "task-pending", "task-running", "task-completed", "task-failed",
    "task-exception",
})


@dataclass
class Message:
    """One published Pulse message."""

    exchange: str  # full name, e.g. exchange/taskcluster-queue/v1/task-pending
    routing_key: str
    payload: dict[str, Any]
    cc: list[str] = field(default_factory=list)
    seq: int = 0  # assigned by the bus, 1, 2, ...

    @property
    def name(self) -> str:
        """The short exchange name (``task-pending``)."""
        return self.exchange.rsplit("/", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "exchange": self.exchange, "routingKey": self.routing_key,
                "cc": list(self.cc), "payload": self.payload}


def full_exchange(name: str) -> str:
    """``task-pending`` -> ``exchange/taskcluster-queue/v1/task-pending``."""
    if name.startswith(EXCHANGE_PREFIX):
        return name
    if name not in EXCHANGES_BY_NAME:
        raise ValueError(f"unknown queue exchange {name!r}")
    return EXCHANGE_PREFIX + name


def _word(value: Any) -> str:
    # Missing words are '_' so a binding like primary.*.*.*.* still lines up.
    if value is None or value == "":
        return "_"
    return str(value)


def task_routing_key(status: dict[str, Any], *, runId: int | None = None,
                     workerGroup: str | None = None, workerId: str | None = None) -> str:
    """The 10-word key of the task exchanges.

    ``runId``/``workerGroup``/``workerId`` come from the message, not from the status.
    """
    words = ["primary", status["taskId"], runId, workerGroup, workerId,
             status["provisionerId"], status["workerType"], status["schedulerId"],
             status["taskGroupId"], None]
    return ".".join(_word(w) for w in words)


def group_routing_key(taskGroupId: str, schedulerId: str) -> str:
    """The 4-word key of the task-group exchanges."""
    return ".".join(["primary", _word(taskGroupId), _word(schedulerId), "_"])


def route_ccs(routes: Iterable[str]) -> list[str]:
    """Every ``task.routes`` entry becomes a CC routing key ``route.<route>``."""
    return [f"route.{r}" for r in routes]


def task_message(exchange: str, status: dict[str, Any], task: dict[str, Any], *,
                 runId: int | None = None, workerGroup: str | None = None,
                 workerId: str | None = None, extra: dict[str, Any] | None = None) -> Message:
    """A task-exchange message: routing key (+ CCs from ``task.routes``) and payload."""
    full = full_exchange(exchange)
    short = full.rsplit("/", 1)[-1]
    payload: dict[str, Any] = {"version": 1, "status": status}
    if runId is not None:
        payload["runId"] = runId
    if workerGroup is not None:
        payload["workerGroup"] = workerGroup
    if workerId is not None:
        payload["workerId"] = workerId
    payload.update(extra or {})
    if short in EXCHANGES_WITH_TASK:
        payload["task"] = {"tags": dict(task.get("tags") or {})}
    key = task_routing_key(status, runId=runId, workerGroup=workerGroup, workerId=workerId)
    return Message(full, key, payload, route_ccs(task.get("routes") or []))


def group_message(exchange: str, taskGroupId: str, schedulerId: str,
                  fields: dict[str, Any]) -> Message:
    """A task-group-exchange message (4-word routing key, no CCs)."""
    payload = {"version": 1, **fields}
    return Message(full_exchange(exchange), group_routing_key(taskGroupId, schedulerId),
                   payload, [])


Subscriber = Callable[[Message], Any]


class Bus:
    """Thread-safe publish/subscribe with a bounded history.

    ``wait`` lets an SSE or long-poll endpoint block until messages newer than a sequence
    number arrive.
    """

    def __init__(self, maxlen: int = 10000) -> None:
        self._lock = threading.Condition(threading.RLock())
        self._history: deque[Message] = deque(maxlen=maxlen)
        self._seq = 0
        self._subscribers: list[Subscriber] = []

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def publish(self, messages: Iterable[Message] | Message) -> list[Message]:
        """Append messages in order, assign their ``seq`` and call subscribers."""
        if isinstance(messages, Message):
            messages = [messages]
        published = []
        with self._lock:
            for message in messages:
                self._seq += 1
                message.seq = self._seq
                self._history.append(message)
                published.append(message)
            subscribers = list(self._subscribers)
            self._lock.notify_all()
        for message in published:
            for callback in subscribers:
                try:
                    callback(message)
                except Exception:  # one faulty subscriber must not stop the others
                    pass
        return published

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(message)`` for every later message; returns the unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def history(self, since_seq: int = 0) -> list[Message]:
        """Messages with ``seq > since_seq`` still held (the ring keeps the newest)."""
        with self._lock:
            return [m for m in self._history if m.seq > since_seq]

    def wait(self, since_seq: int, timeout: float) -> list[Message]:
        """Block until a message newer than ``since_seq`` exists or ``timeout`` s pass."""
        with self._lock:
            self._lock.wait_for(lambda: self._seq > since_seq, timeout=max(0.0, timeout))
            return [m for m in self._history if m.seq > since_seq]

    def clear(self) -> None:
        """Forget the history (sequence numbers keep growing, so waiters stay consistent)."""
        with self._lock:
            self._history.clear()
