"""Replay a golden trace against a running queue and record what it answers, normalized.

The calls go through the official ``taskcluster`` Python client, as the recording did. The only
thing touched in it is its single-request function, wrapped (never changed) so the raw response
(status, headers) can be read: the client itself only returns bodies.

Pulse messages are taken from the mock's in-process bus and attributed to steps the way the
README says: a message belongs to the scenario when a routing-key word is one of its ids; after
each call the replayer collects until it has as many as the golden step (or 20 s pass), then
waits for silence: 0.4 s where a background resolver publishes, 0.05 s where every message comes
before the reply.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import taskcluster
import taskcluster.utils as tc_utils

from . import timestamps as ts
from .concretize import PLACEHOLDER_INSTANT_RE, SYMBOL_RE, Concretizer, ordered_slugid
from .normalize import Normalizer, Setting, _strings

#: Response headers a trace keeps.
KEPT_HEADERS = ("content-type", "location", "x-taskcluster-artifact-storage-type", "www-authenticate")
MESSAGE_TIMEOUT = 20.0  # s: how long to wait for messages a background resolver publishes
SYNC_MESSAGE_TIMEOUT = 3.0  # s: for messages the real queue publishes before its HTTP reply
WAIT_BUDGET = 60.0  # s: per scenario; once spent on missing messages, waits drop to 1 s
SILENCE = 0.4  # s: quiet time that ends a step that waits on a background resolver
#: Quiet time that ends a step whose messages are all published before the reply: the mock's bus
#: calls subscribers in the publishing request's own thread, so by the time the reply is read
#: they (and any extra ones) are in. A full SILENCE here cost 0.4 s a step, 41 s for the
#: 103 steps of ``rerun-limit``: the longest replay, and the whole conformance fixture's wait.
SYNC_SILENCE = 0.05
TRAILING_WAIT = 0.6  # s: extra wait after the last step for late messages
POLL_INTERVAL = 0.5

#: The poll conditions the traces use, as predicates over the reply body.
POLL_CONDITIONS: dict[str, Callable[[Any], bool]] = {
    "status.state == 'exception'":
        lambda body: body["status"]["state"] == "exception",
    "status.runs has a second run (or state != running)":
        lambda body: len(body["status"]["runs"]) >= 2 or body["status"]["state"] != "running",
}

# --- capturing the official client's raw responses -----------------------------------------

_capture = threading.local()
_original_request = tc_utils.makeSingleHttpRequest


def _capturing_request(method, url, payload, headers, session=None):
    response = _original_request(method, url, payload, headers, session)
    _capture.response = response
    return response


if getattr(tc_utils.makeSingleHttpRequest, "__name__", "") != "_capturing_request":
    tc_utils.makeSingleHttpRequest = _capturing_request


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, text, or None when empty
    has_body: bool


def _response(status: int, headers: Any, content: bytes) -> Response:
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    if not content:
        return Response(status, kept, None, False)
    text = content.decode("utf-8", errors="replace")
    if kept.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        try:
            return Response(status, kept, json.loads(text), True)
        except ValueError:
            pass
    return Response(status, kept, text, True)


def call_official(queue: taskcluster.Queue, method: str, args: list[Any], payload: Any,
                  query: dict[str, str] | None) -> Response:
    """Call ``queue.<method>`` and return the raw response, whatever its status."""
    _capture.response = None
    fn = getattr(queue, method)
    try:
        if query:
            kwargs: dict[str, Any] = {"query": dict(query)}
            if payload is not None:
                kwargs["payload"] = payload
            fn(*args, **kwargs)
        elif payload is not None:
            fn(*args, payload)
        else:
            fn(*args)
    except (taskcluster.exceptions.TaskclusterRestFailure, taskcluster.exceptions.TaskclusterAuthFailure):
        pass  # the status and body are read from the captured response below
    raw = _capture.response
    if raw is None:
        raise RuntimeError(f"the official client sent no request for {method}")
    return _response(raw.status_code, raw.headers, raw.content)


# --- the replay ------------------------------------------------------------------------------

@dataclass
class ReplayResult:
    scenario: str
    steps: list[dict[str, Any]] = field(default_factory=list)  # normalized, golden-shaped
    raw: list[dict[str, Any]] = field(default_factory=list)  # concrete, for the schema oracle
    trailing: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the replay itself could not go on (step, reason)
    seconds: float = 0.0


class _Inbox:
    """Messages of one scenario, in arrival order, with their arrival time."""

    def __init__(self, ids: set[str]):
        self.ids = ids
        self.items: list[tuple[Any, int]] = []
        self.cond = threading.Condition()

    def __call__(self, message: Any) -> None:
        words = set(message.routing_key.split("."))
        if words & self.ids:
            with self.cond:
                self.items.append((message, ts.now_us()))
                self.cond.notify_all()

    def collect(self, start: int, want: int, *, timeout: float = MESSAGE_TIMEOUT,
                silence: float = SILENCE) -> int:
        """Wait for ``want`` messages after index ``start``, then for silence; return the end."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.items) - start < want and time.monotonic() < deadline:
                self.cond.wait(timeout=max(0.0, deadline - time.monotonic()))
            while True:
                seen = len(self.items)
                self.cond.wait(timeout=silence)
                if len(self.items) == seen:
                    return seen


