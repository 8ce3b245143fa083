"""The live view of running tasks' logs: a small HTTP server on this machine's loopback.

While a run goes on, ``public/logs/live.log`` is a ``reference`` to
``http://127.0.0.1:<port>/<taskId>/<runId>``, which streams the log as the command writes it
(and ends when the run does). Your browser on the same machine follows the Queue's redirect
there, as it follows a real worker's to its livelog service. When the run ends, the whole log
is stored as ``public/logs/live_backing.log`` and ``live.log`` becomes a ``link`` to it, so it
stays readable from anywhere.
"""

from __future__ import annotations

import pathlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POLL = 0.2  # seconds between looks at a growing log
CHUNK = 64 * 1024


class LiveLogs:
    """Serves the logs of the runs registered with :meth:`add` until :meth:`close`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._logs: dict[str, tuple[pathlib.Path, threading.Event]] = {}
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                owner._serve(self)

            def log_message(self, *args: Any) -> None:  # quiet: the worker prints its own lines
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="live logs")
        self._thread.start()

    def url(self, task_id: str, run_id: int) -> str:
        return f"http://127.0.0.1:{self.port}/{task_id}/{run_id}"

    def add(self, task_id: str, run_id: int, path: pathlib.Path) -> threading.Event:
        """Serve ``path``; set the returned event when the run is over (streams then end)."""
        done = threading.Event()
        with self._lock:
            self._logs[f"/{task_id}/{run_id}"] = (path, done)
        return done

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            found = self._logs.get(request.path.split("?", 1)[0])
        if found is None:
            request.send_error(404, "no such log on this worker")
            return
        path, done = found
        request.send_response(200)
        request.send_header("Content-Type", "text/plain; charset=utf-8")
        request.send_header("Access-Control-Allow-Origin", "*")
        request.send_header("Cache-Control", "no-cache")
        request.send_header("Connection", "close")
        request.end_headers()
        try:
            with open(path, "rb") as log:
                while True:
                    chunk = log.read(CHUNK)
                    if chunk:
                        request.wfile.write(chunk)
                        request.wfile.flush()
                        continue
                    if done.is_set():
                        rest = log.read()  # what came between the last read and the end
                        if rest:
                            request.wfile.write(rest)
                        return
                    time.sleep(POLL)
        except (BrokenPipeError, ConnectionResetError):
            return  # the reader went away

    def close(self) -> None:
        with self._lock:
            for _path, done in self._logs.values():
                done.set()
        self._server.shutdown()
        self._server.server_close()
