"""The HTTP transports every client shares: small requests go out at once, TLS set up once."""

from __future__ import annotations

import functools
import socket
import ssl

import httpx

#: Without TCP_NODELAY a request body written after its headers waits for the server's delayed
#: ACK (about 40 ms on Linux) on a kept-alive connection.
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """One TLS context for the process: building one costs tens of milliseconds."""
    return httpx.create_ssl_context()


def sync_transport() -> httpx.HTTPTransport:
    return httpx.HTTPTransport(socket_options=NODELAY, verify=ssl_context())


def async_transport() -> httpx.AsyncHTTPTransport:
    return httpx.AsyncHTTPTransport(socket_options=NODELAY, verify=ssl_context())