def _message(message: Any, observed: int) -> dict[str, Any]:
    out = {"exchange": message.exchange, "routingKey": message.routing_key,
           "payload": message.payload, "observed_us": observed}
    if message.cc:
        out["cc"] = list(message.cc)
    return out


class Replayer:
    """Replays one golden trace against one mock queue."""

    def __init__(self, trace: dict[str, Any], mock: Any):
        self.trace = trace
        self.mock = mock
        self.root_url = mock.root_url.rstrip("/")
        self.root_credentials = dict(mock.credentials)
        self.t0 = (ts.now_us() // ts.SECOND - 1) * ts.SECOND
        self.provisioner_id = "golden-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
        self.normalizer: Normalizer | None = None
        self.concretizer = Concretizer(
            t0_us=self.t0, provisioner_id=self.provisioner_id, root_url=self.root_url,
            root_client_id=self.root_credentials["clientId"], new_task_id=ordered_slugid,
        )
        self.task_credentials: dict[tuple[str, int], dict[str, str]] = {}
        self.last_put_url: str | None = None
        self.last_download_url: str | None = None
        self.wait_budget = WAIT_BUDGET

    def _prepare(self) -> set[str]:
        text = json.dumps(self.trace["steps"])
        symbols = sorted({m.group(0) for m in SYMBOL_RE.finditer(text) if m.group("kind") == "T"},
                         key=lambda s: int(s[1:]))
        ids = {self.concretizer.id(symbol): symbol for symbol in symbols}
        self.normalizer = Normalizer(
            Setting(root_url=self.root_url, t0_us=self.t0, provisioner_id=self.provisioner_id,
                    root_client_id=self.root_credentials["clientId"]),
            ids=ids,
        )
        for step in self.trace["steps"]:
            payload = step.get("payload")
            if payload is None:
                continue
            self.normalizer.add_kept_origins(payload)
            for text in _strings(payload):
                for match in PLACEHOLDER_INSTANT_RE.finditer(text):
                    if match.group("base") == "now":
                        self.normalizer.add_client_instants(ts.to_json(self.concretizer.instant(match)))
        # U<n> first seen in a reply (an uploadId) is learned from it; any other is fresh.
        self.concretizer.lookup = self.normalizer.concrete
        return set(ids)

    def _queue(self, auth: str) -> taskcluster.Queue:
        options: dict[str, Any] = {"rootUrl": self.root_url, "maxRetries": 0}
        if auth == "root":
            options["credentials"] = dict(self.root_credentials)
        elif auth == "bad":
            options["credentials"] = {"clientId": self.root_credentials["clientId"],
                                      "accessToken": "wrong-" + "".join(random.choices(string.ascii_letters, k=30))}
        elif auth.startswith("task:"):
            symbol, run = auth[5:].split("/")
            key = (self.concretizer.id(symbol), int(run))
            if key not in self.task_credentials:
                raise ReplayError(f"no claimWork/reclaimTask credentials for {auth}")
            options["credentials"] = dict(self.task_credentials[key])
        elif auth != "anonymous":
            raise ReplayError(f"unknown auth {auth!r}")
        return taskcluster.Queue(options)

    def _call(self, step: dict[str, Any], args: list[Any], payload: Any, query: Any) -> Response:
        call = step["call"]
        if call == "http.PUT":
            data = (step.get("data") or "").encode()
            r = httpx.put(args[0], content=data, headers=step.get("requestHeaders") or {}, timeout=30)
            return _response(r.status_code, r.headers, r.content)
        if call == "http.GET":
            r = httpx.get(args[0], headers=step.get("requestHeaders") or {}, timeout=30)
            return _response(r.status_code, r.headers, r.content)
        if not call.startswith("queue."):
            raise ReplayError(f"unknown call {call!r}")
        return call_official(self._queue(step["auth"]), call[len("queue."):], args, payload, query)

    def _remember(self, step: dict[str, Any], args: list[Any], response: Response) -> None:
        method = step["call"].split(".", 1)[1]
        body = response.body if isinstance(response.body, dict) else {}
        if response.status != 200 and response.status != 303:
            return
        if method == "claimWork":
            for task in body.get("tasks") or []:
                if isinstance(task, dict) and "credentials" in task:
                    task_id = (task.get("status") or {}).get("taskId")
                    self.task_credentials[(task_id, task.get("runId"))] = task["credentials"]
        elif method == "reclaimTask" and "credentials" in body:
            self.task_credentials[(args[0], int(args[1]))] = body["credentials"]
        elif method == "createArtifact" and "putUrl" in body:
            self.last_put_url = body["putUrl"]
        elif method in ("getArtifact", "getLatestArtifact") and "url" in body:
            self.last_download_url = body["url"]
        if "continuationToken" in body:
            self.concretizer.tokens[method] = body["continuationToken"]

    def _step(self, step: dict[str, Any], inbox: _Inbox, start_index: int) -> tuple[dict[str, Any], int]:
        started = ts.now_us()
        call = step["call"]
        method = call.split(".", 1)[1]
        if call == "http.PUT":
            if self.last_put_url is None:
                raise ReplayError("http.PUT without a putUrl from an earlier createArtifact")
            args = [self.last_put_url]
        elif call == "http.GET":
            if self.last_download_url is None:
                raise ReplayError("http.GET without a url from an earlier getArtifact/getLatestArtifact")
            args = [self.last_download_url]
        else:
            args = self.concretizer.value(step.get("args", []), method=method)
        payload = self.concretizer.value(step["payload"], method=method) if "payload" in step else None
        query = self.concretizer.value(step["query"], method=method) if "query" in step else None

        poll = step.get("poll")
        timed_out = False
        if poll:
            condition = POLL_CONDITIONS.get(poll["until"])
            if condition is None:
                raise ReplayError(f"unknown poll condition {poll['until']!r}")
            give_up = time.monotonic() + float(poll.get("timeout", 60))
            while True:
                response = self._call(step, args, payload, query)
                try:
                    if condition(response.body):
                        break
                except (KeyError, TypeError, IndexError):
                    pass  # not a status body (yet): keep polling
                if time.monotonic() >= give_up:
                    timed_out = True
                    break
                time.sleep(POLL_INTERVAL)
        else:
            response = self._call(step, args, payload, query)
        observed = ts.now_us()
        self._remember(step, args, response)

        want = len(step.get("messages", []))
        own_timeout = _message_timeout(step)
        timeout = min(own_timeout, max(1.0, self.wait_budget))
        silence = SYNC_SILENCE if own_timeout == SYNC_MESSAGE_TIMEOUT else SILENCE
        waited = time.monotonic()
        end = inbox.collect(start_index, want, timeout=timeout, silence=silence)
        if end - start_index < want:
            self.wait_budget -= time.monotonic() - waited
        with inbox.cond:
            messages = [_message(m, at) for m, at in inbox.items[start_index:end]]

        auth = step["auth"]
        if auth.startswith("task:"):
            symbol, run = auth[5:].split("/")
            auth = f"task:{self.concretizer.id(symbol)}/{run}"
        raw: dict[str, Any] = {"step": step["step"], "call": call, "auth": auth, "args": args,
                               "status": response.status, "headers": response.headers,
                               "messages": messages, "started_us": started, "observed_us": observed}
        for key in ("payload", "query"):
            if key in step:
                raw[key] = payload if key == "payload" else query
        for key in ("requestHeaders", "data", "note", "poll", "messagesUnordered"):
            if key in step:
                raw[key] = step[key]
        if response.has_body:
            raw["body"] = response.body
        if timed_out:
            raw["pollTimedOut"] = True
        return raw, end

    def run(self) -> ReplayResult:
        result = ReplayResult(self.trace["scenario"])
        begun = time.monotonic()
        ids = self._prepare()
        inbox = _Inbox(ids)
        unsubscribe = self.mock.bus.subscribe(inbox)
        index = 0
        try:
            for step in self.trace["steps"]:
                try:
                    raw, index = self._step(step, inbox, index)
                except ReplayError as exc:
                    result.error = f"step {step['step']} ({step['call']}): {exc}"
                    break
                except Exception as exc:  # a crash of the replay is reported, not raised
                    result.error = (f"step {step['step']} ({step['call']}): {type(exc).__name__}: {exc}\n"
                                    + traceback.format_exc(limit=4))
                    break
                result.raw.append(raw)
                result.steps.append(self.normalizer.step(raw))
            if result.error is None:
                end = inbox.collect(index, 0, silence=TRAILING_WAIT)
                with inbox.cond:
                    late = [_message(m, at) for m, at in inbox.items[index:end]]
                result.trailing = [self.normalizer.value({k: v for k, v in m.items() if k != "observed_us"},
                                                         observed_us=m["observed_us"]) for m in late]
        finally:
            unsubscribe()
            result.seconds = time.monotonic() - begun
        return result


def _message_timeout(step: dict[str, Any]) -> float:
    """How long a step may wait for its golden number of messages.

    Messages a background resolver publishes (task-group-resolved, a dependent's task-pending,
    claim expiry, deadline) may come seconds after the reply; all others come before it.
    """
    if step.get("poll") or not 200 <= step.get("status", 0) < 400:
        return MESSAGE_TIMEOUT if step.get("messages") else SYNC_MESSAGE_TIMEOUT
    if step.get("call") == "queue.claimWork":
        return SYNC_MESSAGE_TIMEOUT  # task-running is published before the reply
    own = str((step.get("args") or [""])[0])
    for message in step.get("messages", []):
        words = message["routingKey"].split(".")
        if message["exchange"].endswith("/task-group-resolved") or (len(words) > 1 and words[1] != own):
            return MESSAGE_TIMEOUT
    return SYNC_MESSAGE_TIMEOUT


class ReplayError(Exception):
    """The replay cannot go on (e.g. no credentials because an earlier claim failed)."""


def replay(trace: dict[str, Any], mock: Any) -> ReplayResult:
    """Replay ``trace`` against ``mock`` (anything with root_url, credentials and bus)."""
    return Replayer(trace, mock).run()
