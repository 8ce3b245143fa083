"""The control plane's endpoints on the simulated cluster: crash a task's worker, make a run's
payload malformed or its artifact an error, apply a scenario (the table is in the package's
docstring).

The cluster starts after the routes are built (its workers need the server's rootUrl), so each
request reads ``services.cluster`` anew; without workers, or without fault injection, a route
answers ``RequestConflict`` (409) saying so.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import BaseRoute

from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.sim.scenario import Scenario, ScenarioError

from .plane import ControlPlane


def cluster_routes(plane: ControlPlane) -> list[BaseRoute]:
    """The cluster's control routes, relative to the ``/mock/v1`` mount."""

    def cluster_info(_r: Request, _d: Any) -> Any:
        return plane.cluster().describe()

    async def crash(request: Request, body: dict[str, Any]) -> Any:
        mode = body.get("mode", "claim-expired")
        # crash() may wait a moment for a just-claimed run: keep the event loop free meanwhile
        return await run_in_threadpool(plane.cluster().crash, request.path_params["taskId"], mode)

    def malformed(request: Request, _d: Any) -> Any:
        rule = plane.faults().make_malformed(request.path_params["taskId"])
        return {"id": rule.id, "taskId": rule.task_id, "malformed": True}

    def error_artifact(request: Request, body: dict[str, Any]) -> Any:
        unknown = set(body) - {"name", "reason", "message"}
        if unknown or "name" not in body:
            raise QueueError("InputError", "give {name, reason?, message?}" + (
                f"; unknown keys: {', '.join(sorted(unknown))}" if unknown else ""))
        rule = plane.faults().make_error_artifact(
            request.path_params["taskId"], body["name"],
            **{k: v for k, v in body.items() if k != "name"})
        return {"id": rule.id, "taskId": rule.task_id,
                "errorArtifact": vars(rule.error_artifact)}

    def scenario(_r: Request, raw: bytes) -> Any:
        if not raw.strip():
            raise ScenarioError("send the scenario (JSON or YAML) as the request body")
        return Scenario.loads(raw).apply(plane.services.faults, plane.services.backend.clock)

    return [
        plane.route("/cluster", "cluster", cluster_info, ["GET"]),
        plane.route("/tasks/{taskId}/crash", "crash", crash, ["POST"]),
        plane.route("/tasks/{taskId}/malformed", "malformed", malformed, ["POST"]),
        plane.route("/tasks/{taskId}/error-artifact", "errorArtifact", error_artifact, ["POST"]),
        plane.route("/scenario", "scenario", scenario, ["POST"], body="raw"),
    ]
