"""Generated bad requests against every Queue method the mock implements.

A :class:`Case` is one HTTP request built from a valid one and then spoiled in one or more ways
(a bad URL parameter, a path trick in an artifact name, an unknown query key, a wrong verb, a body
that is not JSON or has the wrong types, a huge or unicode string, a missing or garbled Hawk
header). :func:`expectation` says which of those spoils the real service must refuse; every
answer must be below 500, and every refusal Taskcluster's error envelope. Shared by
``test_bad_input.py`` (a few hundred cases) and ``benchmarks/bench_fuzz.py`` (>= 10,000).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

from hypothesis import strategies as st

from tutorial_kit import api
from tutorial_kit.mock.web.app import match_route

from .support import (TASK_QUEUE, Answer, Wire, check_error, new_task_id, task_definition,
                      unique_queue, when)

VERBS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"]

#: Path tricks aimed at artifact names and ids (the server must never act outside them).
PATH_TRICKS = [
    "..", ".", "../", "../../etc/passwd", "public/../../private/x", "public/..%2F..%2Fsecret",
    "%2e%2e%2f%2e%2e%2f", "..%252F", "a/./b", "//double//slash", "/absolute", "\\..\\..\\win",
    "nul\x00byte", "%00", "public/%00.txt", "%", "%zz", "%ff%fe", " ", "\t", "\r\nX-Evil: 1",
    "ü", "😀" * 40, "‮rtl", "a" * 1100, "public/" + "x" * 1017, "CON", "public/.",
]

_json_leaf = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
              | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
json_values = st.recursive(
    _json_leaf,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)


@dataclass
class World:
    """Ids that exist on the server under test, so spoiled requests can reach deep code."""

    credentials: dict[str, str]
    task_id: str
    task_group_id: str
    task_queue: str = TASK_QUEUE
    run_id: str = "0"
    artifact: str = "public/hello.txt"

    def valid_param(self, name: str) -> str:
        return {
            "taskId": self.task_id, "taskGroupId": self.task_group_id, "runId": self.run_id,
            "name": self.artifact, "taskQueueId": self.task_queue,
            "provisionerId": self.task_queue.split("/")[0],
            "workerType": self.task_queue.split("/")[1], "workerGroup": "wg", "workerId": "wi",
        }[name]


def valid_body(entry: api.Entry, world: World) -> Any:
    """A body the method's input schema accepts (or {} where none is needed)."""
    bodies: dict[str | None, Any] = {
        "create-task-request.json": task_definition(),
        "tasks-request.json": {"taskIds": [world.task_id]},
        "claim-work-request.json": {"workerGroup": "wg", "workerId": "wi", "tasks": 1},
        "task-claim-request.json": {"workerGroup": "wg", "workerId": "wi"},
        "task-exception-request.json": {"reason": "malformed-payload"},
        "post-artifact-request.json": {"storageType": "reference", "expires": when(3600),
                                       "contentType": "text/plain",
                                       "url": "https://example.com/x"},
        "finish-artifact-request.json": {"uploadId": new_task_id()},
        "change-task-priority-request.json": {"newPriority": "high"},
        "quarantine-worker-request.json": {"quarantineUntil": when(60)},
        "update-worker-request.json": {},
    }
    return bodies.get(entry.input, {})


def setup_world(wire: Wire, credentials: dict[str, str]) -> World:
    """A task group with one claimed task (run 0) holding a reference artifact."""
    task_id, group, task_queue = new_task_id(), new_task_id(), unique_queue()
    created = wire.api("PUT", f"/task/{task_id}", credentials=credentials,
                       json_body=task_definition(task_queue, task_group_id=group))
    assert created.status == 200, created.text
    claimed = wire.api("POST", "/claim-work/" + quote(task_queue, safe=""),
                       credentials=credentials,
                       json_body={"workerGroup": "wg", "workerId": "wi", "tasks": 1})
    assert claimed.status == 200 and claimed.json()["tasks"], claimed.text
    world = World(credentials, task_id, group, task_queue)
    made = wire.api("POST", f"/task/{task_id}/runs/0/artifacts/" + quote(world.artifact, safe=""),
                    credentials=credentials,
                    json_body=valid_body(api.BY_NAME["createArtifact"], world))
    assert made.status == 200, made.text
    return world


