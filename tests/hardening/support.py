"""Helpers shared by the hardening tests and the benchmarks that reuse them.

Everything here talks to a real mock queue over real HTTP: a raw HTTP/1.1 sender (so a test can
put anything on the wire, percent-encoding and all, without a client library normalizing it),
Hawk signing through the package's own client code, task definitions, and the checks every
error answer must pass (Taskcluster's envelope, a 4xx status, no secret inside).
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from tutorial_kit.client.hawk import authorization_header
from tutorial_kit.client.options import Credentials
from tutorial_kit.client.slugid import slugid
from tutorial_kit.mock.model.errors import STATUS_BY_CODE

API = "/api/queue/v1"
#: A task queue no built-in worker serves, so tasks stay pending until a test claims them.
TASK_QUEUE = "hardening/worker"
#: Every wait on the server is bounded by this (seconds): a hang is a failure, not a stall.
REQUEST_TIMEOUT = 15.0


def when(seconds: float = 0.0) -> str:
    """A ``Date.toJSON()`` timestamp ``seconds`` from now (wall clock)."""
    t = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def task_definition(task_queue_id: str = TASK_QUEUE, *, scheduler_id: str | None = None,
                    task_group_id: str | None = None, project_id: str | None = None,
                    payload: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A small valid ``createTask`` body."""
    task: dict[str, Any] = {
        "taskQueueId": task_queue_id,
        "created": when(-1),
        "deadline": when(3600),
        "payload": payload if payload is not None else {},
        "metadata": {"name": "hardening", "description": "a task made by the hardening tests",
                     "owner": "hardening@example.com", "source": "https://example.com/hardening"},
    }
    if scheduler_id is not None:
        task["schedulerId"] = scheduler_id
    if task_group_id is not None:
        task["taskGroupId"] = task_group_id
    if project_id is not None:
        task["projectId"] = project_id
    task.update(extra)
    return task


@dataclass
class Answer:
    """One HTTP answer, read in full."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Wire:
    """Sends raw HTTP/1.1 requests to one server; signs them with Hawk when given credentials.

    ``target`` is sent exactly as given (no normalization of ``..`` or percent-escapes), which
    is what a path-trick test needs and what ``httpx`` would not allow.
    """

    host: str
    port: int
    timeout: float = REQUEST_TIMEOUT
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_root(cls, root_url: str, **kwargs: Any) -> "Wire":
        rest = root_url.split("://", 1)[1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        return cls(host.strip("[]"), int(port), **kwargs)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def sign(self, credentials: dict[str, str] | Credentials, method: str, target: str,
             body: bytes = b"", content_type: str = "", **kwargs: Any) -> str:
        """A Hawk ``Authorization`` value for this exact request (kwargs: ts, nonce, ext)."""
        if isinstance(credentials, dict):
            credentials = Credentials(credentials["clientId"], credentials["accessToken"],
                                      credentials.get("certificate"))  # type: ignore[arg-type]
        return authorization_header(credentials, method, self.origin + target, body=body,
                                    content_type=content_type, **kwargs)

    def send(self, method: str, target: str, *, body: bytes | None = None,
             content_type: str | None = None, headers: dict[str, str] | None = None,
             credentials: dict[str, str] | Credentials | None = None,
             authorization: str | None = None) -> Answer:
        """Send one request on a fresh connection and read the whole answer."""
        data = body or b""
        all_headers = {"Host": f"{self.host}:{self.port}", "Connection": "close",
                       **self.extra_headers}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        if body is not None:
            all_headers["Content-Length"] = str(len(data))
        if credentials is not None:
            authorization = self.sign(credentials, method, target, data, content_type or "")
        if authorization is not None:
            all_headers["Authorization"] = authorization
        all_headers.update(headers or {})
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in all_headers.items()) + "\r\n"
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(head.encode("latin-1") + data)
            response = http.client.HTTPResponse(sock, method=method)
            response.begin()
            payload = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                          payload)

    def api(self, method: str, route: str, *, json_body: Any = None,
            credentials: dict[str, str] | None = None, **kwargs: Any) -> Answer:
        """A JSON request to ``/api/queue/v1<route>``."""
        if json_body is not None:
            kwargs.setdefault("body", json.dumps(json_body).encode())
            kwargs.setdefault("content_type", "application/json")
        return self.send(method, API + route, credentials=credentials, **kwargs)


def check_error(answer: Answer, *, method: str | None = None, secrets: tuple[str, ...] = (),
                head: bool = False) -> dict[str, Any] | None:
    """Assert that ``answer`` is a well-formed 4xx refusal; return its envelope (None if none).

    Accepted shapes, as the real service answers: Taskcluster's envelope ``{code, message,
    requestInfo}`` whose code belongs to the status; ``{"error": "Not found"}`` with 404 for an
    unknown route or verb; an error artifact's 424 ``{reason, message}``. A HEAD answer has no
    body to check. No secret may appear anywhere in the answer.
    """
    assert 400 <= answer.status < 500, f"expected a 4xx, got {answer.status}: {answer.text[:400]}"
    for secret in secrets:
        assert secret not in answer.text, "a secret leaked into an error answer"
        assert all(secret not in v for v in answer.headers.values()), "a secret leaked in headers"
    if head:
        return None
    assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
    body = answer.json()
    if answer.status == 404 and body == {"error": "Not found"}:
        return None
    if answer.status == 424 and set(body) == {"reason", "message"}:
        return None
    assert set(body) >= {"code", "message", "requestInfo"}, body
    code = body["code"]
    assert STATUS_BY_CODE.get(code, answer.status) == answer.status, (code, answer.status)
    assert isinstance(body["message"], str) and "errorCode:  " + code in body["message"]
    info = body["requestInfo"]
    assert set(info) >= {"method", "params", "payload", "time"}, info
    if method is not None:
        assert info["method"] == method, (info["method"], method)
    if answer.status == 401:
        assert answer.headers.get("www-authenticate") == "hawk"
    return body


def target_of(url: str) -> str:
    """The request target (path and query, as written) of an absolute URL."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def new_task_id() -> str:
    return slugid()


