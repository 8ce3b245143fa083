"""How the widgets talk to a deployment beyond the Queue's own methods.

Queue calls go through :mod:`tutorial_kit.drive` (either client flavour); which deployment and
whether it is the mock come from :mod:`tutorial_kit.mockctl`. Here: plain GETs that are not Queue
methods (schemas) through :func:`get_json`, and one readable line for any error.
"""

from __future__ import annotations

from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.client.transport import shared_client
from tutorial_kit.drive import AsyncInLoopError, acall, call
from tutorial_kit.mockctl import is_mock, root_url_of

__all__ = ["AsyncInLoopError", "acall", "call", "describe_error", "get_json", "is_mock",
           "root_url_of"]


def get_json(url: str, *, timeout: float = 10.0) -> Any:
    """GET a JSON document (raises ``httpx.HTTPError`` or ``ValueError``)."""
    response = shared_client().get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


def describe_error(error: BaseException) -> str:
    """One readable line for an error, whichever layer raised it."""
    code = getattr(error, "code", None)
    if code and hasattr(error, "status_code"):
        return str(error)
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code} from {error.request.url}"
    if isinstance(error, httpx.HTTPError):
        return f"{type(error).__name__}: {error or 'no answer'}"
    return f"{type(error).__name__}: {error}"