@dataclass
class Case:
    """One generated request (before signing)."""

    entry: str
    verb: str
    params: dict[str, str]  # value per URL parameter (None: keep the valid one)
    encodings: dict[str, str]
    query: list[tuple[str, str]]
    body: Any  # bytes, a JSON value, or None
    body_kind: str
    content_type: str | None
    auth: str
    garbled_auth: str = ""
    spoils: list[str] = field(default_factory=list)

    def target(self, world: World) -> str:
        entry = api.BY_NAME[self.entry]
        path = entry.route
        for arg in entry.args:
            value = self.params.get(arg, world.valid_param(arg))
            path = path.replace(f"<{arg}>", encode(value, self.encodings.get(arg, "full")), 1)
        query = urlencode(self.query, quote_via=quote) if self.query else ""
        return api_path(path) + ("?" + query if query else "")

    def body_bytes(self, world: World) -> bytes | None:
        if self.body_kind == "none":
            return None
        if self.body_kind == "valid":
            return json.dumps(valid_body(api.BY_NAME[self.entry], world)).encode()
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


def api_path(route: str) -> str:
    return "/api/queue/v1" + route


def encode(value: str, how: str) -> str:
    """A URL parameter as path text: fully quoted, with raw slashes, or with '%' left alone."""
    if how == "full":
        return quote(value, safe="")
    if how == "slashes":
        return quote(value, safe="/")
    return quote(value, safe="/%")  # '%2F', '%00', '%zz' reach the server as written


@st.composite
def cases(draw: st.DrawFn) -> Case:
    entry = draw(st.sampled_from(api.ENTRIES))
    spoils: list[str] = []
    verb = entry.method.upper()
    if draw(st.integers(0, 9)) == 0:
        verb = draw(st.sampled_from(VERBS))
        spoils.append("verb")
    params: dict[str, str] = {}
    encodings: dict[str, str] = {}
    for arg in entry.args:
        if draw(st.integers(0, 3)) == 0:
            params[arg] = draw(st.sampled_from(PATH_TRICKS) | st.text(max_size=40)
                               | st.text(min_size=200, max_size=600))
            spoils.append(f"param:{arg}")
        if arg in api.WILDCARD_PARAMS or arg in params:
            encodings[arg] = draw(st.sampled_from(["full", "slashes", "percent"]))
    query: list[tuple[str, str]] = []
    if draw(st.integers(0, 3)) == 0:
        keys = list(entry.query) + ["foo", "limit", "continuationToken", "bewit", "", "ü"]
        query = draw(st.lists(st.tuples(st.sampled_from(keys), st.text(max_size=30)),
                              min_size=1, max_size=3))
        spoils.append("query")
    body_kind = draw(st.sampled_from(
        ["none", "valid", "valid", "json", "mutated", "bytes", "truncated", "huge"]))
    body: Any = None
    if body_kind == "json":
        body = draw(json_values)
    elif body_kind == "bytes":
        body = draw(st.binary(min_size=1, max_size=200))
    elif body_kind == "mutated":
        body = draw(st.dictionaries(st.sampled_from(
            ["taskQueueId", "created", "deadline", "payload", "metadata", "priority", "taskIds",
             "workerGroup", "workerId", "tasks", "reason", "storageType", "expires",
             "newPriority", "dependencies", "scopes", "routes", "extra"]),
            json_values, min_size=1, max_size=4))
    elif body_kind == "truncated":
        text = json.dumps({"taskIds": ["x"], "deep": [[[{"a": "b"}]]]})
        body = text[: draw(st.integers(1, len(text) - 1))].encode()
    elif body_kind == "huge":
        body = {"metadata": {"name": draw(st.sampled_from(["x", "ü", "😀"])) * 100_000},
                "taskIds": ["y" * 50_000]}
    content_type = draw(st.sampled_from(
        ["application/json", "application/json", "application/json; charset=utf-8",
         "APPLICATION/JSON", "text/plain", None, "application/x-www-form-urlencoded",
         "multipart/form-data; boundary=x"]))
    auth = draw(st.sampled_from(["valid", "valid", "none", "garbled", "wrong-key", "stale",
                                 "bad-ext", "replay"]))
    garbled = ""
    if auth == "garbled":
        garbled = draw(st.sampled_from(["Hawk ", "Bearer ", "", "hawk id=", "Basic "])) + draw(
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120))
    return Case(entry.name, verb, params, encodings, query, body, body_kind, content_type, auth,
                garbled, spoils)


