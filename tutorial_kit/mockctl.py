"""A small client for the mock queue's control plane (``<rootUrl>/mock/v1/...``).

Lessons, exercises and the ClusterControls widget use it to move the clock, inject faults and read
the request log. On a real deployment these endpoints do not exist: :func:`is_mock` says so, and
every method raises :class:`MockOnlyError` with a sentence a learner can act on.
"""

from __future__ import annotations

import datetime as _dt
import os
import pathlib
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.client.transport import http_client, shared_client


class MockOnlyError(RuntimeError):
    """A mock-only feature was asked of a real deployment."""


def root_url_of(target: Any = None, root_url: str | None = None) -> str:
    """The rootUrl in use: ``root_url`` if given, else ``target``'s (a rootUrl string, a
    Queue/AsyncQueue client or a MockQueue handle), else ``TASKCLUSTER_ROOT_URL``.

    The one place that answers "which deployment is this?" for lessons, widgets and doctor().
    """
    if root_url:
        return str(root_url).rstrip("/")
    if isinstance(target, str) and target:
        return target.rstrip("/")
    if target is not None:
        options = getattr(target, "options", None)
        # a client's options: a dict (official clients) or an Options object (ours)
        value = options.get("rootUrl") if hasattr(options, "get") else None
        if isinstance(value, str) and value:
            return value.rstrip("/")
        for attr in ("root_url", "rootUrl"):
            value = getattr(target, attr, None)
            if isinstance(value, str) and value:
                return value.rstrip("/")
        raise TypeError(f"cannot tell the rootUrl of {target!r}")
    env = os.environ.get("TASKCLUSTER_ROOT_URL")
    if env:
        return env.rstrip("/")
    raise ValueError("no rootUrl: pass root_url=..., a Queue client, or set TASKCLUSTER_ROOT_URL")


_root_url_of = root_url_of  # the name selfcheck.py imported before it was public


def _answers_as_mock(url: str) -> bool | None:
    """Does the server at ``url`` answer the mock's ``/mock/v1/clock`` with 200? None when it
    cannot be asked (nothing listening, a timeout): the service may simply not be up yet."""
    try:
        response = shared_client().get(f"{url}/mock/v1/clock", timeout=5.0)
    except httpx.HTTPError:
        return None
    return response.status_code == 200


def is_mock(target: Any = None, root_url: str | None = None) -> bool:
    """Is this rootUrl/client/handle the tutorial's mock queue? Asked afresh each time: a port
    on loopback may serve another queue a moment later (a restart, a classroom in place of an
    embedded mock), so an old answer may be wrong. "Cannot connect" is False."""
    return _answers_as_mock(root_url_of(target, root_url)) is True


def _seconds(duration: float | int | str | _dt.timedelta) -> float:
    if isinstance(duration, _dt.timedelta):
        return duration.total_seconds()
    if isinstance(duration, (int, float)):
        return float(duration)
    # the same offset language as fromNow(): "20 minutes", "2 days 3 hours"
    from tutorial_kit.client import fromNow

    base = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)
    return (fromNow(duration, base) - base).total_seconds()