def unique_queue(provisioner: str = "hardening") -> str:
    """A task queue of its own, so that claimWork finds only the caller's tasks."""
    return f"{provisioner}/q{secrets.token_hex(6)}"


def assert_still_serves(wire: Wire) -> None:
    """The final check of every abuse test: the server answers an ordinary call."""
    answer = wire.api("GET", "/ping")
    assert answer.status == 200 and answer.json()["alive"] is True


class ServedQueue:
    """A mock queue run by the CLI in a subprocess (``tutorial-kit mock-queue serve``).

    The test process then shares no GIL with the server, and the server can be killed for real.
    ``root_url`` and ``credentials`` come from the ``export`` lines the CLI prints first.
    """

    def __init__(self, *args: str, timeout: float = 30.0) -> None:
        import os
        import subprocess
        import sys
        import threading

        argv = [sys.executable, "-m", "tutorial_kit.cli", "mock-queue", "serve", *args]
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.stderr_lines: list[str] = []
        env: dict[str, str] = {}
        lines: list[str] = []

        def read_exports() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.append(line)
                if line.startswith("export "):
                    name, _, value = line[len("export "):].strip().partition("=")
                    env[name] = value.strip("'")
                if len(env) == 3:
                    return

        reader = threading.Thread(target=read_exports, daemon=True)
        reader.start()
        reader.join(timeout)
        if len(env) != 3:
            self.kill()
            raise RuntimeError(f"{' '.join(argv)} did not start: {''.join(lines)}"
                               f"{self.proc.stderr.read() if self.proc.stderr else ''}")
        # Drain stderr so the server never blocks on a full pipe; keep it for secret checks.
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self.root_url = env["TASKCLUSTER_ROOT_URL"]
        self.credentials = {"clientId": env["TASKCLUSTER_CLIENT_ID"],
                            "accessToken": env["TASKCLUSTER_ACCESS_TOKEN"]}

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (what a crash or an OOM killer does)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C or a service manager would, then wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except Exception:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> "ServedQueue":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
