"""``tutorial_kit.doctor()``: a self-check of the learner's environment.

It answers the questions a learner (or a teacher helping one) asks first: which versions are
installed, do widgets work here, which deployment is live, is it reachable, and which credentials
and scopes are in use. Every check reports instead of raising.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import os
import pathlib
import platform
import time
from dataclasses import dataclass
from typing import Any

from tutorial_kit.vocabulary import PRIORITIES

DEPLOYMENT_UNKNOWN = "deployment"
PACKAGES = ("tutorial-kit", "httpx", "jupyterlab", "ipykernel", "ipywidgets", "pandas")
# Scopes the lessons need on a real deployment, for the tutorial's task queue.
LESSON_SCOPES = ("queue:create-task:lowest:tutorial/docker-worker",)


@dataclass
class Check:
    name: str
    ok: bool | None  # None: could not tell
    detail: str

    @property
    def mark(self) -> str:
        return {True: "✔ ok", False: "✘ problem", None: "? unknown"}[self.ok]


class Report(list):
    """A list of :class:`Check` that shows as a table in a notebook and as text elsewhere."""

    @property
    def ok(self) -> bool:
        return all(check.ok is not False for check in self)

    def __repr__(self) -> str:
        width = max(len(c.name) for c in self) if self else 0
        return "\n".join(f"{c.mark:<10} {c.name:<{width}}  {c.detail}" for c in self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.mark)}</td><td>{html.escape(c.name)}</td>"
            f"<td>{html.escape(c.detail)}</td></tr>" for c in self)
        return ('<table class="tk-doctor"><thead><tr><th>result</th><th>check</th>'
                f"<th>detail</th></tr></thead><tbody>{rows}</tbody></table>")


def _versions() -> Check:
    found = []
    missing = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    detail = f"Python {platform.python_version()}; " + ", ".join(found)
    if missing:
        detail += f"; missing: {', '.join(missing)}"
    return Check("versions", not missing, detail)


def _widgets() -> Check:
    try:
        import ipywidgets

        ipywidgets.HTML("ok")  # constructing one needs a working comm layer in a kernel
    except Exception as error:  # report, never raise: this runs in a learner's first cell
        return Check("widgets", False, f"ipywidgets cannot create a widget: {error}")
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    where = "in a Jupyter kernel" if shell is not None and getattr(shell, "kernel", None) else \
        "outside a kernel (widgets render only in JupyterLab)"
    return Check("widgets", True, f"ipywidgets {ipywidgets.__version__}, {where}")


def _queue(queue: Any) -> list[Check]:
    from tutorial_kit.mockctl import MockControl

    from tutorial_kit.connection import CLASSROOM, MOCK, deployment_kind

    root_url = _root_url(queue)
    checks = []
    kind = deployment_kind(root_url)
    if kind == DEPLOYMENT_UNKNOWN and MockControl(root_url).is_mock():
        kind = MOCK  # a mock from before it said what it is
    what = {MOCK: "the tutorial's mock queue",
            CLASSROOM: "a classroom's shared mock queue (tutorial-kit classroom serve)"}.get(
                kind, "a real Taskcluster deployment")
    checks.append(Check("deployment", True, f"{root_url} ({what})"))
    started = time.perf_counter()
    try:
        queue.ping()
        ms = (time.perf_counter() - started) * 1000
        checks.append(Check("queue reachable", True, f"ping answered in {ms:.0f} ms"))
    except Exception as error:
        checks.append(Check("queue reachable", False, str(error).splitlines()[0]))
        return checks
    checks.append(_credentials(queue, root_url))
    return checks


def _root_url(queue: Any) -> str:
    from tutorial_kit.mockctl import _root_url_of

    return _root_url_of(queue)


def current_scopes(queue: Any, root_url: str) -> list[str] | None:
    """The scopes the client's credentials carry, from the deployment's auth service
    (``GET <rootUrl>/api/auth/v1/scopes/current``, Hawk-signed); None where there is none.
    Raises :class:`TaskclusterError` when the credentials are refused."""
    from tutorial_kit.client import hawk
    from tutorial_kit.client.errors import TaskclusterError
    from tutorial_kit.client.transport import http_client

    options = queue.options
    url = f"{root_url}/api/auth/v1/scopes/current"
    headers = {}
    if options.credentials is not None:
        ext = hawk.make_ext(options.credentials, options.authorizedScopes)
        headers["Authorization"] = hawk.authorization_header(options.credentials, "GET", url,
                                                             ext=ext)
    # the package's transport: it also reaches an in-process mock (no socket) by its rootUrl
    with http_client(timeout=10) as http:
        response = http.get(url, headers=headers)
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {}
        raise TaskclusterError(body.get("message") or response.reason_phrase,
                               status_code=response.status_code,
                               code=body.get("code") or "UnknownError", url=url)
    return list(response.json().get("scopes", []))


def _credentials(queue: Any, root_url: str) -> Check:
    options = getattr(queue, "options", {}) or {}
    credentials = options.get("credentials") or {}
    client_id = credentials.get("clientId")
    if not client_id:
        return Check("credentials", None,
                     "none: you can read statuses and public artifacts, not create tasks. "
                     "Set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN.")
    try:
        scopes = current_scopes(queue, root_url)
    except Exception as error:
        return Check("credentials", False, f"{client_id}: refused ({str(error).splitlines()[0]})")
    if scopes is None:
        return Check("credentials", None, f"{client_id} (this deployment has no auth service "
                                          "to ask for its scopes)")
    missing = [s for s in LESSON_SCOPES if not _holds(scopes, s)]
    shown = ", ".join(scopes[:5]) + (" …" if len(scopes) > 5 else "")
    if missing:
        return Check("credentials", False, f"{client_id} lacks {', '.join(missing)} (has {shown})")
    return Check("credentials", True, f"{client_id} with scopes {shown}")


def _holds(held: list[str], scope: str) -> bool:
    """Does ``held`` satisfy ``scope`` as the Queue checks it?

    Taskcluster scope satisfaction (exact, or a held scope ending in ``*`` as a prefix), and,
    for ``queue:create-task:<priority>:<taskQueueId>``, the scope of any higher priority too:
    createTask at ``lowest`` is allowed by ``queue:create-task:highest:...``.
    """
    def satisfied(one: str) -> bool:
        return any(h == one or (h.endswith("*") and one.startswith(h[:-1])) for h in held)

    prefix = "queue:create-task:"
    if scope.startswith(prefix):
        priority, _, task_queue = scope[len(prefix):].partition(":")
        # createTask at one priority accepts the scope of that priority or of any higher one
        if priority in PRIORITIES and task_queue:
            higher = PRIORITIES[:PRIORITIES.index(priority) + 1]
            return any(satisfied(f"{prefix}{p}:{task_queue}") for p in higher)
    return satisfied(scope)


def _half_set_credentials() -> Check | None:
    """One of TASKCLUSTER_CLIENT_ID / TASKCLUSTER_ACCESS_TOKEN without the other: a failed row
    with the fix (``Queue.fromEnv()`` would refuse it; the doctor must still run)."""
    client_id = os.environ.get("TASKCLUSTER_CLIENT_ID", "").strip()
    token = os.environ.get("TASKCLUSTER_ACCESS_TOKEN", "").strip()
    if bool(client_id) == bool(token):
        return None
    have, lack = (("TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN") if client_id else
                  ("TASKCLUSTER_ACCESS_TOKEN", "TASKCLUSTER_CLIENT_ID"))
    return Check("environment", False,
                 f"{have} is set but {lack} is not. Fix: `export {lack}=...` too, or "
                 f"`unset {have}` to go on without credentials. Checked below anonymously.")


def _env_queue() -> Any:
    """The client the environment names; anonymous when the credentials are half set."""
    from tutorial_kit.client import Queue

    if _half_set_credentials() is not None:
        return Queue({"rootUrl": os.environ["TASKCLUSTER_ROOT_URL"].strip()})
    return Queue.fromEnv()


#: Where JupyterLab finds the ipywidgets front end (shipped by jupyterlab_widgets).
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def _lab_extension() -> Check:
    """The widgets' front-end extension in the JupyterLab that `tutorial-kit lab` launches (the
    one of this Python): without it every widget shows as text ("Error displaying widget")."""
    import importlib.util
    import sys

    if importlib.util.find_spec("jupyterlab") is None:
        return Check("widgets in JupyterLab", None,
                     f"no JupyterLab in this Python ({sys.executable}): `tutorial-kit lab` needs "
                     "`pip install 'tutorial-kit[lab]'`. A JupyterLab elsewhere needs "
                     "jupyterlab_widgets>=3 in its own environment.")
    dirs = [pathlib.Path(sys.prefix) / "share" / "jupyter" / "labextensions"]
    try:
        from jupyter_core.paths import jupyter_path

        dirs = [pathlib.Path(d) for d in jupyter_path("labextensions")] + dirs
    except ImportError:
        pass
    for folder in dirs:
        package = folder / WIDGETS_EXTENSION / "package.json"
        if package.is_file():
            try:
                version = json.loads(package.read_text()).get("version", "?")
            except ValueError:
                version = "?"
            major = version.split(".")[0]
            if major.isdigit() and int(major) < 5:  # 3.x and 4.x: ipywidgets 7
                return Check("widgets in JupyterLab", False,
                             f"{WIDGETS_EXTENSION} {version} is for ipywidgets 7; fix: "
                             "`pip install -U 'jupyterlab_widgets>=3'`")
            return Check("widgets in JupyterLab", True, f"{WIDGETS_EXTENSION} {version} in "
                                                        f"{folder}")
    return Check("widgets in JupyterLab", False,
                 f"JupyterLab here has no {WIDGETS_EXTENSION}: widgets would show as text. "
                 "Fix: `pip install 'jupyterlab_widgets>=3'` in this environment.")


def _lessons() -> Check:
    """The lessons `tutorial-kit lab` opens: a checkout's notebooks/ or the packaged copy."""
    try:
        from tutorial_kit.lab import lesson_source
    except ImportError as error:
        return Check("lessons", None, f"cannot tell: {error}")
    try:
        source = lesson_source()
    except (FileNotFoundError, OSError) as error:
        return Check("lessons", False, f"{error}. Fix: reinstall with "
                                       "`pip install --force-reinstall tutorial-kit`.")
    found = sorted(p.name for p in source.glob("[0-9][0-9]-*.ipynb"))
    if not found:
        return Check("lessons", False, f"no lesson notebooks in {source}")
    return Check("lessons", True, f"{len(found)} in {source} ({found[0]} … {found[-1]})")


