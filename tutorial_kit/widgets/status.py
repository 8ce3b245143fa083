"""StatusWidget: the task status structure, live.

It polls ``queue.status(taskId)`` (every 2 s, as the tutorial does) in the background and shows
a state badge, the task's name and description, a runs table, a timeline of the runs, and the
raw JSON exactly as returned. On the mock queue, in a kernel (asyncio), it follows the event
stream instead (``follow="auto"``): each message about the task triggers one fetch, and a quiet
stream still gets a fetch every ``5 * interval`` seconds.

When to stop: a resolved task can still get a new run (``rerunTask``) until its deadline. By
default (``stop_when_resolved=True``) the widget stops at resolution, because a notebook cell
must not keep working after the task it watches is done (nbval, and a learner's attention);
call :meth:`StatusWidget.start` again after a rerun. With ``stop_when_resolved=False`` it keeps a
slow poll (``resolved_interval``) until the deadline, after which no run can be added.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx
import ipywidgets as W
import traitlets

from tutorial_kit import drive
from tutorial_kit.drive import Call, Plan
from tutorial_kit.inspector import inspector_link
from tutorial_kit.render import html as H
from tutorial_kit.render import timeline_svg

from . import _sse
from ._client import describe_error, is_mock, root_url_of
from ._refresh import Following, Refresher

#: What one fetch gives: the status answer, or the error that prevented it.
Fetched = tuple["dict[str, Any] | None", "BaseException | None"]

RUN_HEADERS = ["runId", "state", "reasonCreated", "reasonResolved", "workerGroup/workerId",
               "scheduled", "started", "resolved", "takenUntil", "waited", "ran"]


def _deployment_now() -> datetime:
    """The deployment's time: the mock's clock once connect() has found one (a lesson may pause
    it or move it forward), wall time on a real deployment; the same "now" as fromNow()."""
    from tutorial_kit.client.fromnow import now

    return now()


class StatusWidget(Following, W.VBox):
    """Live view of ``queue.status(taskId)``.

    Traits (observable, e.g. with ``widget.observe``): ``state``, ``status`` (the inner status
    dict), ``error`` (the current connection/API problem, empty when fine).
    """

    state = traitlets.Unicode("")
    status = traitlets.Dict()
    error = traitlets.Unicode("")

    def __init__(self, queue: Any, taskId: str, *, interval: float = 2.0,
                 resolved_interval: float = 30.0, stop_when_resolved: bool = True,
                 follow: str = "auto", start: bool = True,
                 now: Callable[[], datetime] = _deployment_now, tick: float = 1.0, **kwargs: Any):
        if not isinstance(taskId, str) or not taskId:
            raise ValueError("StatusWidget needs a taskId (a 22-character slugid string)")
        if follow not in ("auto", "poll", "events"):
            raise ValueError("follow must be 'auto', 'poll' or 'events'")
        self.queue = queue
        self.taskId = taskId
        self.interval = float(interval)
        self.resolved_interval = float(resolved_interval)
        self.stop_when_resolved = bool(stop_when_resolved)
        self._now = now
        self.tick = float(tick)  # how often an open run's timeline is redrawn (seconds)
        self._ticker: asyncio.Task | None = None
        self.following = "poll"  # or "events": how the background learns of changes
        self._root_url = ""
        if follow != "poll":
            try:
                self._root_url = root_url_of(queue)
            except (TypeError, ValueError):
                pass
            if self._root_url and (follow == "events" or is_mock(self._root_url)):
                self.following = "events"
        self._event_seq = 0
        self._task_def: dict[str, Any] | None = None
        self._failures = 0
        self._last_response: Any = None
        self._banner = W.HTML()
        self._header = W.HTML()
        self._runs = W.HTML()
        self._timeline = W.HTML()
        self._raw_toggle = W.ToggleButton(value=False, description="raw JSON", icon="code",
                                          tooltip="show the status exactly as the API returned it")
        self._raw = W.HTML(layout=W.Layout(display="none"))
        self._raw_toggle.observe(self._on_toggle, names="value")
        super().__init__(children=[self._banner, self._header, self._runs, self._timeline,
                                   self._raw_toggle, self._raw], **kwargs)
        self.add_class("tk-widget")
        self._header.value = H.stylesheet() + self._header_html()
        self._refresher = Refresher(self._step, self._astep, name=f"StatusWidget {taskId}")
        if start:
            self.start()

    # -- public API ------------------------------------------------------------------------------

    def refresh(self) -> dict[str, Any] | None:
        """Fetch the status once and update the view; returns the status (None on error).

        With an ``AsyncQueue`` inside a running event loop (a kernel), use ``await
        widget.arefresh()``: a blocking call cannot wait for the loop it runs on.
        """
        return self._result(self._apply(drive.run(self.queue, self._fetch())))

    async def arefresh(self) -> dict[str, Any] | None:
        """:meth:`refresh` for a coroutine, with either client flavour."""
        return self._result(self._apply(await drive.arun(self.queue, self._fetch())))

    def update(self, response: dict[str, Any]) -> None:
        """Show a status answer (``{"status": {...}}`` or the inner dict) without fetching."""
        if not isinstance(response, dict):
            raise TypeError(f"update() takes a task status (dict), not {type(response).__name__}")
        self._failures = 0
        if self.error:
            self.error = ""
            self._banner.value = ""
        status = response.get("status") if isinstance(response.get("status"), dict) else response
        changed = status != self.status
        has_open_run = any(r.get("state") in ("pending", "running") for r in status.get("runs", []))
        if changed:
            self._last_response = response
            self.status = status
            self.state = str(status.get("state", ""))
            self._header.value = H.stylesheet() + self._header_html()
            self._runs.value = self._runs_html()
            if self._raw_toggle.value:
                self._raw.value = H.pretty_json(response)
        if changed or has_open_run:  # open runs grow with the clock
            self._draw_timeline()

    def _draw_timeline(self) -> None:
        self._timeline.value = timeline_svg(self.status.get("runs", []), self._now())

    def _has_open_run(self) -> bool:
        return any(r.get("state") in ("pending", "running") for r in self.status.get("runs", []))

    def wait(self, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the task resolves (or ``timeout`` s pass); returns the last status.

        For notebooks under nbval: call this (or ``await widget.until_resolved()``) at the end
        of a cell so that nothing changes after the cell ends. ``result["state"]`` is the state.
        """
        self._refresher.wait(timeout)
        return dict(self.status)

    async def until_resolved(self, timeout: float | None = 60.0) -> dict[str, Any]:
        """Await the end of following (resolution, or the deadline); returns the last status."""
        await self._refresher.until_done(timeout)
        return dict(self.status)

    def frame(self):
        """The runs as a pandas DataFrame (see :func:`tutorial_kit.frames.runs_frame`)."""
        from tutorial_kit.frames import runs_frame

        return runs_frame(self.status)

    def __repr__(self) -> str:
        # Stable for nbval: no taskId, no times.
        return f"StatusWidget(state={self.state!r}, runs={len(self.status.get('runs', []))})"

    # -- refresh steps ------------------------------------------------------------------------------

    def _next_delay(self) -> float | None:
        if self.state not in H.RESOLVED_STATES:
            return self.interval
        if self.stop_when_resolved:
            return None
        deadline = H.parse_time(self.status.get("deadline"))
        if deadline is not None and self._now() >= deadline:
            return None  # after the deadline no rerun is possible: the status is final
        return self.resolved_interval

    def _error_delay(self) -> float:
        # Back off while the deployment is unreachable, but keep trying.
        return min(self.interval * (2 ** min(self._failures, 5)), 30.0)

    # fetch (once, for both client flavours) and apply (shared) ------------------------------------

    def _fetch(self) -> Plan[Fetched]:
        """The reads of one refresh: the status, and the task definition the first time."""
        try:
            response = yield Call.of("status", self.taskId)
        except Exception as error:  # shown as a banner; the caller's cell keeps going
            return None, error
        if self._task_def is None:
            try:
                self._task_def = (yield Call.of("task", self.taskId)) or {}
            except Exception:  # the definition is decoration: a missing scope must not hide
                self._task_def = {}  # the status
        return response, None

    def _apply(self, fetched: Fetched) -> float | None:
        """Show what a fetch got; the delay before the next one (None: nothing to follow)."""
        response, error = fetched
        if error is not None or not isinstance(response, dict):
            self._show_error(error or TypeError(f"status() answered {type(response).__name__}"))
            return self._error_delay()
        self.update(response)
        return self._next_delay()

    def _result(self, delay: float | None) -> dict[str, Any] | None:
        return None if self.error else self.status

    def _step(self) -> float | None:
        return self._apply(drive.run(self.queue, self._fetch()))

    async def _apoll(self) -> float | None:
        self._start_ticker()
        return self._apply(await drive.arun(self.queue, self._fetch()))

    def _start_ticker(self) -> None:
        """While following in a loop, redraw an open run's timeline every ``tick`` seconds: a
        running task sends no message until it resolves, yet its bar and "+…s" label grow."""
        if self.tick > 0 and (self._ticker is None or self._ticker.done()):
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            if not self._refresher.running:
                return
            if self._has_open_run():
                self._draw_timeline()

    async def _astep(self) -> float | None:
        if self.following != "events":
            return await self._apoll()
        if not self.status:
            delay = await self._apoll()
            if delay is None:
                return None
        self._start_ticker()
        try:
            outcome = await _sse.afollow(_sse.events_url(self._root_url, self._event_seq),
                                         self._on_event, read_timeout=5 * self.interval)
        except httpx.HTTPError:
            self.following = "poll"  # no event stream here after all: poll from now on
            return await self._apoll()
        if outcome == "stopped":
            return None
        delay = await self._apoll()  # a quiet stream: look anyway (a reclaim sends no message)
        return None if delay is None else (0.0 if not self.error else delay)

    async def _on_event(self, message: dict[str, Any]) -> bool:
        """One message from the stream; True stops reading (nothing more to follow)."""
        seq = message.get("seq")
        if isinstance(seq, int):
            self._event_seq = max(self._event_seq, seq)
        words = str(message.get("routingKey", "")).split(".")
        if len(words) < 2 or words[1] != self.taskId:
            return False
        # The payload's status can be older than the store (task-defined), so ask the queue.
        return await self._apoll() is None

    def _show_error(self, error: BaseException) -> None:
        self._failures += 1
        message = describe_error(error)
        self.error = message
        self._banner.value = H.banner(
            f"{message} — retrying (attempt {self._failures}, at {time.strftime('%H:%M:%S')})")

    # -- rendering ------------------------------------------------------------------------------------

    def _on_toggle(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._raw.value = H.pretty_json(self._last_response if self._last_response is not None
                                            else {"status": self.status})
            self._raw.layout.display = ""
        else:
            self._raw.layout.display = "none"

    def _header_html(self) -> str:
        metadata = (self._task_def or {}).get("metadata") or {}
        name = metadata.get("name") or "(task)"
        status = self.status
        facts = []
        for key in ("taskQueueId", "priority", "retriesLeft", "deadline"):
            if key in status:
                facts.append(f"{H.esc(key)}: <code>{H.esc(status[key])}</code>")
        state_html = H.badge(self.state) if self.state else H.badge("loading")
        return (f'<div class="tk-widget tk-status">'
                f'<div>{state_html} <span class="tk-title">{H.esc(name)}</span> '
                f'<code class="tk-muted">{H.esc(self.taskId)}</code> '
                f'{inspector_link(self.queue, self.taskId)}</div>'
                f'<div class="tk-desc">{H.markdown(metadata.get("description"))}</div>'
                f'<div class="tk-muted">{" · ".join(facts)}</div></div>')

    def _runs_html(self) -> str:
        runs = self.status.get("runs") or []
        if not runs:
            return '<div class="tk-muted">no runs</div>'
        rows = []
        for run in runs:
            scheduled = H.parse_time(run.get("scheduled"))
            started = H.parse_time(run.get("started"))
            resolved = H.parse_time(run.get("resolved"))
            worker = ""
            if run.get("workerGroup") or run.get("workerId"):
                worker = f"{H.esc(run.get('workerGroup'))}/{H.esc(run.get('workerId'))}"
            rows.append([
                H.esc(run.get("runId")),
                H.badge(run.get("state")),
                H.esc(run.get("reasonCreated")),
                H.esc(run.get("reasonResolved")),
                worker,
                H.esc(run.get("scheduled")),
                H.esc(run.get("started")),
                H.esc(run.get("resolved")),
                H.esc(run.get("takenUntil")),
                H.esc(H.format_duration(started - scheduled) if started and scheduled else ""),
                H.esc(H.format_duration(resolved - started) if resolved and started else ""),
            ])
        return H.table(RUN_HEADERS, rows)
