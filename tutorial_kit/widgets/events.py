"""EventLog: the Queue's Pulse messages as they arrive, filterable by task or task group.

On the mock queue it follows ``<rootUrl>/mock/v1/events`` (Server-Sent Events, resumed with
``?since=<seq>`` after every reconnect, so nothing is lost). A real deployment publishes on
Pulse (AMQP), which needs its own credentials and client: there, pass the messages yourself
(``messages=`` any iterable or async iterable of ``{exchange, routingKey, payload}``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx
import ipywidgets as W
import traitlets

from tutorial_kit.render import html as H
from . import _sse
from ._client import describe_error, is_mock, root_url_of
from ._refresh import Refresher

SHOWN_ROWS = 200  # the table shows the newest rows; frame() has them all
READ_TIMEOUT = 2.0  # an idle stream is reopened this often, which is when stop() is noticed
REAL_DEPLOYMENT_NOTE = (
    "This deployment is not the tutorial's mock queue: its Pulse messages are delivered by "
    "RabbitMQ (AMQP) and need Pulse credentials and an AMQP client. Pass them in with "
    "EventLog(messages=...) (any iterable of {exchange, routingKey, payload}).")


def record(message: Any, seq: int | None = None,
           received: datetime | None = None) -> dict[str, Any]:
    """One message as a flat record: seq, exchange, routingKey, taskId, taskGroupId, runId,
    state, received, payload. Accepts a dict or an object with ``exchange``/``routing_key``."""
    if isinstance(message, dict):
        exchange = message.get("exchange", "")
        routing_key = message.get("routingKey", message.get("routing_key", ""))
        payload = message.get("payload") or {}
        seq = message.get("seq", seq)
    else:
        exchange = getattr(message, "exchange", "")
        routing_key = getattr(message, "routing_key", getattr(message, "routingKey", ""))
        payload = getattr(message, "payload", {}) or {}
        seq = getattr(message, "seq", seq)
    words = str(routing_key).split(".")
    status = payload.get("status") if isinstance(payload.get("status"), dict) else {}
    if len(words) >= 10:  # task exchanges: primary.taskId.runId.wg.wid.prov.wt.sched.group._
        task_id, run_word, group = words[1], words[2], words[8]
    else:  # task-group exchanges: primary.taskGroupId.schedulerId._
        task_id, run_word, group = None, "_", words[1] if len(words) > 1 else None
    run_id = payload.get("runId")
    if run_id is None and run_word.isdigit():
        run_id = int(run_word)
    return {
        "seq": seq,
        "exchange": str(exchange).rsplit("/", 1)[-1],
        "routingKey": routing_key,
        "taskId": status.get("taskId") or task_id,
        "taskGroupId": status.get("taskGroupId") or payload.get("taskGroupId") or group,
        "runId": run_id,
        "state": status.get("state"),
        "received": received or datetime.now(timezone.utc),
        "payload": payload,
    }


class EventLog(W.VBox):
    """Pulse messages as they arrive; ``frame()`` gives a DataFrame of what was received."""

    messages = traitlets.List()  # every record received, oldest first
    taskId = traitlets.Unicode("")  # filter (empty: all)
    taskGroupId = traitlets.Unicode("")

    def __init__(self, queue: Any = None, *, root_url: str | None = None,
                 messages: Any = None, taskId: str = "", taskGroupId: str = "",
                 since: int = 0, idle_timeout: float | None = 600.0, start: bool = True,
                 **kwargs: Any):
        self._banner = W.HTML()
        self._task_filter = W.Text(value=taskId, description="taskId", placeholder="any task")
        self._group_filter = W.Text(value=taskGroupId, description="taskGroupId",
                                    placeholder="any task group")
        self._table = W.HTML()
        super().__init__(children=[self._banner, W.HBox([self._task_filter, self._group_filter]),
                                   self._table], **kwargs)
        self.add_class("tk-widget")
        self.taskId, self.taskGroupId = taskId, taskGroupId
        W.link((self._task_filter, "value"), (self, "taskId"))
        W.link((self._group_filter, "value"), (self, "taskGroupId"))
        self.last_seq = int(since)
        # Stop following a silent stream after this long, so a forgotten log does not hold a
        # connection (or a notebook run) forever; start() follows again.
        self.idle_timeout = idle_timeout
        self._last_activity = time.monotonic()
        self._lock = threading.Lock()
        self._source = messages
        self._consumer: threading.Thread | None = None
        self._stop = threading.Event()
        self._refresher = Refresher(self._step, self._astep, name="EventLog")
        self.root_url = ""
        self.following_mock = False
        if messages is None:
            try:
                self.root_url = root_url_of(queue, root_url)
            except ValueError as error:
                self._banner.value = H.stylesheet() + H.banner(str(error))
        self._render()
        if start:
            self.start()

    # -- public API ------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin receiving (mock event stream, or the given ``messages``)."""
        self._stop.clear()
        self._last_activity = time.monotonic()
        if self._source is not None:
            self._start_source()
        elif self.root_url and is_mock(self.root_url):
            self.following_mock = True
            self._refresher.start()
        elif self.root_url:
            self._banner.value = H.stylesheet() + H.banner(REAL_DEPLOYMENT_NOTE, kind="note")

    def stop(self) -> None:
        self._stop.set()
        self._refresher.stop()

    @property
    def running(self) -> bool:
        """True while messages are being received in the background."""
        consumer = self._consumer
        return self._refresher.running or (consumer is not None and consumer.is_alive())

    def add(self, message: Any) -> dict[str, Any]:
        """Record one message (dict or bus message) and redraw; returns its record."""
        rec = record(message)
        self._last_activity = time.monotonic()
        with self._lock:
            if isinstance(rec["seq"], int):
                if rec["seq"] <= self.last_seq and self.following_mock:
                    return rec  # a resumed stream may repeat the last one
                self.last_seq = max(self.last_seq, rec["seq"])
            self.messages = [*self.messages, rec]
        self._render()
        return rec

    def matching(self) -> list[dict[str, Any]]:
        """The records that pass the taskId / taskGroupId filters."""
        return [m for m in self.messages
                if (not self.taskId or m["taskId"] == self.taskId)
                and (not self.taskGroupId or m["taskGroupId"] == self.taskGroupId)]

    def frame(self, *, filtered: bool = True):
        """What was received as a DataFrame (``filtered=False`` ignores the filters)."""
        import pandas as pd

        rows = self.matching() if filtered else list(self.messages)
        columns = ["seq", "exchange", "routingKey", "taskId", "taskGroupId", "runId", "state",
                   "received"]
        frame = pd.DataFrame({
            "seq": pd.Series([r["seq"] for r in rows], dtype="Int64"),
            "exchange": pd.Series([r["exchange"] for r in rows], dtype="string"),
            "routingKey": pd.Series([r["routingKey"] for r in rows], dtype="string"),
            "taskId": pd.Series([r["taskId"] for r in rows], dtype="string"),
            "taskGroupId": pd.Series([r["taskGroupId"] for r in rows], dtype="string"),
            "runId": pd.Series([r["runId"] for r in rows], dtype="Int64"),
            "state": pd.Series([r["state"] for r in rows], dtype="string"),
            "received": pd.to_datetime(pd.Series([r["received"] for r in rows], dtype="object"),
                                       utc=True),
        })
        return frame[columns]

    async def until_received(self, exchange: str, *, timeout: float = 30.0):
        """Wait, without blocking the kernel, until a message from ``exchange`` (short name, e.g.
        ``task-completed``) that passes the filters has arrived; return :meth:`frame`.

        Messages reach the log a moment after the queue publishes them, so a cell that reads the
        log right after a task resolved awaits this first to see the same rows every time.
        """
        import asyncio

        give_up = time.monotonic() + timeout
        while not any(m["exchange"] == exchange for m in self.matching()):
            if time.monotonic() > give_up:
                raise TimeoutError(f"no {exchange} message arrived within {timeout:g} s")
            await asyncio.sleep(0.05)
        return self.frame()

    def __repr__(self) -> str:
        return f"EventLog(messages={len(self.messages)}, shown={len(self.matching())})"

    # -- sources ----------------------------------------------------------------------------------

    def _start_source(self) -> None:
        source, self._source = self._source, None  # a source is consumed once
        if isinstance(source, (list, tuple)):
            for message in source:
                self.add(message)
            return
        if hasattr(source, "__aiter__"):
            asyncio.get_running_loop().create_task(self._consume_async(source))
            return
        if not isinstance(source, Iterable):
            raise TypeError("messages= takes an iterable or async iterable of messages")
        self._consumer = threading.Thread(target=self._consume_sync, args=(source,),
                                          daemon=True, name="EventLog messages")
        self._consumer.start()

    def _consume_sync(self, source: Iterable[Any]) -> None:
        try:
            for message in source:
                if self._stop.is_set():
                    break
                self.add(message)
        except Exception as error:  # shown, never raised from the background
            self._banner.value = H.stylesheet() + H.banner(describe_error(error))

    async def _consume_async(self, source: Any) -> None:
        try:
            async for message in source:
                if self._stop.is_set():
                    break
                self.add(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._banner.value = H.stylesheet() + H.banner(describe_error(error))

    def _on_stream(self, message: dict[str, Any]) -> None:
        self.add(message)

    def _after(self, outcome: str) -> float | None:
        self._banner.value = ""
        if outcome == "stopped":
            return None
        if outcome == "idle":
            return self._after_idle()  # reopen from last_seq
        return 0.5  # the server closed the stream: reconnect

    def _failed(self, error: BaseException) -> float:
        self._banner.value = H.stylesheet() + H.banner(f"{describe_error(error)} — retrying")
        return 2.0

    def _step(self) -> float | None:
        try:
            outcome = _sse.follow(_sse.events_url(self.root_url, self.last_seq), self._on_stream,
                                  read_timeout=READ_TIMEOUT, should_stop=self._stop.is_set)
        except httpx.HTTPError as error:
            return self._failed(error)
        return self._after(outcome)

    async def _astep(self) -> float | None:
        try:
            outcome = await _sse.afollow(_sse.events_url(self.root_url, self.last_seq),
                                         self._on_stream, read_timeout=READ_TIMEOUT)
        except httpx.HTTPError as error:
            return self._failed(error)
        return self._after(outcome)

    def _after_idle(self) -> float | None:
        idle = time.monotonic() - self._last_activity
        if self.idle_timeout is not None and idle >= self.idle_timeout:
            self._banner.value = H.stylesheet() + H.banner(
                f"stopped following after {self.idle_timeout:g} s without a message; "
                "call .start() to follow again", kind="note")
            return None
        return 0.0

    # -- rendering --------------------------------------------------------------------------------

    @traitlets.observe("taskId", "taskGroupId")
    def _on_filter(self, change: dict[str, Any]) -> None:
        if hasattr(self, "_table"):
            self._render()

    def _render(self) -> None:
        rows = self.matching()
        shown = rows[-SHOWN_ROWS:]
        cells = [[H.esc(r["seq"]), H.esc(r["exchange"]),
                  f'<code class="tk-mono">{H.esc(r["routingKey"])}</code>',
                  H.badge(r["state"]) if r["state"] else "", H.esc(r["runId"]),
                  H.esc(r["received"].strftime("%H:%M:%S.%f")[:-3])] for r in shown]
        note = (f'<div class="tk-muted">{len(rows)} of {len(self.messages)} messages match'
                f'{"; newest " + str(SHOWN_ROWS) + " shown" if len(rows) > SHOWN_ROWS else ""}'
                f'</div>')
        self._table.value = H.stylesheet() + note + H.table(
            ["seq", "exchange", "routing key", "state", "runId", "received"], cells)
