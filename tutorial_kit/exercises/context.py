"""What a check can see: the queue, and on the mock the request log since the exercise appeared.

Two rules keep a check fair to the learner:

* it judges the **latest attempt** (:meth:`Context.attempt`): the task the learner names, else the
  newest task they created, so an earlier wrong attempt never poisons a later right one;
* the check's **own** calls never count as the learner's: :meth:`Context.checking` brackets every
  check, and :meth:`Context.requests` leaves out the log entries made inside a bracket (the
  kernel runs one cell at a time, so nothing of the learner's lands there).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from tutorial_kit.api import SLUGID_PATTERN
from tutorial_kit.mockctl import MockControl

from .base import unattempted

#: Why a check cannot find the learner's attempt by itself (a real deployment, or a classroom
#: whose request log only the teacher may read).
NO_LOG = ("this queue does not show you its request log (a real deployment, or a classroom's "
          "shared queue), so the check cannot find your attempt")

_TASK_IN_ROUTE = re.compile(r"/task/(" + SLUGID_PATTERN.strip("^$") + r")(?:/|$)")


def task_in_route(route: str) -> str | None:
    """The taskId a route names (``/api/queue/v1/task/<taskId>/...``), or None."""
    match = _TASK_IN_ROUTE.search(route or "")
    return match.group(1) if match else None


class Recorder:
    """The learner's own client, observed: the taskIds it created and the Queue errors it
    raised, in order. Where the request log is closed (a real deployment, a classroom), this is
    how a check still finds the latest attempt made with the ``queue`` the exercise was given.
    """

    WATCHED = ("createTask", "task", "status", "reportFailed")

    def __init__(self) -> None:
        self.created: list[str] = []
        self.errors: list[Any] = []  # TaskclusterError objects, oldest first
        self.reads: list[tuple[str, str]] = []  # (taskId, state) of each status read
        self.reported: list[str] = []  # taskIds this client itself reported failed
        self.paused = 0  # > 0 while a check runs: its own calls are not the learner's

    def wrap(self, queue: Any) -> bool:
        """Observe ``queue``'s calls (its behaviour is unchanged); False if it cannot be."""
        from tutorial_kit.client.errors import TaskclusterError

        wrapped = False
        for name in self.WATCHED:
            original = getattr(queue, name, None)
            if original is None or inspect.iscoroutinefunction(original):
                continue  # an AsyncQueue: its attempts are found by taskId only

            @functools.wraps(original)
            def observed(*args: Any, _original: Any = original, _name: str = name,
                         **kwargs: Any) -> Any:
                if self.paused:
                    return _original(*args, **kwargs)
                try:
                    result = _original(*args, **kwargs)
                except TaskclusterError as error:
                    self.errors.append(error)
                    raise
                if _name == "createTask" and args:
                    self.created.append(str(args[0]))
                elif _name == "status" and args and isinstance(result, dict):
                    self.reads.append((str(args[0]), str(result.get("status", {}).get("state"))))
                elif _name == "reportFailed" and args:
                    self.reported.append(str(args[0]))
                return result

            try:
                setattr(queue, name, observed)
            except AttributeError:
                return False
            wrapped = True
        return wrapped


_RECORDERS: "weakref.WeakKeyDictionary[Any, Recorder]" = weakref.WeakKeyDictionary()


def recorder_for(queue: Any) -> Recorder | None:
    """The one recorder of this client (made, and the client observed, on first use)."""
    try:
        found = _RECORDERS.get(queue)
    except TypeError:  # not weak-referenceable
        return None
    if found is None:
        found = Recorder()
        if not found.wrap(queue):
            return None
        _RECORDERS[queue] = found
    return found


