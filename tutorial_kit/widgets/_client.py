"""How the widgets talk to a deployment: through the Queue client, sync or async alike.

Widgets accept either ``tutorial_kit.Queue`` or ``tutorial_kit.AsyncQueue`` (or any object with
the same method names). :func:`call` runs a method from synchronous code, :func:`acall` from a
coroutine without blocking the event loop. Plain GETs that are not Queue methods (schemas, the
mock's control plane) go through :func:`get_json` on the same rootUrl.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from typing import Any

import httpx

from tutorial_kit.client.transport import sync_transport

_local = threading.local()


def root_url_of(queue: Any = None, root_url: str | None = None) -> str:
    """The rootUrl in use: explicit, else the client's, else ``TASKCLUSTER_ROOT_URL``."""
    if root_url:
        return str(root_url).rstrip("/")
    if queue is not None:
        options = getattr(queue, "options", None)
        if isinstance(options, dict) and options.get("rootUrl"):
            return str(options["rootUrl"]).rstrip("/")
        for name in ("root_url", "rootUrl"):
            value = getattr(queue, name, None)
            if isinstance(value, str) and value:
                return value.rstrip("/")
    env = os.environ.get("TASKCLUSTER_ROOT_URL")
    if env:
        return env.rstrip("/")
    raise ValueError("no rootUrl: pass root_url=..., a Queue client, or set TASKCLUSTER_ROOT_URL")


def _thread_loop() -> asyncio.AbstractEventLoop:
    """A private event loop for this thread, to drive an AsyncQueue from sync code."""
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


class AsyncInLoopError(RuntimeError):
    """A blocking call was asked of an AsyncQueue from inside a running event loop."""


def call(queue: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a Queue method from synchronous code, whichever client flavour ``queue`` is."""
    result = getattr(queue, method)(*args, **kwargs)
    if inspect.isawaitable(result):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _thread_loop().run_until_complete(result)
        if hasattr(result, "close"):
            result.close()  # never awaited; avoid the "coroutine was never awaited" warning
        raise AsyncInLoopError(
            "this is an AsyncQueue inside a running event loop: use the async form "
            "(e.g. `await widget.until_resolved()`) instead of the blocking one")
    return result


async def acall(queue: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a Queue method from a coroutine; a sync client runs in a worker thread."""
    fn = getattr(queue, method)
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await asyncio.to_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


_http: httpx.Client | None = None
_http_lock = threading.Lock()


def _plain_client() -> httpx.Client:
    """One pooled client for the plain GETs (a new client per GET builds a TLS context and a
    connection each time: about 20 ms, more than the GET itself)."""
    global _http
    with _http_lock:
        if _http is None:
            _http = httpx.Client(transport=sync_transport(), follow_redirects=True)
        return _http


def get_json(url: str, *, timeout: float = 10.0) -> Any:
    """GET a JSON document (raises ``httpx.HTTPError`` or ``ValueError``)."""
    response = _plain_client().get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


_mock_cache: dict[str, bool] = {}


def is_mock(root_url: str) -> bool:
    """True when ``root_url`` is a tutorial-kit mock queue (its ``/mock/v1/clock`` answers 200)."""
    root_url = root_url.rstrip("/")
    if root_url not in _mock_cache:
        try:
            response = _plain_client().get(f"{root_url}/mock/v1/clock", timeout=5.0)
            _mock_cache[root_url] = response.status_code == 200
        except httpx.HTTPError:
            return False  # not cached: the service may simply not be up yet
    return _mock_cache[root_url]


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
