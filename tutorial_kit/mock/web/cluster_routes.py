"""Mock-only control endpoints of the simulated cluster, mounted under ``/mock/v1``.

=========================================  ===================================================
``GET  /cluster``                          task queues served, engines, runs in progress
``POST /tasks/<taskId>/crash``             ``{"mode": "claim-expired" | "worker-shutdown"}``
``POST /tasks/<taskId>/malformed``         the next run's payload counts as malformed
``POST /tasks/<taskId>/error-artifact``    ``{"name", "reason"?, "message"?}``
``POST /scenario``                         a scenario file (JSON or YAML) as the body
=========================================  ===================================================

:func:`routes` takes the object that owns the mock's parts (the ``QueueApp`` or the
``MockQueue``): it reads ``owner.faults``, ``owner.cluster`` and ``owner.backend`` at request
time, so the cluster may start after the routes are built. The request faults themselves
(``/faults``) and the live logs (``/livelog/<taskId>/<runId>``, from
``workers.livelog.follow``) are served by ``control.py`` and ``app.py``. Errors answer ``{"code", "message"}`` with a 4xx
status, never a traceback; in strict mode ``control.control_allowed`` guards every route.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.sim.faults import FaultError
from tutorial_kit.mock.sim.scenario import Scenario, ScenarioError

CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=CORS)


def _ok(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=CORS)


async def _json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise FaultError("this endpoint needs a JSON object as the request body")
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise FaultError(f"the request body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise FaultError("the request body must be a JSON object")
    return body


async def _allowed(owner: Any, request: Request) -> None:
    """Strict mode: only the tutorial client may use the control plane (see control.py)."""
    if getattr(owner, "strict", False):
        from .control import control_allowed

        control_allowed(owner, request, await request.body())


def routes(owner: Any) -> list[BaseRoute]:
    """The cluster's control routes, relative to the ``/mock/v1`` mount."""

    def faults() -> Any:
        found = getattr(owner, "faults", None)
        if found is None:
            raise LookupError("this mock queue runs without fault injection")
        return found

    def cluster() -> Any:
        found = getattr(owner, "cluster", None)
        if found is None:
            raise LookupError("this mock queue runs without workers (start it with workers=True)")
        return found

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                await _allowed(owner, request)
                return await handler(request)
            except QueueError as error:
                return _error(error.status, error.code, error.message)
            except (FaultError, ScenarioError) as error:
                return _error(400, "InputError", str(error))
            except LookupError as error:
                message = error.args[0] if error.args else str(error)
                return _error(409, "RequestConflict", str(message))
        return endpoint

    async def cluster_info(request: Request) -> Response:
        return _ok(cluster().describe())

    async def crash(request: Request) -> Response:
        body = await _json_body(request, optional=True)
        mode = body.get("mode", "claim-expired")
        # crash() may wait a moment for a just-claimed run: keep the event loop free meanwhile
        return _ok(await run_in_threadpool(cluster().crash, request.path_params["taskId"], mode))

    async def malformed(request: Request) -> Response:
        rule = faults().make_malformed(request.path_params["taskId"])
        return _ok({"id": rule.id, "taskId": rule.task_id, "malformed": True})

    async def error_artifact(request: Request) -> Response:
        body = await _json_body(request)
        unknown = set(body) - {"name", "reason", "message"}
        if unknown or "name" not in body:
            raise FaultError("give {name, reason?, message?}"
                             + (f"; unknown keys: {', '.join(sorted(unknown))}" if unknown else ""))
        rule = faults().make_error_artifact(request.path_params["taskId"], body["name"],
                                            **{k: v for k, v in body.items() if k != "name"})
        return _ok({"id": rule.id, "taskId": rule.task_id,
                    "errorArtifact": vars(rule.error_artifact)})

    async def scenario(request: Request) -> Response:
        raw = await request.body()
        if not raw.strip():
            raise ScenarioError("send the scenario (JSON or YAML) as the request body")
        return _ok(Scenario.loads(raw).apply(owner.faults, owner.backend.clock))

    return [
        Route("/cluster", guarded(cluster_info), methods=["GET"]),
        Route("/tasks/{taskId}/crash", guarded(crash), methods=["POST"]),
        Route("/tasks/{taskId}/malformed", guarded(malformed), methods=["POST"]),
        Route("/tasks/{taskId}/error-artifact", guarded(error_artifact), methods=["POST"]),
        Route("/scenario", guarded(scenario), methods=["POST"]),
    ]
