"""The mock-only control plane, under ``/mock/v1`` (JSON in and out).

=========================================  ===================================================
``GET  /``                                 what this server is (open to all, also in strict mode)
``POST /reset``                            forget every task, artifact and message; disarm faults
``POST /seed``                             ``{"seed": n}``: make generated ids and choices
                                           repeatable
``GET  /state``                            the model's state (``backend.dump()``)
``GET  /requests``                         the request log (``?since=<seq>&limit=<n>``), no
                                           secrets
``GET  /events``                           Server-Sent Events: every Pulse message in order
                                           (``?since=<seq>`` or ``Last-Event-ID``)
``GET|POST /clock``                        read or move time: ``{"action": "pause"|"resume"|
                                           "advance"|"speed"|"reset"|"now", "seconds": s,
                                           "factor": f}``
``GET|POST|DELETE /faults``                list, arm (``Faults.arm``'s JSON) or clear injected
                                           faults; ``GET /faults/fired``;
                                           ``DELETE /faults/<id>``
``GET  /cluster``                          task queues served, engines, runs in progress
``POST /tasks/<taskId>/crash``             ``{"mode": "claim-expired" | "worker-shutdown"}``
``POST /tasks/<taskId>/malformed``         the next run's payload counts as malformed
``POST /tasks/<taskId>/error-artifact``    ``{"name", "reason"?, "message"?}``
``POST /scenario``                         a scenario file (JSON or YAML) as the body
=========================================  ===================================================

Every route goes through one door (:class:`.plane.ControlPlane`): the strict-mode guard, one
JSON-object body parser, and Taskcluster's error envelope ``{code, message, requestInfo}`` for
every refusal, with the headers of the Queue API. ``state.py`` holds the model's endpoints,
``cluster.py`` the simulated cluster's; the live logs are served with the storage routes.

It is a teaching tool, so it needs no credentials on loopback. In strict mode (a server bound
beyond loopback) only the tutorial client may use it (:meth:`.plane.ControlPlane.allowed`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from ..services import Services
from .cluster import cluster_routes
from .plane import ControlPlane
from .state import sse_message, state_routes

__all__ = ["control_routes", "ControlPlane", "sse_message"]


def control_routes(services: Services) -> list[BaseRoute]:
    """The Starlette routes of the control plane, to mount at ``<prefix>/mock/v1``."""
    plane = ControlPlane(services)
    return state_routes(plane) + cluster_routes(plane)
