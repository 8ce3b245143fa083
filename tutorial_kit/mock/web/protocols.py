"""The HTTP/1.1 protocol the mock queue's uvicorn speaks: httptools where installed, else h11.

httptools (llhttp, node's own parser, so the real Queue's) parses about 1.5x as many requests a
second as the pure-Python h11; the package depends on it where it builds. Both refuse a request
they cannot parse (a method llhttp does not know, such as ``FOO``, a broken request line or
header) before the app sees it, and uvicorn then answers a plain-text 400. Here that refusal is
Taskcluster's error envelope instead (``InputError``, with the parser's reason), so a client
gets the same shape of error whichever parser runs and whatever it sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tutorial_kit.dates import to_json

from .envelope import Context, dump_json, error_body

if TYPE_CHECKING:
    from .app import QueueApp

__all__ = ["http_protocol"]


def _refusal(app: QueueApp, reason: str) -> bytes:
    """The JSON body of a 400 for a request the parser refused."""
    message = ("The request is not valid HTTP/1.1 and was not read: "
               f"{reason.rstrip('.')}.")
    return dump_json(error_body("InputError", message, 400, Context(),
                                to_json(app.services.now())))


def _send_refusal(protocol: Any, reason: str) -> None:
    body = _refusal(protocol.config.app, reason)
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    for name, value in protocol.server_state.default_headers:
        head.append(name + b": " + value + b"\r\n")
    head.append(b"content-type: application/json; charset=utf-8\r\n")
    head.append(b"content-length: " + str(len(body)).encode("ascii") + b"\r\n")
    head.append(b"connection: close\r\n\r\n")
    protocol.transport.write(b"".join(head) + body)
    protocol.transport.close()


def http_protocol(kind: str = "auto") -> type:
    """uvicorn's protocol class for ``kind`` ("auto": httptools if importable, else h11) that
    answers unparseable requests with Taskcluster's error envelope."""
    if kind not in ("auto", "httptools", "h11"):
        raise ValueError(f"unknown HTTP implementation {kind!r} (auto, httptools or h11)")
    base: type | None = None
    if kind in ("auto", "httptools"):
        try:
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        except ImportError:
            if kind == "httptools":
                raise
        else:
            base = HttpToolsProtocol
    if base is None:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    return _CLASSES.get(base) or _CLASSES.setdefault(base, type(
        f"Queue{base.__name__}", (base,),
        {"send_400_response": _send_refusal, "__doc__": f"{base.__name__} with JSON refusals"}))


_CLASSES: dict[type, type] = {}