@dataclass
class Context:
    """What one exercise's check sees: the learner's ``queue`` and, on the mock, its control
    plane (``control``, None elsewhere) with the request log from ``since`` on."""

    queue: Any
    control: MockControl | None
    since: int = 0  # request-log sequence number when the exercise was shown
    notes: dict = field(default_factory=dict)
    #: (after, upto] request-log ranges made by the check itself, never the learner's
    own: list[tuple[int, int]] = field(default_factory=list)
    #: (request-log seq when the cell ended, url path) of API errors a cell left uncaught
    uncaught: list[tuple[int, str]] = field(default_factory=list)
    #: the request-log seq when the check now running began (None between checks)
    open_since: int | None = None
    #: True once the mock's log (a ring) dropped entries this exercise had not read yet
    log_gap: bool = False
    _records: list[dict] = field(default_factory=list, repr=False)
    #: where the request log is closed: the learner's client, observed, and where its
    #: records stood when the exercise appeared
    recorder: Recorder | None = None
    created_since: int = 0
    errors_since: int = 0
    reads_since: int = 0
    #: Queue errors a notebook cell left uncaught (where the request log is closed)
    uncaught_errors: list[Any] = field(default_factory=list, repr=False)

    @classmethod
    def for_queue(cls, queue: Any) -> "Context":
        control = MockControl(queue)
        if not control.is_mock():
            recorder = recorder_for(queue)
            return cls(queue, None, recorder=recorder,
                       created_since=len(recorder.created) if recorder else 0,
                       errors_since=len(recorder.errors) if recorder else 0,
                       reads_since=len(recorder.reads) if recorder else 0)
        return cls(queue, control, control.last_seq())

    @property
    def on_mock(self) -> bool:
        return self.control is not None

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        """Bracket a check, so its own calls (``status``, downloads...) are not the learner's."""
        if self.control is None:
            if self.recorder is None:
                yield
                return
            self.recorder.paused += 1
            try:
                yield
            finally:
                self.recorder.paused -= 1
            return
        start = self.control.last_seq()
        self.open_since = start
        try:
            yield
        finally:
            self.open_since = None
            self.own.append((start, self.control.last_seq()))

    def _is_own(self, seq: int) -> bool:
        if self.open_since is not None and seq > self.open_since:
            return True  # made by the check that is running now
        return any(after < seq <= upto for after, upto in self.own)

    def requests(self, method: str | None = None, status: int | None = None) -> list[dict]:
        """The learner's request-log entries since the exercise appeared (mock only), oldest
        first; the check's own calls are left out."""
        if self.control is None:
            return []
        log = [r for r in self._log() if not self._is_own(r["seq"])]
        return [r for r in log if (method is None or r["method"] == method)
                and (status is None or r["status"] == status)]

    def _log(self) -> list[dict]:
        """Every request-log entry since the exercise appeared, fetched incrementally and kept
        here: the mock's log is a ring, and a long session must not lose an early attempt
        between two checks."""
        assert self.control is not None
        fetched = self._records[-1]["seq"] if self._records else self.since
        fresh = [r for r in self.control.requests(since=fetched) if r["seq"] > fetched]
        if fresh and fresh[0]["seq"] > fetched + 1:
            self.log_gap = True  # the ring dropped entries before we read them
        self._records += fresh
        return self._records

    def task_ids(self, method: str = "createTask", status: int | None = 200) -> list[str]:
        """Task ids named by the learner's successful calls of ``method``, oldest first."""
        ids: list[str] = []
        for record in self.requests(method, status):
            task_id = task_in_route(record.get("route", ""))
            if task_id and task_id not in ids:
                ids.append(task_id)
        return ids

    def candidates(self, given: tuple) -> list[str]:
        """The learner's tasks, newest first: the ones they name, else those they created."""
        if given:
            return [str(g) for g in reversed(given)]
        if self.control is None:
            created = self.recorder.created[self.created_since:] if self.recorder else []
            if created:
                return list(reversed(created))
            raise unattempted("no task created with `queue` since this exercise appeared ("
                              + NO_LOG + " made another way): pass your task's taskId, e.g. "
                              "exercise.check(task_id)")
        ids = self.task_ids()
        if not ids and self.log_gap:
            raise unattempted("the mock's request log no longer holds your calls (it keeps the "
                              "latest ones only): pass your task's taskId, e.g. "
                              "exercise.check(task_id)")
        if not ids:
            raise unattempted("no task created since this exercise appeared")
        return list(reversed(ids))

    def attempt(self, given: tuple) -> str:
        """The latest attempt: the last taskId the learner names, else the newest task they
        created since the exercise appeared."""
        return self.candidates(given)[0]

    def recorded_reads(self, task_id: str) -> list[str] | None:
        """The states the learner's ``queue`` saw in its ``status`` reads of a task since the
        exercise appeared, oldest first; None when the client is not observed."""
        if self.recorder is None:
            return None
        return [state for tid, state in self.recorder.reads[self.reads_since:] if tid == task_id]

    def recorded_errors(self) -> list[Any]:
        """Queue errors the learner's ``queue`` raised since the exercise appeared (where the
        request log is closed)."""
        return self.recorder.errors[self.errors_since:] if self.recorder else []

    # -- errors the learner left uncaught (IPython only) -----------------------------------
    def watch_uncaught(self, slot: str) -> bool:
        """Note every Queue error a notebook cell leaves uncaught, from now on.

        Uses IPython's ``post_run_cell`` event; returns False (and notes nothing) outside
        IPython. One watcher per ``slot`` (an exercise): showing the exercise again replaces
        its previous watcher.
        """
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
        if shell is None:
            return False
        from tutorial_kit.client.errors import TaskclusterError

        def after_cell(result: Any) -> None:
            error = getattr(result, "error_in_exec", None)
            if not isinstance(error, TaskclusterError):
                return
            self.uncaught_errors.append(error)
            if self.control is not None:
                path = unquote(urlsplit(error.url or "").path)
                self.uncaught.append((self.control.last_seq(), path))

        previous = _WATCHERS.pop((id(shell), slot), None)
        if previous is not None:
            with contextlib.suppress(ValueError):
                shell.events.unregister("post_run_cell", previous)
        shell.events.register("post_run_cell", after_cell)
        _WATCHERS[(id(shell), slot)] = after_cell
        return True

    def left_uncaught(self, record: dict) -> bool:
        """Did the cell that made this request end with its error uncaught?"""
        route = unquote(record.get("route", ""))
        return any(record["seq"] <= upto and route == path for upto, path in self.uncaught)

    def error_left_uncaught(self, error: Any) -> bool:
        """Did a cell end with this very error uncaught?"""
        return any(seen is error for seen in self.uncaught_errors)


_WATCHERS: dict[tuple[int, str], Any] = {}


BUILTIN_QUEUES = ("built-in/succeed", "built-in/fail")
EMPTY_PAYLOAD_HINT = ("the built-in workers accept only an empty payload: create the task with "
                      "`payload={}` (e.g. tk.lessons.tutorial_task(task_queue=..., payload={}))")


def run_outcome(run: dict) -> str:
    """A run's state in words: ``pending``, ``failed``, ``exception (malformed-payload)``."""
    reason = run.get("reasonResolved")
    state = run.get("state", "absent")
    return state if reason in (None, state) else f"{state} ({reason})"


def payload_hint(task_queue: str, run: dict) -> str | None:
    """The hint for a built-in task refused for its payload (the real service checks it)."""
    if task_queue in BUILTIN_QUEUES and run.get("reasonResolved") == "malformed-payload":
        return EMPTY_PAYLOAD_HINT
    return None


def log_time(record: dict) -> Any:
    """When a request-log entry arrived, as an aware datetime on the mock's clock."""
    from tutorial_kit.dates import parse_date

    return parse_date(record["time"])
