"""The baseline for the speed benchmarks: a bare Starlette JSON endpoint on uvicorn.

It answers ``GET /api/queue/v1/task/<taskId>/status`` with a fixed status structure of the same
size as the mock's, and ``PUT /api/queue/v1/task/<taskId>`` by echoing a small JSON body, with
nothing else: no auth, no validation, no store. Uvicorn runs with its standard extras, the
fastest it serves: httptools and uvloop where they are installed (``BARE_HTTP`` / ``BARE_LOOP``
name others, e.g. ``h11`` / ``asyncio``), no access log, no lifespan, no websockets, the mock's
keep-alive; the same listening socket (``server._bind``); in a thread beside the main thread
like the mock.

Run: ``python -m benchmarks.bare_app`` prints ``export TASKCLUSTER_ROOT_URL=...`` and serves on a
free loopback port until killed (the same first line as ``tutorial-kit mock-queue serve``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tutorial_kit.mock.server import KEEP_ALIVE_SECONDS, _bind

STATUS = {"status": {
    "taskId": "fN1SbArXTPSVFNUvaOlinQ", "provisionerId": "proj-bench", "workerType": "worker",
    "taskQueueId": "proj-bench/worker", "schedulerId": "-", "projectId": "none",
    "taskGroupId": "fN1SbArXTPSVFNUvaOlinQ", "deadline": "2026-11-29T20:00:00.000Z",
    "expires": "2027-11-29T20:00:00.000Z", "retriesLeft": 5, "state": "pending",
    "runs": [{"runId": 0, "state": "pending", "reasonCreated": "scheduled",
              "scheduled": "2026-11-28T20:00:00.000Z"}]}}
HEADERS = {"cache-control": "no-store no-cache must-revalidate",
           "access-control-allow-origin": "*"}


async def status(request: Request) -> Response:
    body = json.dumps(STATUS, separators=(",", ":")).encode()
    return Response(body, headers=HEADERS, media_type="application/json; charset=utf-8")


async def create(request: Request) -> Response:
    payload = json.loads(await request.body() or b"{}")
    body = json.dumps({"status": dict(STATUS["status"], taskQueueId=payload.get(
        "taskQueueId", ""))}, separators=(",", ":")).encode()
    return Response(body, headers=HEADERS, media_type="application/json; charset=utf-8")


app = Starlette(routes=[Route("/api/queue/v1/task/{taskId}/status", status, methods=["GET"]),
                        Route("/api/queue/v1/task/{taskId}", create, methods=["PUT"])])


def main() -> int:
    # The mock's own listening socket (TCP_NODELAY, backlog), so only the app differs.
    sock = _bind("127.0.0.1", 0)
    # uvicorn with its standard extras (httptools, uvloop) unless told otherwise: the floor.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            loop=os.environ.get("BARE_LOOP", "auto"),
                            http=os.environ.get("BARE_HTTP", "auto"), ws="none",
                            timeout_graceful_shutdown=3, timeout_keep_alive=KEEP_ALIVE_SECONDS)
    server = uvicorn.Server(config)

    def run() -> None:
        factory = config.get_loop_factory()
        loop = factory() if factory is not None else asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    print(f"export TASKCLUSTER_ROOT_URL=http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set() and thread.is_alive():
        stop.wait(0.5)
    server.should_exit = True
    thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
