"""A real HTTP server on 127.0.0.1 that records every request, checks its Hawk signature
with mohawk (an independent implementation), and answers from a script."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import mohawk
import mohawk.bewit
import mohawk.base
import mohawk.util
import mohawk.exc
from mohawk.exc import HawkFail

CREDENTIALS = {"tester": "secret-token-for-tests"}


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> raw; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (bounded; for timeout tests)
    cut_after: int | None = None  # send only this many body bytes, then hang up (mid-stream loss)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            return json.dumps(self.body).encode(), headers
        return (self.body or b""), headers


@dataclass
class Recorded:
    method: str
    target: str  # the raw request target, still percent-encoded
    headers: dict[str, str]  # lower-case names
    body: bytes
    hawk: str  # "none", "ok", "bewit-ok" or the mohawk failure
    ext: dict[str, Any] | None  # decoded Hawk ext when signed

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    @property
    def hawk_attrs(self) -> dict[str, str]:
        header = self.headers.get("authorization", "")
        return dict(mohawk.util.parse_authorization_header(header)) if header else {}


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answers: deque[Answer] = deque()
        self.fallback: Callable[[Recorded], Answer] = lambda r: Answer(200, {})
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = server._record(self.command, self.path, dict(self.headers.items()), body)
                answer = server.answers.popleft() if server.answers else server.fallback(rec)
                if answer.delay:
                    server._stop.wait(answer.delay)
                payload, headers = answer.encoded()
                try:
                    self.send_response(answer.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if answer.cut_after is not None:
                        self.wfile.write(payload[:answer.cut_after])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def _record(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Recorded:
        lower = {k.lower(): v for k, v in headers.items()}
        url = f"http://{lower.get('host', f'127.0.0.1:{self.port}')}{target}"
        hawk, ext = "none", None
        try:
            if "authorization" in lower:
                receiver = mohawk.Receiver(
                    lambda id_: {"id": id_, "key": CREDENTIALS[id_], "algorithm": "sha256"},
                    lower["authorization"], url, method, content=body,
                    content_type=lower.get("content-type", ""))
                hawk = "ok"
                ext = receiver.parsed_header.get("ext")
            elif "bewit=" in target:
                ext = check_bewit(url)
                hawk = "bewit-ok"
        except (HawkFail, KeyError) as exc:
            hawk = f"{type(exc).__name__}: {exc}"
        rec = Recorded(method, target, lower, body, hawk, decode_ext(ext))
        self.requests.append(rec)
        return rec

    def push(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def start(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


def check_bewit(url: str) -> str:
    """Verify a URL-safe, unpadded bewit (as Taskcluster sends it) with mohawk's MAC; return
    its ext. (mohawk.bewit.parse_bewit expects standard, padded base64, so decode here.)"""
    import base64
    raw, stripped = mohawk.bewit.strip_bewit(url)
    id_, exp, mac, ext = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().split("\\")
    resource = mohawk.base.Resource(
        url=stripped, method="GET", nonce="", timestamp=exp, ext=ext,
        credentials={"id": id_, "key": CREDENTIALS[id_], "algorithm": "sha256"})
    expected = mohawk.util.calculate_mac("bewit", resource, None).decode()
    if not mohawk.util.strings_match(expected, mac):
        raise mohawk.exc.MacMismatch(f"bewit mac {mac} != {expected}")
    if int(exp) < mohawk.util.utc_now():
        raise mohawk.exc.TokenExpired("bewit expired", localtime_in_seconds=0, www_authenticate="")
    return ext


def decode_ext(ext: str | None) -> dict[str, Any] | None:
    if not ext:
        return None
    import base64
    return json.loads(base64.urlsafe_b64decode(ext + "=" * (-len(ext) % 4)))