class MockControl:
    """The control plane of one mock queue."""

    def __init__(self, target: Any, *, timeout: float = 10.0):
        self.root_url = root_url_of(target)
        self._http = http_client(base_url=f"{self.root_url}/mock/v1", timeout=timeout)
        self._is_mock: bool | None = None

    # -- detection ---------------------------------------------------------------------------
    def is_mock(self) -> bool:
        """True when the deployment answers the mock's control plane. A definite answer is kept
        for this object's life (one object, one server); "cannot connect" is asked again."""
        if self._is_mock is None:
            self._is_mock = _answers_as_mock(self.root_url)
        return self._is_mock is True

    def _call(self, method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
        if not self.is_mock():
            raise MockOnlyError(
                f"{self.root_url} is not the tutorial's mock queue: the clock, faults and request "
                "log exist only there. Unset TASKCLUSTER_ROOT_URL to use the mock.")
        response = self._http.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            try:
                body = response.json()
                message = body.get("message") or body.get("error") or response.text
            except ValueError:
                message = response.text
            raise MockOnlyError(f"{method} /mock/v1{path} failed ({response.status_code}): {message}")
        return response.json() if response.content else None

    # -- clock -------------------------------------------------------------------------------
    def clock(self) -> dict:
        return self._call("GET", "/clock")

    def now(self) -> _dt.datetime:
        """The mock's current time (it may be paused, moved forward or scaled)."""
        from tutorial_kit.dates import parse_date

        return parse_date(self.clock()["now"])

    def pause(self) -> dict:
        return self._call("POST", "/clock", {"action": "pause"})

    def resume(self) -> dict:
        return self._call("POST", "/clock", {"action": "resume"})

    def advance(self, duration: float | str | _dt.timedelta) -> dict:
        """Move the mock's clock forward (e.g. ``"20 minutes"``); resolvers fire at once."""
        return self._call("POST", "/clock", {"action": "advance", "seconds": _seconds(duration)})

    def speed(self, factor: float) -> dict:
        return self._call("POST", "/clock", {"action": "speed", "factor": float(factor)})

    def reset_clock(self) -> dict:
        """Back to real time at speed 1 (undoes pause, advance and speed)."""
        return self._call("POST", "/clock", {"action": "reset"})

    # -- state and logs ----------------------------------------------------------------------
    def cluster(self) -> dict:
        """The simulated cluster: the task queues its workers serve and its engines."""
        return self._call("GET", "/cluster")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def seed(self, seed: int) -> None:
        self._call("POST", "/seed", {"seed": int(seed)})

    def state(self) -> dict:
        return self._call("GET", "/state")

    def requests(self, since: int = 0, limit: int | None = None) -> list[dict]:
        """The request log after sequence number ``since``: method, route, status, latency,
        clientId (no secrets); every page unless ``limit`` caps it."""
        records: list[dict] = []
        while limit is None or len(records) < limit:
            page_size = 10000 if limit is None else min(10000, limit - len(records))
            page = self._call("GET", "/requests", params={"since": since, "limit": page_size})
            batch = page["requests"]
            records += batch
            if len(batch) < page_size:
                break
            since = batch[-1]["seq"]
        return records

    def last_seq(self) -> int:
        """The sequence number of the newest request-log entry."""
        return int(self._call("GET", "/requests", params={"limit": 1})["last"])

    # -- faults ------------------------------------------------------------------------------
    def crash(self, task_id: str, mode: str = "claim-expired") -> dict:
        """Crash the worker running a task: ``claim-expired`` (it stops reclaiming) or
        ``worker-shutdown`` (it reports the exception)."""
        return self._call("POST", f"/tasks/{task_id}/crash", {"mode": mode})

    def fail_next(self, method: str, count: int = 1, status: int = 500) -> dict:
        """Make the next ``count`` calls to an API method answer ``status`` (500 or 429)."""
        return self._call("POST", "/faults", {"kind": "fail", "method": method, "count": count,
                                              "status": status})

    def add_latency(self, method: str, seconds: float, count: int | None = None) -> dict:
        body: dict[str, Any] = {"kind": "latency", "method": method, "seconds": seconds}
        if count is not None:
            body["count"] = count
        return self._call("POST", "/faults", body)

    def faults(self) -> dict:
        """The armed faults, as the mock describes them (a list per kind)."""
        return self._call("GET", "/faults") or {}

    def fired_faults(self) -> dict:
        """``{"fired": [lines of the faults that fired lately], "version": n}``; ``version``
        moves whenever a fault is armed, fires or is removed."""
        return self._call("GET", "/faults/fired") or {}

    def add_fault(self, kind: str, **fields: Any) -> dict:
        """Arm a fault of ``kind`` (``crash``, ``fail``, ``latency``) with the mock's own field
        names (e.g. ``add_fault("crash", taskId=..., mode="claim-expired", after=0)``)."""
        return self._call("POST", "/faults", {"kind": kind, **fields})

    def clear_faults(self) -> dict:
        """Disarm every fault; returns what the mock answers (the faults left: none)."""
        return self._call("DELETE", "/faults") or {}

    def apply_scenario(self, scenario: "str | os.PathLike[str]") -> dict:
        """Apply a scenario file (YAML or JSON: a path, or the text itself) to this mock, over
        ``POST /mock/v1/scenario``: works wherever the mock runs (embedded, ``make lab``'s, a
        terminal's). Returns what is armed and the clock's state."""
        text = str(scenario)
        path = pathlib.Path(text)
        if "\n" not in text and path.suffix.lower() in (".yaml", ".yml", ".json"):
            text = path.read_text()
        if not self.is_mock():
            self._call("POST", "/scenario")  # raises the MockOnlyError that explains
        response = self._http.post("/scenario", content=text.encode(),
                                   headers={"Content-Type": "application/yaml"})
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.text
            except ValueError:
                message = response.text
            raise MockOnlyError(f"POST /mock/v1/scenario failed ({response.status_code}): "
                                f"{message}")
        return response.json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "MockControl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