def send_case(wire: Wire, world: World, case: Case) -> tuple[Answer, str]:
    """Send a case; returns the answer and the raw target used."""
    target = case.target(world)
    data = case.body_bytes(world)
    creds = world.credentials
    authorization = None
    ct = case.content_type or ""
    if case.auth == "valid":
        authorization = wire.sign(creds, case.verb, target, data or b"", ct)
    elif case.auth == "garbled":
        authorization = case.garbled_auth
    elif case.auth == "wrong-key":
        authorization = wire.sign({"clientId": creds["clientId"], "accessToken": "k" * 44},
                                  case.verb, target, data or b"", ct)
    elif case.auth == "stale":
        authorization = wire.sign(creds, case.verb, target, data or b"", ct,
                                  ts=int(time.time()) - 3600)
    elif case.auth == "bad-ext":
        authorization = wire.sign(creds, case.verb, target, data or b"", ct, ext="!!not-base64")
    elif case.auth == "replay":
        authorization = wire.sign(creds, case.verb, target, data or b"", ct, nonce="fixed1")
        wire.send(case.verb, target, body=data, content_type=case.content_type,
                  authorization=authorization)
    answer = wire.send(case.verb, target, body=data, content_type=case.content_type,
                       authorization=authorization)
    return answer, target


def must_refuse(case: Case, target: str, data: bytes | None) -> str | None:
    """Why the real service must answer this request with a 4xx (None: it may succeed)."""
    verb = "GET" if case.verb == "HEAD" else case.verb
    route = target.split("?", 1)[0][len("/api/queue/v1"):]
    found = match_route(verb, route)
    if case.verb == "OPTIONS":
        return None
    if found is None:
        return "no such route"
    entry, raw = found
    for name, value in raw.items():
        pattern = api.PARAM_PATTERNS.get(name)
        if pattern and not re.match(pattern, unquote(value)):
            return f"bad URL parameter {name}"
    if data and data.strip():
        is_json = (case.content_type or "").split(";")[0].strip().lower() == "application/json"
        if is_json:
            try:
                value = json.loads(data)
                if not isinstance(value, (dict, list)):
                    return "JSON body is not an object or array"
            except ValueError:
                return "malformed JSON"
        elif entry.input:
            return "body is not JSON"
    if entry.scopes is not None and case.auth in ("garbled", "wrong-key", "stale", "bad-ext",
                                                  "replay"):
        if not (case.auth == "garbled" and not case.garbled_auth.strip()):
            return f"bad credentials ({case.auth})"
    keys = {k for k, _ in case.query}
    if keys - set(entry.query) - {"bewit"}:
        return "unknown query key"
    return None


def check_case(wire: Wire, world: World, case: Case, secrets: tuple[str, ...]) -> Answer:
    """Send a case and assert what every answer must satisfy; returns the answer."""
    answer, target = send_case(wire, world, case)
    data = case.body_bytes(world)
    assert answer.status < 500, f"{case.verb} {target[:300]} -> {answer.status}: {answer.text[:600]}"
    for secret in secrets:
        assert secret not in answer.text, f"a secret leaked into the answer to {case.entry}"
    reason = must_refuse(case, target, data)
    if reason is not None:
        assert answer.status >= 400, (f"{case.verb} {target[:200]} should be refused ({reason}), "
                                      f"got {answer.status}: {answer.text[:300]}")
    if answer.status >= 400:
        found = match_route("GET" if case.verb == "HEAD" else case.verb,
                            target.split("?", 1)[0][len("/api/queue/v1"):])
        check_error(answer, method=found[0].name if found else None, secrets=secrets,
                    head=case.verb == "HEAD")
    return answer
