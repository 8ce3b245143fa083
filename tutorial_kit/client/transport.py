"""The HTTP transports every client shares: small requests go out at once, TLS set up once
(``tls.ssl_context()``, whose certificates load on the first handshake)."""

from __future__ import annotations

import socket

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
