"""The task inspector: static pages at the paths of a deployment's UI, and the links to them.

A real Taskcluster deployment serves its UI beside its APIs: a task's page is
``<rootUrl>/tasks/<taskId>``, a task group's ``<rootUrl>/tasks/groups/<taskGroupId>``. The mock
serves its own small pages at the same paths (``routes.py``), so a link printed by a lesson works
on both. The pages are plain HTML, CSS and JavaScript (``static/``) that read the public Queue
API only; the classroom dashboard (``dashboard.py``) is the one mock-only page.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

__all__ = ["inspector_url", "group_url", "index_url", "inspector_link"]


def _root(root_url: str) -> str:
    if not isinstance(root_url, str) or not root_url:
        raise ValueError("a rootUrl (e.g. http://127.0.0.1:8080) is needed to link to a task")
    return root_url.rstrip("/")


def inspector_url(root_url: str, task_id: str) -> str:
    """The page of task ``task_id``: the mock's inspector, or a deployment's own UI."""
    return f"{_root(root_url)}/tasks/{quote(task_id, safe='')}"


def group_url(root_url: str, task_group_id: str) -> str:
    """The page of task group ``task_group_id``."""
    return f"{_root(root_url)}/tasks/groups/{quote(task_group_id, safe='')}"


def index_url(root_url: str) -> str:
    """The inspector's start page: open a task or group, see the tasks seen recently."""
    return f"{_root(root_url)}/tasks/"


def inspector_link(queue: Any, task_id: str, text: str = "open in inspector") -> str:
    """An HTML link to the task's page, for a widget (``queue``: a client, or a rootUrl).

    Empty when no rootUrl is known, so a widget never fails over a decoration. The link opens
    in a new tab: on the mock its inspector, on a real deployment the deployment's own UI.
    """
    if isinstance(queue, str):
        root = queue
    else:
        from tutorial_kit.mockctl import root_url_of  # mockctl costs httpx: only widgets link

        try:
            try:
                root = root_url_of(queue)
            except TypeError:  # a client we can't read: the deployment the environment names
                root = root_url_of(None)
        except ValueError:
            return ""
    try:
        url = inspector_url(root, task_id)
    except ValueError:
        return ""
    # JupyterLab strips links of their colour and underline; the theme's link colour brings
    # them back (inline, so the widgets' stylesheet need not know about this link).
    return (f'<a class="tk-inspector-link" href="{html.escape(url, quote=True)}" '
            'style="color: var(--jp-content-link-color, #1976d2); text-decoration: underline" '
            f'target="_blank" rel="noopener noreferrer">{html.escape(text)}</a>')
