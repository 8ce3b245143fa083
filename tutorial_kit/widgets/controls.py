"""ClusterControls (mock queue only): the simulated cluster's clock and fault buttons.

Bound to the mock's control plane: ``/mock/v1/clock`` (pause, resume, advance, speed) and
``/mock/v1/faults`` (crash the worker of a task, fail the next requests, clear). On a real
deployment it shows a note instead: nobody can pause a real cluster's time.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx
import ipywidgets as W
import traitlets

from tutorial_kit.mockctl import MockControl, MockOnlyError, root_url_of
from tutorial_kit.render import html as H
from tutorial_kit.vocabulary import CRASH_MODES

from ._client import describe_error
from ._refresh import Refresher

SPEEDS = (("×1 (real time)", 1.0), ("×10", 10.0), ("×60 (a minute a second)", 60.0),
          ("×600", 600.0))


class ClusterControls(W.VBox):
    """Clock and fault controls for the mock queue at ``root_url`` (or the client's)."""

    clock = traitlets.Dict()  # {"now", "paused", "speed"} as the mock reports it
    faults = traitlets.Dict()  # the armed faults as the mock describes them
    fired = traitlets.List()  # readable lines for the faults that fired lately, oldest first

    #: Seconds between two reads of the fault list while a fault is armed: a fault fires when
    #: a call or a run meets it, and the list shows that without a click.
    POLL = 1.0

    def __init__(self, queue: Any = None, *, root_url: str | None = None, taskId: str = "",
                 **kwargs: Any):
        self._banner = W.HTML()
        self._clock_view = W.HTML()
        self._faults_view = W.HTML()
        super().__init__(children=[self._banner], **kwargs)
        self.add_class("tk-widget")
        self.root_url = root_url_of(queue, root_url)
        self.control = MockControl(self.root_url)  # the HTTP side of every button
        self.available = self.control.is_mock()
        if not self.available:
            self._banner.value = H.stylesheet() + H.banner(
                f"ClusterControls work only with the tutorial's mock queue; {self.root_url} is "
                "not one (its /mock/v1/clock does not answer). Time and faults of a real "
                "deployment are not yours to change.", kind="note")
            return
        self._version: int | None = None
        self._watch = Refresher(self._poll, self._apoll, name="tutorial-kit fault list")
        self._build(taskId)
        self.refresh()

    # -- public API (the buttons call these) -------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the clock and the armed faults."""
        self._guard(self.control.clock, "clock")
        self._guard(self.control.faults, "faults")

    def stop(self) -> None:
        """Stop watching the fault list (it also stops by itself once no fault is armed)."""
        self._watch.stop()

    def pause(self) -> dict[str, Any]:
        return self._guard(self.control.pause, "clock")

    def resume(self) -> dict[str, Any]:
        return self._guard(self.control.resume, "clock")

    def advance(self, duration: float | str | _dt.timedelta) -> dict[str, Any]:
        """Step the clock forward by seconds or an offset such as ``"21 minutes"`` (resolvers
        run at once: claims expire, deadlines pass)."""
        return self._guard(lambda: self.control.advance(duration), "clock")

    def speed(self, factor: float) -> dict[str, Any]:
        return self._guard(lambda: self.control.speed(factor), "clock")

    def reset_clock(self) -> dict[str, Any]:
        """Back to real time, running at speed 1."""
        return self._guard(self.control.reset_clock, "clock")

    def crash(self, taskId: str, mode: str = "claim-expired", after: float = 0.0) -> dict:
        """Crash the worker running ``taskId`` (now, or ``after`` s into its next run)."""
        if mode not in CRASH_MODES:
            raise ValueError(f"mode must be one of {', '.join(CRASH_MODES)}")
        # /mock/v1/faults (not the cluster's /tasks/<id>/crash): it works with or without the
        # simulated cluster, for any worker that runs the task.
        return self._guard(lambda: self.control.add_fault("crash", taskId=taskId, mode=mode,
                                                          after=after), "faults")

    def fail_next(self, method: str = "*", count: int = 1, status: int = 500) -> dict:
        """Make the next ``count`` calls of ``method`` (an API method name, or ``*``) fail."""
        return self._guard(lambda: self.control.fail_next(method, int(count), int(status)),
                           "faults")

    def clear_faults(self) -> dict[str, Any]:
        return self._guard(self.control.clear_faults, "faults")

    def __repr__(self) -> str:
        if not self.available:
            return "ClusterControls(available=False)"
        return f"ClusterControls(paused={self.clock.get('paused')!r})"

    # -- plumbing ------------------------------------------------------------------------------------

    def _guard(self, action: Any, trait: str) -> dict[str, Any]:
        """Run one control-plane call; show a failure as a banner instead of raising."""
        if not self.available:
            raise MockOnlyError(f"{self.root_url} is not the tutorial's mock queue")
        try:
            answer = action()
            # the armed faults are re-read after any change, so the list is what the mock holds
            state = self.control.faults() if trait == "faults" else answer
        except (MockOnlyError, httpx.HTTPError) as error:
            self._banner.value = H.stylesheet() + H.banner(describe_error(error))
            return {}
        self._banner.value = H.stylesheet()
        setattr(self, trait, state if isinstance(state, dict) else {})
        if trait == "faults":
            self._read_fired()
            if self._armed():
                self._watch.start()
        self._render()
        return answer if isinstance(answer, dict) else {}

    def _armed(self) -> list[dict[str, Any]]:
        return [f for group in (self.faults or {}).values() if isinstance(group, list)
                for f in group]

    def _read_fired(self) -> bool:
        """Read what fired lately; True when the mock's faults changed since the last read."""
        answer = self.control.fired_faults()
        self.fired = list(answer.get("fired") or [])
        moved = answer.get("version") != self._version
        self._version = answer.get("version")
        return moved

    def _poll(self) -> float | None:
        """One look at the fault list: redraw when it changed; stop once nothing is armed."""
        try:
            if self._read_fired():
                self.faults = self.control.faults()
                self._render()
        except (MockOnlyError, httpx.HTTPError) as error:
            self._banner.value = H.stylesheet() + H.banner(describe_error(error))
            return None
        return self.POLL if self._armed() else None

    async def _apoll(self) -> float | None:
        # the control plane's client is synchronous: its reads wait in a thread, the traits are
        # assigned here on the kernel's loop
        try:
            answer = await asyncio.to_thread(self.control.fired_faults)
            if answer.get("version") != self._version:
                self.faults = await asyncio.to_thread(self.control.faults)
            self.fired = list(answer.get("fired") or [])
            self._version = answer.get("version")
        except (MockOnlyError, httpx.HTTPError) as error:
            self._banner.value = H.stylesheet() + H.banner(describe_error(error))
            return None
        self._render()
        return self.POLL if self._armed() else None

    # -- the controls ---------------------------------------------------------------------------------

    def _build(self, taskId: str) -> None:
        def button(label: str, icon: str, action: Any, tooltip: str) -> W.Button:
            b = W.Button(description=label, icon=icon, tooltip=tooltip)
            b.on_click(lambda _b: action())
            return b

        step = W.BoundedFloatText(value=60.0, min=0.0, max=86400.0, description="seconds",
                                  layout=W.Layout(width="14em"))
        speed = W.Dropdown(options=SPEEDS, value=1.0, description="speed",
                           layout=W.Layout(width="18em"))
        speed.observe(lambda c: self.speed(c["new"]), names="value")
        clock_row = W.HBox([
            button("pause", "pause", self.pause, "stop the mock's clock"),
            button("resume", "play", self.resume, "let the mock's clock run again"),
            button("real time", "clock-o", self.reset_clock, "back to the real time, speed 1"),
            step, button("step", "forward", lambda: self.advance(step.value),
                         "move the clock forward by this many seconds"),
            speed])
        task = W.Text(value=taskId, description="taskId", placeholder="task to crash")
        mode = W.Dropdown(options=CRASH_MODES, value="claim-expired", description="as")
        method = W.Text(value="*", description="method", layout=W.Layout(width="16em"))
        count = W.BoundedIntText(value=1, min=1, max=100, description="count",
                                 layout=W.Layout(width="10em"))
        crash_row = W.HBox([task, mode, button(
            "crash worker", "bolt", lambda: self.crash(task.value, mode.value),
            "the worker running this task stops (its run is retried)")])
        fail_row = W.HBox([method, count, button(
            "fail next", "exclamation-triangle",
            lambda: self.fail_next(method.value, count.value),
            "the next calls answer 500, so clients retry"),
            button("clear faults", "eraser", self.clear_faults, "disarm every fault")])
        self.children = [self._banner, W.HTML("<b>Clock</b>"), self._clock_view, clock_row,
                         W.HTML("<b>Faults</b>"), crash_row, fail_row, self._faults_view]

    def _render(self) -> None:
        clock = self.clock
        if clock:
            paused = "⏸ paused" if clock.get("paused") else "▶ running"
            self._clock_view.value = (
                f'<div class="tk-widget">now <code>{H.esc(clock.get("now"))}</code> · '
                f'{paused} · speed ×{H.esc(clock.get("speed"))}</div>')
        # each armed fault comes with its sentence (``description``) from the control plane
        faults = self.faults or {}
        lines = [str(f.get("description", f.get("id")))
                 for f in [*faults.get("requests", []), *faults.get("tasks", [])]]
        armed = ('<div class="tk-muted">no faults armed</div>' if not lines else
                 H.table(["armed fault"], [[H.esc(line)] for line in lines]))
        fired = ("" if not self.fired else
                 H.table(["fired lately"], [[H.esc(line)] for line in self.fired[-5:]]))
        self._faults_view.value = armed + fired
