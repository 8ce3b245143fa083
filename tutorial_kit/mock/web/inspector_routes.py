"""The inspector's routes on the mock: the pages at a deployment UI's paths, their assets, and
the classroom dashboard (mock-only, under ``/mock/v1``).

The pages are one static HTML shell (``static/page.html``); its script reads the path and
renders the task, group or index view from the public Queue API. The only server-side step is
putting the rootUrl's path prefix into the asset links.
"""

from __future__ import annotations

import html
import pathlib
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tutorial_kit import inspector

from . import dashboard

if TYPE_CHECKING:
    from .services import Services

#: The pages and their assets: package data of :mod:`tutorial_kit.inspector`, which also makes
#: the learner-side links to them (it imports nothing from the mock).
STATIC = pathlib.Path(inspector.__file__).with_name("static")
#: The assets the pages load, and their types (nothing else under static/ is served).
ASSETS = {"inspector.js": "text/javascript; charset=utf-8",
          "hawk.js": "text/javascript; charset=utf-8",
          "dashboard.js": "text/javascript; charset=utf-8",
          "inspector.css": "text/css; charset=utf-8"}
#: Defence in depth: even if text ever reached the DOM as markup, no inline script, no script
#: from elsewhere, no plugin, and every fetch stays on this origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
PAGE_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer", "cache-control": "no-cache"}


def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


class _Pages:
    def __init__(self, app: Services) -> None:
        self.app = app
        base = html.escape(app.prefix, quote=True)
        # Read once: the files are package data and do not change while the mock runs.
        self.page = _read("page.html").replace("__BASE__", base).encode("utf-8")
        self.dashboard_page = _read("dashboard.html").replace("__BASE__", base).encode("utf-8")
        self.assets = {name: (STATIC / name).read_bytes() for name in ASSETS}
        # Taken from the first request on, whether or not a teacher is looking (see Progress).
        self.progress = app.progress

    async def page_view(self, request: Request) -> Response:
        return Response(self.page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response(b'{"error":"Not found"}', 404, media_type="application/json")
        return Response(self.assets[name], media_type=ASSETS[name],
                        headers={"x-content-type-options": "nosniff", "cache-control": "no-cache"})

    # -- the classroom dashboard -----------------------------------------------------------
    def expected_token(self) -> str | None:
        client = self.app.authenticator.clients.get(self.app.control_client_id or "")
        return dashboard.teacher_token(client.access_token) if client is not None else None

    def _refuse(self, as_json: bool) -> Response:
        text = ("This is the teacher's dashboard of the classroom: it opens only with the "
                "teacher's token, the link `classroom serve` printed when it started.")
        if as_json:
            return self.app.json_response({"code": "InsufficientScopes", "message": text}, 403)
        body = (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Forbidden</title>'
                f'<p>403 Forbidden. {html.escape(text)}</p></html>')
        return Response(body, 403, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def dashboard_view(self, request: Request) -> Response:
        if not dashboard.token_matches(self.expected_token(), request.query_params.get("token")):
            return self._refuse(as_json=False)
        return Response(self.dashboard_page, media_type="text/html; charset=utf-8",
                        headers=PAGE_HEADERS)

    async def dashboard_data(self, request: Request) -> Response:
        given = request.headers.get("x-teacher-token") or request.query_params.get("token")
        if not dashboard.token_matches(self.expected_token(), given):
            return self._refuse(as_json=True)
        backend = self.app.backend
        learners = dashboard.learner_names(self.app.authenticator.clients)
        self.progress.save()
        rows = dashboard.summarize(learners, backend.dump(), self.progress, self.app.now())
        from tutorial_kit.dates import to_json

        response = self.app.json_response({"now": to_json(self.app.now()), "learners": rows})
        response.headers["cache-control"] = "no-store"
        return response


def inspector_routes(app: Services) -> list[BaseRoute]:
    """The routes to put before the control plane's mount (``QueueApp._routes``)."""
    pages = _Pages(app)
    p = app.prefix
    get = ["GET", "HEAD"]
    return [
        Route(p + "/tasks", pages.page_view, methods=get),
        Route(p + "/tasks/", pages.page_view, methods=get),
        Route(p + "/tasks/index", pages.page_view, methods=get),
        Route(p + "/tasks/groups/{taskGroupId}", pages.page_view, methods=get),
        Route(p + "/tasks/{taskId}", pages.page_view, methods=get),
        Route(p + "/inspector/{name}", pages.asset, methods=get),
        Route(p + "/mock/v1/dashboard", pages.dashboard_view, methods=get),
        Route(p + "/mock/v1/dashboard/data", pages.dashboard_data, methods=["GET"]),
    ]


def dashboard_url(root_url: str, access_token: str) -> str:
    """The URL `classroom serve` prints: the dashboard with the teacher's token in it."""
    return f"{root_url.rstrip('/')}/mock/v1/dashboard?token={dashboard.teacher_token(access_token)}"


__all__ = ["inspector_routes", "dashboard_url"]
