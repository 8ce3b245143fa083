"""Background refresh for live widgets: an asyncio task in a kernel, a daemon thread elsewhere.

A widget gives a *step* (sync and async flavours of the same work) that updates its traits and
returns the delay before the next step, or ``None`` when there is nothing more to follow. The
step never prints or displays: it only assigns trait values, which ipywidgets forwards to the
front end. ipykernel always runs an event loop, so in a notebook the refresh is an asyncio task
and the kernel stays free for other cells.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from tutorial_kit.drive import AsyncInLoopError

Step = Callable[[], "float | None"]
AsyncStep = Callable[[], Awaitable["float | None"]]


class Refresher:
    """Runs a widget's step repeatedly until it returns ``None`` or :meth:`stop` is called."""

    def __init__(self, step: Step, astep: AsyncStep, *, name: str = "tutorial-kit refresh"):
        self._step = step
        self._astep = astep
        self._name = name
        self._done = threading.Event()
        self._done.set()
        self._stop = threading.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0  # a cancelled task finishing late must not mark a newer run done
        self.mode: str | None = None  # "asyncio" or "thread" once started
        self.last_error: BaseException | None = None

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def start(self, mode: str = "auto") -> None:
        """Start following (no-op when already running). ``mode``: auto, asyncio or thread."""
        if self.running:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if mode == "asyncio" and loop is None:
            raise RuntimeError("mode='asyncio' needs a running event loop")
        self._done.clear()
        self._stop.clear()
        self._generation += 1
        if loop is not None and mode in ("auto", "asyncio"):
            self.mode, self._loop = "asyncio", loop
            self._task = loop.create_task(self._run_async(self._generation), name=self._name)
            # A task cancelled before its first step never runs its ``finally``: mark it done here.
            self._task.add_done_callback(
                lambda _task, generation=self._generation: self._finished(generation))
        else:
            self.mode, self._loop = "thread", None
            self._thread = threading.Thread(target=self._run_thread, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop following; safe from any thread, and when already stopped."""
        self._stop.set()
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not task.done():
            if _in_loop_thread(loop):
                task.cancel()
            else:
                loop.call_soon_threadsafe(task.cancel)
        elif task is None and self.mode != "thread":
            self._done.set()

    def wait(self, timeout: float) -> bool:
        """Block until following ends or ``timeout`` seconds pass; True if it ended.

        In a kernel the refresh is a task on the very loop this call would block, so here the
        steps run in the caller instead (updates still reach the front end as they happen).
        """
        if not self.running:
            return True
        if self.mode == "asyncio" and self._loop is not None and _in_loop_thread(self._loop):
            if self._task is not None:
                self._task.cancel()
            self._task = None
            self._generation += 1
            return self._run_inline(timeout)
        return self._done.wait(timeout)

    async def until_done(self, timeout: float | None = None) -> bool:
        """Await the end of following; True if it ended within ``timeout``."""
        if not self.running:
            return True
        if self.mode == "asyncio" and self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except asyncio.TimeoutError:
                return False
            except asyncio.CancelledError:
                if not self._done.is_set():
                    raise
            return True
        return await asyncio.to_thread(self._done.wait, timeout)

    # -- the loops -------------------------------------------------------------------------------

    def _finished(self, generation: int) -> None:
        if generation == self._generation:
            self._done.set()

    def _run_inline(self, timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            while not self._stop.is_set():
                delay = self._step()
                if delay is None:
                    self._done.set()
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                time.sleep(min(delay, remaining))
        except BaseException as error:  # a step must never kill the caller's cell silently
            self.last_error = error
            self._done.set()
            raise
        if self._stop.is_set():
            self._done.set()
            return True
        # Timed out: hand following back to the background.
        self._done.set()
        self.start(self.mode or "auto")
        return False

    async def _run_async(self, generation: int) -> None:
        try:
            while not self._stop.is_set():
                delay = await self._astep()
                if delay is None:
                    break
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # never surface from the background: keep it for inspection
            self.last_error = error
        finally:
            if generation == self._generation:
                self._done.set()

    def _run_thread(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self._step()
                if delay is None:
                    break
                self._stop.wait(delay)
        except Exception as error:
            self.last_error = error
        finally:
            self._done.set()


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class Following:
    """``start``/``stop``/``running`` for a widget that fetches once, then follows in the
    background. The widget provides ``_step()`` (one fetch; the delay before the next, or None
    when there is nothing left to follow) and ``_refresher`` (a :class:`Refresher`)."""

    _refresher: Refresher

    def _step(self) -> float | None:
        raise NotImplementedError

    def start(self) -> None:
        """Fetch now, then keep following in the background until there is nothing to follow."""
        try:
            delay = self._step()
        except AsyncInLoopError:  # an AsyncQueue in a running loop: the background fetches first
            delay = 0.0
        if delay is not None:
            self._refresher.start()

    def stop(self) -> None:
        """Stop following (the view keeps its last state)."""
        self._refresher.stop()

    @property
    def running(self) -> bool:
        """True while the background refresh is active."""
        return self._refresher.running
