"""Run Queue calls with a client of either flavour: ``Queue`` (sync) or ``AsyncQueue``.

Code that reads from the Queue (the widgets, ``frames``) writes each read once, as a *plan*: a
generator that yields :class:`Call` s and gets each call's answer back (or its exception thrown
in, so a plan can catch an API error where it happens). Two thin drivers run a plan:

* :func:`run` from synchronous code: a sync client is called directly; an ``AsyncQueue`` is
  driven on a private event loop of this thread, which is only allowed when no loop is running
  here (a kernel always has one: there, use the async driver);
* :func:`arun` from a coroutine: an ``AsyncQueue`` is awaited on the running loop, a sync
  client runs in a worker thread so the loop stays free.

An ``AsyncQueue`` is therefore only ever driven on the loop the caller runs, never handed to a
second loop in another thread (its pooled connections belong to the loop that opened them).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One Queue method call, as a plan asks for it."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, method: str, *args: Any, **kwargs: Any) -> "Call":
        return cls(method, args, kwargs)


#: A plan: yields Calls, receives their answers, returns its result.
Plan = Generator[Call, Any, T]


class AsyncInLoopError(RuntimeError):
    """A blocking call was asked of an AsyncQueue from inside a running event loop."""


def is_async(queue: Any) -> bool:
    """True for a client whose Queue methods are coroutines (``AsyncQueue``)."""
    return inspect.iscoroutinefunction(getattr(queue, "status", None))


_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """A private event loop for this thread, to drive an AsyncQueue from sync code."""
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def call(queue: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a Queue method from synchronous code, whichever client flavour ``queue`` is."""
    result = getattr(queue, method)(*args, **kwargs)
    if inspect.isawaitable(result):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _thread_loop().run_until_complete(result)
        if hasattr(result, "close"):
            result.close()  # never awaited; avoid the "coroutine was never awaited" warning
        raise AsyncInLoopError(
            f"{method}() of an AsyncQueue cannot block the event loop it needs: use the async "
            "form, e.g. `await widget.arefresh()`, `await widget.until_resolved()` or "
            "`await frames.alist_artifacts(queue, taskId)`")
    return result


async def acall(queue: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a Queue method from a coroutine; a sync client runs in a worker thread."""
    fn = getattr(queue, method)
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await asyncio.to_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def run(queue: Any, plan: Plan[T]) -> T:
    """Run a plan from synchronous code (see the module docstring for an ``AsyncQueue``)."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.send(answer) if error is None else plan.throw(error)
        except StopIteration as done:
            return done.value
        answer, error = None, None
        try:
            answer = call(queue, step.method, *step.args, **step.kwargs)
        except AsyncInLoopError:
            plan.close()
            raise
        except Exception as failure:  # handed to the plan, which may catch it
            error = failure


async def arun(queue: Any, plan: Plan[T]) -> T:
    """Run a plan from a coroutine, on the running loop."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.send(answer) if error is None else plan.throw(error)
        except StopIteration as done:
            return done.value
        answer, error = None, None
        try:
            answer = await acall(queue, step.method, *step.args, **step.kwargs)
        except asyncio.CancelledError:
            plan.close()
            raise
        except Exception as failure:
            error = failure


def pages(call_of: Any, key: str, max_pages: int = 10_000) -> Plan[list[Any]]:
    """A plan for every item of a paginated listing; ``call_of(query)`` gives one page's Call.

    A repeated ``continuationToken`` ends the listing (it would loop forever).
    """
    items: list[Any] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page = yield call_of({"continuationToken": token} if token else {})
        items.extend(page.get(key) or [])
        token = page.get("continuationToken")
        if not token or token in seen:
            break
        seen.add(token)
    return items