def _workers(queue: Any) -> Check | None:
    """On a mock queue: are its simulated workers (built-in/*, the shell engine) running?
    Tasks on their queues would stay pending forever without them. None on a real deployment."""
    from tutorial_kit.connection import embedded_mock

    mock = embedded_mock()
    if mock is not None and mock.root_url.rstrip("/") == _root_url(queue):
        if getattr(mock, "cluster", None) is not None:
            queues = ", ".join(mock.cluster.task_queues)
            return Check("mock workers", True, f"running for {queues}")
        error = getattr(mock, "cluster_error", None)
        return Check("mock workers", False,
                     f"not started{f': {error}' if error else ''}; tasks will stay pending. "
                     "Fix: restart the kernel (tutorial_kit.connect() starts them).")
    from tutorial_kit.mockctl import MockControl

    control = MockControl(_root_url(queue))
    try:
        if not control.is_mock():
            return None
        response = control._http.get("/cluster")
    except Exception as error:
        return Check("mock workers", None, f"cannot tell: {str(error).splitlines()[0]}")
    finally:
        control.close()
    if response.status_code == 200:
        queues = ", ".join(response.json().get("taskQueues", []))
        return Check("mock workers", True, f"running for {queues}")
    return Check("mock workers", False,
                 "this mock queue runs without workers (started with --no-workers?): tasks "
                 "stay pending. Fix: restart it without --no-workers.")


def doctor(queue: Any = None) -> Report:
    """Check the environment; pass a Queue, or let it use :func:`tutorial_kit.connect`."""
    report = Report([_versions(), _widgets(), _lab_extension(), _lessons()])
    if queue is None:
        if not os.environ.get("TASKCLUSTER_ROOT_URL"):
            from tutorial_kit.connection import connect

            queue = connect(quiet=True)
        else:
            half = _half_set_credentials()
            if half is not None:
                report.append(half)
            queue = _env_queue()
    report.extend(_queue(queue))
    workers = _workers(queue)
    if workers is not None:
        report.append(workers)
    return report
