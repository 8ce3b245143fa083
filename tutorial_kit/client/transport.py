"""The HTTP transports every client shares: small requests go out at once, TLS set up once
(``tls.ssl_context()``, whose certificates load on the first handshake)."""

from __future__ import annotations

import socket
import threading
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from .tls import ssl_context

#: Without TCP_NODELAY a request body written after its headers waits for the server's delayed
#: ACK (about 40 ms on Linux) on a kept-alive connection.
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


#: Hosts answered in this process, not over the network: an in-process mock queue
#: (``tutorial_kit.mock.inprocess``) registers ``host -> (sync, async transport)`` here, so every
#: client of the package (Queue, MockControl, widgets, the mock's own workers) reaches it by its
#: rootUrl alone.
IN_PROCESS: dict[str, tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]] = {}


class _Transport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        routed = IN_PROCESS.get(request.url.host) if IN_PROCESS else None
        if routed is not None:
            return routed[0].handle_request(request)
        return super().handle_request(request)


class _AsyncTransport(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        routed = IN_PROCESS.get(request.url.host) if IN_PROCESS else None
        if routed is not None:
            return await routed[1].handle_async_request(request)
        return await super().handle_async_request(request)


def sync_transport() -> httpx.HTTPTransport:
    return _Transport(socket_options=NODELAY, verify=ssl_context())


def async_transport() -> httpx.AsyncHTTPTransport:
    return _AsyncTransport(socket_options=NODELAY, verify=ssl_context())


def http_client(**options: Any) -> httpx.Client:
    """A plain ``httpx.Client`` (not a Queue client) on the package's transport, which also
    reaches an in-process mock by its rootUrl, and the process's one TLS context (also what
    proxy transports from the environment are given)."""
    return httpx.Client(transport=sync_transport(), verify=ssl_context(), **options)


_shared: httpx.Client | None = None
_shared_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """The process's one pooled plain client (redirects followed), for the package's own
    small GETs: mock detection, the widgets' documents. A client per GET would open a new
    connection each time, which costs more than the GET itself."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = http_client(follow_redirects=True)
        return _shared
