"""Scenario files: a lesson's (or a test's) faults and clock settings, written down once.

A scenario is a JSON or YAML document::

    name: flaky-queue                # optional, for the learner's eyes
    description: The queue fails twice, then a worker dies.
    replace: true                    # optional (default true): disarm earlier faults first
    clock:                           # optional; any of these keys, applied in this order
      speed: 60                      #   scale time: one real second is a minute
      paused: false                  #   true pauses, false resumes
      advance: 20 minutes            #   jump forward (seconds, or "2 days 3 hours")
    faults:                          # request faults (the HTTP layer applies them)
      - {method: status, count: 2, status: 500}      # the next 2 `status` calls answer 500
      - {method: createTask, count: 1, status: 429}
      - {method: claimWork, latency: 0.5}            # every claimWork waits 0.5 s (count: N to limit)
    tasks:                           # task faults (the cluster's workers apply them)
      - {taskId: fN3V4dFHS_qzJVKX0p7oLw, malformed: true}
      - taskQueueId: tutorial/docker-worker          # the next run on that task queue ...
        crash: {mode: claim-expired, after: 1.5}     # ... loses its worker 1.5 s in
        count: 1
      - taskId: fN3V4dFHS_qzJVKX0p7oLw
        errorArtifact: {name: public/passwd.txt, reason: file-missing-on-worker,
                        message: The file was lost on purpose.}

``method`` is an API method name (``*`` for all). A task rule selects runs by ``taskId`` and/or
``taskQueueId`` and applies to ``count`` runs (default: every matching run; a crash on a taskId
hits one run). Everything is checked before anything is applied, so a bad file changes nothing
and the error says which entry is wrong.

Use it from Python with ``Scenario.load("lesson.yaml").apply(mock.faults, mock.clock)`` or over
HTTP with ``POST /mock/v1/scenario`` (the file as the body).
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from .faults import FaultError, Faults

_TOP_KEYS = {"name", "description", "replace", "clock", "faults", "tasks"}
_CLOCK_KEYS = {"speed", "paused", "advance"}
_FAULT_KEYS = {"method", "count", "status", "latency"}
_TASK_KEYS = {"taskId", "taskQueueId", "count", "malformed", "crash", "errorArtifact"}


class ScenarioClock(Protocol):
    """What a scenario's ``clock`` section drives: the mock's ``model.clock.Clock``."""

    def set_speed(self, factor: float) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def advance(self, delta: timedelta) -> Any: ...

    def state(self) -> dict[str, Any]: ...


class ScenarioError(ValueError):
    """The scenario cannot be applied; the message names the entry and what is wrong."""


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        from tutorial_kit.client.fromnow import parse_offset

        try:
            seconds = parse_offset(value).total_seconds()
        except Exception:
            raise ScenarioError(f"{where}: {value!r} is not a duration (write seconds, or "
                                "e.g. '20 minutes', '2 days 3 hours')") from None
    else:
        raise ScenarioError(f"{where} must be a number of seconds or a duration string")
    if seconds < 0:
        raise ScenarioError(f"{where}: the clock only moves forward")
    return seconds


def _unknown(item: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(item) - allowed)
    if extra:
        raise ScenarioError(f"{where} has unknown key(s) {', '.join(extra)}; "
                            f"allowed: {', '.join(sorted(allowed))}")


@dataclass
class Scenario:
    """A parsed scenario. Build with :meth:`load`, :meth:`loads` or :meth:`from_data`."""

    name: str = ""
    description: str = ""
    replace: bool = True
    clock: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)

    # -- reading -----------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | pathlib.Path) -> "Scenario":
        """Read a scenario file (``.json``, ``.yaml`` or ``.yml``)."""
        path = pathlib.Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ScenarioError(f"cannot read scenario {path}: {error.strerror or error}") from None
        return cls.loads(text)

    @classmethod
    def loads(cls, text: str | bytes) -> "Scenario":
        """Parse a scenario from JSON or YAML text (JSON is tried first)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            import yaml  # here, not at the top: every mock's start would pay ~10 ms for it

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as error:
                raise ScenarioError(f"the scenario is neither JSON nor YAML: {error}") from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> "Scenario":
        if not isinstance(data, dict):
            raise ScenarioError("a scenario must be a mapping (JSON object / YAML mapping)")
        _unknown(data, _TOP_KEYS, "the scenario")
        clock = data.get("clock") or {}
        faults = data.get("faults") or []
        tasks = data.get("tasks") or []
        if not isinstance(clock, dict):
            raise ScenarioError("clock must be a mapping with speed, paused and/or advance")
        _unknown(clock, _CLOCK_KEYS, "clock")
        if not isinstance(faults, list) or not all(isinstance(f, dict) for f in faults):
            raise ScenarioError("faults must be a list of mappings")
        if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
            raise ScenarioError("tasks must be a list of mappings")
        replace = data.get("replace", True)
        if not isinstance(replace, bool):
            raise ScenarioError("replace must be true or false")
        scenario = cls(str(data.get("name") or ""), str(data.get("description") or ""), replace,
                       dict(clock), list(faults), list(tasks))
        scenario._plan(Faults(), None)  # check everything now, on a scratch Faults
        return scenario

    # -- applying ----------------------------------------------------------------------------
    def _plan(self, faults: Faults, clock: ScenarioClock | None) -> list[Callable[[], Any]]:
        """Check every entry and return the actions that apply it (on `faults` and `clock`)."""
        actions: list[Callable[[], Any]] = []
        try:
            if "speed" in self.clock:
                speed = self.clock["speed"]
                if isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed <= 0:
                    raise ScenarioError(f"clock.speed must be a positive number, not {speed!r}")
                actions.append(lambda: clock.set_speed(float(speed)))
            if "paused" in self.clock:
                paused = self.clock["paused"]
                if not isinstance(paused, bool):
                    raise ScenarioError("clock.paused must be true or false")
                actions.append(lambda: clock.pause() if paused else clock.resume())
            if "advance" in self.clock:
                step = _seconds(self.clock["advance"], "clock.advance")
                actions.append(lambda: clock.advance(timedelta(seconds=step)))
            for i, item in enumerate(self.faults):
                actions.extend(self._request_fault(faults, item, f"faults[{i}]"))
            for i, item in enumerate(self.tasks):
                actions.extend(self._task_faults(faults, item, f"tasks[{i}]"))
        except FaultError as error:
            raise ScenarioError(str(error)) from None
        return actions

    @staticmethod
    def _armed(faults: Faults, specs: list[dict[str, Any]], where: str
               ) -> list[Callable[[], Any]]:
        """Check each fault spec on a scratch Faults now; arm it on `faults` later."""
        for spec in specs:
            try:
                Faults().arm(spec)
            except FaultError as error:
                raise ScenarioError(f"{where}: {error}") from None
        return [lambda spec=spec: faults.arm(spec) for spec in specs]

    def _request_fault(self, faults: Faults, item: dict[str, Any], where: str
                       ) -> list[Callable[[], Any]]:
        _unknown(item, _FAULT_KEYS, where)
        if "method" not in item:
            raise ScenarioError(f"{where} needs a method (an API method name, or '*')")
        return self._armed(faults, [item], where)

    def _task_faults(self, faults: Faults, item: dict[str, Any], where: str
                     ) -> list[Callable[[], Any]]:
        _unknown(item, _TASK_KEYS, where)
        if item.get("taskId") is None and item.get("taskQueueId") is None:
            raise ScenarioError(f"{where} needs a taskId or a taskQueueId")
        selector = {k: item[k] for k in ("taskId", "taskQueueId", "count") if k in item}
        specs: list[dict[str, Any]] = []
        if item.get("malformed"):
            specs.append({"kind": "malformed", **selector})
        crash = item.get("crash")
        if crash is not None:
            if isinstance(crash, str):
                crash = {"mode": crash}
            if not isinstance(crash, dict) or set(crash) - {"mode", "after"}:
                raise ScenarioError(f"{where}.crash must be a mode or {{mode, after}}")
            specs.append({"kind": "crash", **crash, **selector})
        artifact = item.get("errorArtifact")
        if artifact is not None:
            if not isinstance(artifact, dict) or "name" not in artifact or \
                    set(artifact) - {"name", "reason", "message"}:
                raise ScenarioError(f"{where}.errorArtifact must be {{name, reason?, message?}}")
            specs.append({"kind": "errorArtifact", **artifact, **selector})
        if not specs:
            raise ScenarioError(f"{where} arms nothing: give malformed, crash or errorArtifact")
        return self._armed(faults, specs, where)

    def apply(self, faults: Faults | None, clock: ScenarioClock | None = None) -> dict[str, Any]:
        """Arm the scenario on a mock queue's `faults`, and set its `clock` (the mock's
        ``clock``; needed only when the scenario has a ``clock`` section).

        Returns what is armed afterwards (``Faults.describe()``) and the clock's state.
        """
        if faults is None:
            raise ScenarioError("this mock queue has no fault injection (no .faults)")
        if self.clock and clock is None:
            raise ScenarioError("the scenario sets the clock, but this target has none")
        actions = self._plan(faults, clock)
        if self.replace:
            faults.clear()
        for action in actions:
            action()
        result: dict[str, Any] = {"name": self.name, "faults": faults.describe()}
        if clock is not None:
            result["clock"] = clock.state()
        return result
